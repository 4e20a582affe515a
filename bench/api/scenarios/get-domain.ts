/** Read a domain with its server-computed DNS records: `GET /v1/domains/bench.example`. */
import { authHeaders, type Scenario, sample } from "../fixture.ts";

/** The "get domain" scenario. */
export const scenario: Scenario = {
  name: "get domain",
  kind: "read",
  description: "GET a domain (8 DNS records computed per request)",
  load: (f) => ({ headers: authHeaders(f), requests: [{ method: "GET", path: `/v1/domains/${f.domain}` }] }),
  async bare(f) {
    const body = await sample(f, "GET", `/v1/domains/${f.domain}`);
    return {
      routes: [{ method: "GET", url: "/v1/domains/:domain", body }],
      load: { headers: {}, requests: [{ method: "GET", path: `/v1/domains/${f.domain}` }] },
    };
  },
};
