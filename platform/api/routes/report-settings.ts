/** Report settings (a singleton per scope): `/v1/report-settings` and `/v1/domains/:domain/report-settings`. */
import type { FastifyInstance } from "fastify";
import {
  defaultReportSettings,
  type KindDescriptor,
  reportSettingsKind,
  validationErrorFromFields,
} from "../../../sdk/src/index.ts";
import type { Store } from "../../store/store.ts";
import { fieldError } from "../http/problem.ts";
import { registerKind, type WriteHookInput, type WriteHookResult } from "../tenancy/object-lifecycle.ts";

/**
 * True when a domain has a catch-all: `Domain.catchAll` set, or a `*@domain` alias among `aliases`.
 * @example hasCatchAll({ name: "example.com", catchAll: null }, ["*@example.com"]) // true
 */
export function hasCatchAll(
  domain: { name?: unknown; catchAll?: unknown },
  aliases: Iterable<string>,
): boolean {
  if (typeof domain.catchAll === "string" && domain.catchAll !== "") return true;
  const star = `*@${String(domain.name)}`;
  for (const a of aliases) if (a === star) return true;
  return false;
}

/** The refusal of auto-activated digests for a domain with a catch-all (422 on `userReportAutoActivate`). */
export function catchAllRefusal(domain: string) {
  return validationErrorFromFields([
    fieldError(
      ["userReportAutoActivate"],
      "custom",
      `cannot be on while ${domain} has a catch-all (Domain.catchAll or a *@${domain} alias): mail to made-up addresses would make digests for them; list the users in userReportRecipients instead`,
    ),
  ]);
}

/** The account's domains that have a catch-all, as the store holds them now. */
async function domainsWithCatchAll(store: Store, accountId: string, only?: string): Promise<string[]> {
  const domains = only
    ? [await store.getObject(accountId, "Domain", only)].filter((d) => d !== undefined)
    : await listAll(store, accountId, "Domain");
  const found: string[] = [];
  for (const d of domains) {
    const star = await store.getObject(accountId, "Alias", `*@${d.id}`);
    if (hasCatchAll(d.spec, star ? [star.id] : [])) found.push(d.id);
  }
  return found;
}

async function listAll(store: Store, accountId: string, kind: string) {
  const items = [];
  let cursor: string | undefined;
  do {
    const page = await store.listObjects({ accountId, kind, limit: 500, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

/**
 * Refuses `userReportAutoActivate` for a domain with a catch-all (for the account default: while any
 * of the account's domains has one), naming the field.
 * @throws MailplaneError MP_VALIDATION_FAILED
 */
export async function checkCatchAllRule(input: WriteHookInput): Promise<WriteHookResult> {
  if (input.spec["userReportAutoActivate"] === true) {
    const scope = String(input.spec["scope"]);
    const found = await domainsWithCatchAll(
      input.services.store,
      input.accountId,
      scope === "account" ? undefined : scope,
    );
    if (found.length > 0) throw catchAllRefusal(found[0]!);
  }
  return { spec: input.spec };
}

/**
 * The ReportSettings route plugin: GET answers the defaults (nothing sent) until set, PUT sets,
 * DELETE resets; auto-activated digests are refused while the domain has a catch-all.
 *
 * @example app.register(reportSettingsRoutes)
 */
export async function reportSettingsRoutes(app: FastifyInstance): Promise<void> {
  registerKind(app, {
    kind: reportSettingsKind as unknown as KindDescriptor,
    keyFromParams: (p) => ({ scope: p.domain ?? "account" }),
    defaults: (scope) => defaultReportSettings(scope),
    beforeWrite: checkCatchAllRule,
  });
}
