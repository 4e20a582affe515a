/** Write: `PUT` a route with a changed priority, round robin over 200 routes (every request commits). */
import { authHeaders, type Scenario, sample } from "../fixture.ts";

function body(domain: string, i: number, priority: number): string {
  return JSON.stringify({ domain, host: `mx${i}.bench.example`, port: 25, priority });
}

/** The "put route" scenario. */
export const scenario: Scenario = {
  name: "put route",
  kind: "write",
  description: "PUT a changed route (validation, one transaction with audit + change feed)",
  load: (f) => ({
    headers: authHeaders(f, true),
    // Two passes with different priorities, so consecutive visits to a route always change it.
    requests: [20, 30].flatMap((priority) =>
      Array.from({ length: f.routes }, (_, i) => ({
        method: "PUT",
        path: `/v1/domains/${f.domain}/routes/mx${i}.bench.example:25`,
        body: body(f.domain, i, priority),
      })),
    ),
  }),
  async bare(f) {
    const answer = await sample(f, "GET", `/v1/domains/${f.domain}/routes/mx0.bench.example:25`);
    return {
      routes: [{ method: "PUT", url: "/v1/domains/:domain/routes/:route", body: answer }],
      load: {
        headers: { "Content-Type": "application/json" },
        requests: [
          {
            method: "PUT",
            path: `/v1/domains/${f.domain}/routes/mx0.bench.example:25`,
            body: body(f.domain, 0, 20),
          },
        ],
      },
    };
  },
};
