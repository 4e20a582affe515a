/** Write: `PATCH` a route's priority, round robin over 200 routes (read, merge, re-validate, conditional write). */
import { authHeaders, type Scenario, sample } from "../fixture.ts";

/** The "patch route" scenario. */
export const scenario: Scenario = {
  name: "patch route",
  kind: "write",
  description: "PATCH a route (read-merge-validate, conditional write, audit)",
  load: (f) => ({
    headers: authHeaders(f, true),
    requests: [40, 50].flatMap((priority) =>
      Array.from({ length: f.routes }, (_, i) => ({
        method: "PATCH",
        path: `/v1/domains/${f.domain}/routes/mx${i}.bench.example:25`,
        body: JSON.stringify({ priority }),
      })),
    ),
  }),
  async bare(f) {
    const answer = await sample(f, "GET", `/v1/domains/${f.domain}/routes/mx0.bench.example:25`);
    return {
      routes: [{ method: "PATCH", url: "/v1/domains/:domain/routes/:route", body: answer }],
      load: {
        headers: { "Content-Type": "application/json" },
        requests: [
          {
            method: "PATCH",
            path: `/v1/domains/${f.domain}/routes/mx0.bench.example:25`,
            body: '{"priority":40}',
          },
        ],
      },
    };
  },
};
