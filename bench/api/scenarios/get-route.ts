/** Read one object: `GET /v1/domains/bench.example/routes/mx<i>.bench.example:25`, over 200 routes. */
import { authHeaders, type Scenario, sample } from "../fixture.ts";

/** The "get route" scenario. */
export const scenario: Scenario = {
  name: "get route",
  kind: "read",
  description: "GET one route (auth, store read, render, ETag)",
  load: (f) => ({
    headers: authHeaders(f),
    requests: Array.from({ length: f.routes }, (_, i) => ({
      method: "GET",
      path: `/v1/domains/${f.domain}/routes/mx${i}.bench.example:25`,
    })),
  }),
  async bare(f) {
    const body = await sample(f, "GET", `/v1/domains/${f.domain}/routes/mx0.bench.example:25`);
    return {
      routes: [{ method: "GET", url: "/v1/domains/:domain/routes/:route", body }],
      load: {
        headers: {},
        requests: [{ method: "GET", path: `/v1/domains/${f.domain}/routes/mx0.bench.example:25` }],
      },
    };
  },
};
