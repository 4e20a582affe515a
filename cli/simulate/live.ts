/** The live tenancy for the simulation, read through the control plane's API (the SDK) as `mailplane import` reads it. */
import type { MailplaneClient } from "../../sdk/src/client/client.ts";
import { readTenant } from "../import/read-tenant.ts";
import type { SimulatedTenancy } from "./simulate.ts";

/**
 * Reads the token's tenant (every domain, its routes, aliases, sender lists, users and singletons),
 * which of each domain's names are verified (the engine hosts only those), and the account's contact
 * (reserved addresses) when the token may read the account.
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
  const contact = account === null ? undefined : await accountContact(client, account);
  const known = contact === undefined ? {} : { contact };
  if (trustAllDomains) return { account: account ?? "", manifest, verified: "all", ...known };
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
  return { account: account ?? "", manifest, verified, ...known };
}

/** The account's contact; undefined when the token may not read accounts (only platform admins may). */
async function accountContact(client: MailplaneClient, account: string): Promise<string | null | undefined> {
  try {
    return (await client.accounts.get(account)).contact ?? null;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "MP_FORBIDDEN" || code === "MP_NOT_FOUND") return undefined;
    throw err;
  }
}
