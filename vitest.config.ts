/** Three tiers: unit is pure, integration talks to real servers, e2e drives the real Pulumi CLI. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // The randomised equivalence and power-loss tests take seconds; the suite shares two cores with
          // the integration tier, so the limit is a hang guard, not a speed check.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/postgres-global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // Each file drives the Pulumi engine; two cores run two at a time.
          maxWorkers: 2,
        },
      },
    ],
  },
});
