/**
 * Account limits at preview: the platform refuses a create past `AccountSpec.limits` (409
 * MP_LIMIT_EXCEEDED), but by then part of the plan is applied. The checks of one preview run in one
 * provider process, so it counts the objects the plan creates per kind and fails the check of the
 * one that would pass the cap, before anything changes.
 */
import { ACCOUNT_LIMIT_KINDS } from "../../../sdk/src/models/account.ts";
import type { KindDescriptor } from "../../../sdk/src/models/kinds.ts";
import type { CheckFailure } from "./check.ts";
import type { ObjectApi } from "./lifecycle.ts";
import { containsUnknown } from "./unknown.ts";

type Plural = keyof typeof ACCOUNT_LIMIT_KINDS;
interface Standing {
  limits: Partial<Record<Plural, number | null>>;
  usage: Record<Plural, number>;
}

const pluralOf = new Map(
  Object.entries(ACCOUNT_LIMIT_KINDS).map(([plural, kind]) => [kind as string, plural as Plural]),
);
/**
 * Per connection (objectApi keeps one ObjectApi per endpoint, token and account): the account's
 * limits and usage, read once, and the IDs this process saw planned for creation, per kind (a set:
 * `up` checks each resource again).
 */
const plans = new WeakMap<
  ObjectApi,
  { standing: Promise<Standing | undefined>; planned: Map<Plural, Set<string>> }
>();

/**
 * The failure for a create of `kind` that would pass the account's limit, counting every create of
 * that kind this plan checked so far; undefined when within the limit, or when the limits cannot be
 * read (the platform still enforces them).
 * @example await plannedCreateFailure(userKind, { address: "cy@example.com" }, objectApi)
 */
export async function plannedCreateFailure(
  kind: KindDescriptor,
  inputs: Record<string, unknown>,
  api: () => Promise<ObjectApi>,
): Promise<CheckFailure | undefined> {
  const plural = pluralOf.get(kind.name);
  if (!plural || containsUnknown(inputs)) return undefined;
  const id = kind.id(inputs as never);
  const connection = await api().catch(() => undefined);
  if (!connection) return undefined;
  let plan = plans.get(connection);
  if (!plan) {
    const standing = connection
      .get("/v1/whoami", { quick: true })
      .then((me) => (me["limits"] ? (me as unknown as Standing) : undefined))
      .catch(() => undefined);
    plan = { standing, planned: new Map() };
    plans.set(connection, plan);
  }
  const now = await plan.standing;
  const limit = now?.limits[plural];
  if (!now || typeof limit !== "number") return undefined;
  const ids = plan.planned.get(plural) ?? new Set<string>();
  plan.planned.set(plural, ids);
  ids.add(id);
  if (now.usage[plural] + ids.size <= limit) return undefined;
  return {
    property: kind.keyFields[0] ?? "id",
    reason: `the account may hold at most ${limit} ${plural}; it holds ${now.usage[plural]} and this plan creates ${ids.size} (${[...ids].join(", ")}): ask the platform admin to raise limits.${plural}`,
  };
}
