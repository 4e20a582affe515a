/** The live tenancy for the simulation, read through the control plane's API (the SDK) as `mailplane import` reads it. */
import type { MailplaneClient } from "../../sdk/src/client/client.ts";
import { readTenant } from "../import/read-tenant.ts";
import type { SimulatedTenancy } from "./simulate.ts";

/**
 * Reads the token's tenant (every domain, its routes, aliases, sender lists, users and singletons)
 * and which of each domain's names are verified: the engine hosts only those.
 *
 * @param trustAllDomains treat every name as verified, as a platform run with `--trust-all-domains` does; default false
 * @throws the API's MailplaneError (match on `code`) for 401, 403, …
 * @example const live = await readLiveTenancy(client);
 */
export async function readLiveTenancy(
  client: MailplaneClient,
  trustAllDomains = false,
): Promise<SimulatedTenancy> {
  const { account, manifest } = await readTenant(client);
  if (trustAllDomains) return { account: account ?? "", manifest, verified: "all" };
  const verified = new Map<string, string[]>();
  let cursor: string | undefined;
  do {
    const page = await client.domains.list({ limit: 500, ...(cursor ? { cursor } : {}) });
    for (const d of page.items) {
      verified.set(
        d.name,
        (d.verification ?? []).flatMap((v) => (v.status === "verified" ? [v.name] : [])),
      );
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return { account: account ?? "", manifest, verified };
}
