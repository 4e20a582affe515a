/** Read a page: `GET /v1/domains/bench.example/aliases?limit=50` (50 aliases). */
import { authHeaders, type Scenario, sample } from "../fixture.ts";

/** The "list aliases" scenario. */
export const scenario: Scenario = {
  name: "list 50 aliases",
  kind: "read",
  description: "GET a page of 50 aliases (cursor pagination)",
  load: (f) => ({
    headers: authHeaders(f),
    requests: [{ method: "GET", path: `/v1/domains/${f.domain}/aliases?limit=50` }],
  }),
  async bare(f) {
    const body = await sample(f, "GET", `/v1/domains/${f.domain}/aliases?limit=50`);
    return {
      routes: [{ method: "GET", url: "/v1/domains/:domain/aliases", body }],
      load: { headers: {}, requests: [{ method: "GET", path: `/v1/domains/${f.domain}/aliases?limit=50` }] },
    };
  },
};
