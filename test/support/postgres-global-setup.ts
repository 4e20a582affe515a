/**
 * Vitest global setup for the integration tier: starts one throwaway PostgreSQL server and hands its
 * URL to the tests (`inject("postgresUrl")`). MAILPLANE_TEST_POSTGRES_URL points the tests at an
 * existing server instead.
 */
import type { TestProject } from "vitest/node";
import { startPostgres } from "./postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const given = process.env.MAILPLANE_TEST_POSTGRES_URL;
  if (given) {
    project.provide("postgresUrl", given);
    return;
  }
  const server = await startPostgres();
  project.provide("postgresUrl", server.url);
  return () => server.stop();
}
