/** Users: `/v1/domains/:domain/users[/:user]`. Passwords are policy-checked, argon2id-hashed and never returned. */
import type { FastifyInstance } from "fastify";
import {
  checkPassword,
  defaultPasswordPolicy,
  type KindDescriptor,
  type PasswordPolicySpec,
  userKind,
} from "../../../sdk/src/index.ts";
import type { CredentialInput, CredentialRecord } from "../../store/contract/credential-store.ts";
import { DEPARTED_KIND, type StoredObject } from "../../store/contract/object-store.ts";
import type { Store } from "../../store/store.ts";
import type { ApiServices } from "../lib/services.ts";
import { registerKind, type WriteHookInput, type WriteHookResult } from "../lib/tenancy.ts";
import { hashPassword, verifyPassword } from "../passwords.ts";
import { fieldError, problem } from "../problem.ts";

/** How much history the store keeps: the policy schema's maxima (24 passwords, 730 days). */
const HISTORY_KEEP = { count: 24, days: 730 };
/** At most this many old hashes are checked per change (argon2id costs ~25 ms each). */
const MAX_REUSE_CHECKS = 48;

/**
 * The policy that governs a user's password: the domain's, else the account's, else none (the
 * platform's base rule applies).
 */
export async function effectivePasswordPolicy(
  store: Store,
  accountId: string,
  domain: string,
): Promise<PasswordPolicySpec | null> {
  const own = await store.getObject(accountId, "PasswordPolicy", `${domain}/password-policy`);
  const account = own ?? (await store.getObject(accountId, "PasswordPolicy", "account/password-policy"));
  return account ? (account.spec as unknown as PasswordPolicySpec) : null;
}

/** 422 MP_PASSWORD_POLICY_VIOLATION with one field error per broken rule; the detail quotes the first. */
function policyViolation(broken: readonly { rule: string; message: string }[]) {
  const rules = broken.map((b) => b.rule).join(", ");
  return problem(
    "MP_PASSWORD_POLICY_VIOLATION",
    `password breaks the ${rules} rule${broken.length > 1 ? "s" : ""}: ${broken[0]?.message}`,
    { errors: broken.map((b) => fieldError(["password"], b.rule, b.message)) },
  );
}

/** What {@link passwordCredential} needs to know of a user and its scope. */
export interface PasswordChange {
  accountId: string;
  /** The user's address. */
  id: string;
  password: string;
  /** The policy in force for the user (null: the platform's base rule). */
  policy: PasswordPolicySpec | null;
  /** The user's current credential, if it has one. */
  credential: CredentialRecord | undefined;
  /** false: check the password but skip the hash (a plan writes nothing). Default true. */
  hash?: boolean;
}

/**
 * The credential a password sets: undefined when it equals the current one (so re-sending an unchanged
 * declaration never trips the policy, and nothing is hashed); otherwise the policy (or the base rule)
 * and the reuse history must accept it before it is hashed (argon2id runs on libuv's thread pool, off
 * the event loop). Throws 422 MP_PASSWORD_POLICY_VIOLATION naming every broken rule. Never logs or
 * stores the password itself.
 *
 * @example const credential = await passwordCredential(services, { accountId, id, password, policy, credential: undefined });
 */
export async function passwordCredential(
  services: ApiServices,
  change: PasswordChange,
): Promise<CredentialInput | undefined> {
  const { credential, password, policy } = change;
  if (credential && (await verifyPassword(password, credential.hash))) return undefined;
  const broken = checkPassword(policy, password, change.id);
  if (broken.length > 0) throw policyViolation(broken);
  // Without a policy the platform defaults apply to reuse too (last 4, one year).
  const reuse = policy?.reuse ?? defaultPasswordPolicy("account").reuse;
  if (credential && (reuse.lastN > 0 || reuse.withinDays > 0)) {
    const cutoff = new Date(services.now().getTime() - reuse.withinDays * 86_400_000).toISOString();
    const candidates = credential.history
      .filter((h, i) => i < reuse.lastN || h.setAt >= cutoff)
      .slice(0, MAX_REUSE_CHECKS);
    for (const old of candidates) {
      if (await verifyPassword(password, old.hash)) {
        throw policyViolation([
          {
            rule: "reuse",
            message: `must differ from the last ${reuse.lastN} passwords and those used in the last ${reuse.withinDays} days`,
          },
        ]);
      }
    }
  }
  const hash = change.hash === false ? "" : await hashPassword(password, services.argon2);
  return { hash, keep: HISTORY_KEEP };
}

/**
 * Decides what a user write does with the password: nothing when absent (an update keeps the current
 * one) or equal to the current one; otherwise {@link passwordCredential} checks and hashes it.
 */
export async function beforeUserWrite(input: WriteHookInput): Promise<WriteHookResult> {
  const { services, accountId, id, domain, current } = input;
  const { password, ...spec } = input.spec as { password?: string } & Record<string, unknown>;
  const enabled = spec.enabled !== false;
  if (password === undefined) {
    if (!current) {
      throw problem("MP_VALIDATION_FAILED", "password: is required to create a user", {
        errors: [fieldError(["password"], "invalid_type", "is required to create a user")],
      });
    }
    return { spec, enabled };
  }
  const credential = current ? await services.store.getCredential(id, accountId) : undefined;
  const policy = await effectivePasswordPolicy(services.store, accountId, domain ?? "");
  const set = await passwordCredential(services, { accountId, id, password, policy, credential });
  return set ? { spec, enabled, credential: set } : { spec, enabled };
}

/**
 * The mail-robot option: a deleted user's future mail goes to its `forwardOnDelete` (a DepartedAddress
 * written in the delete's transaction); undefined for other objects and users without one.
 * @example store.deleteObject({ …, successor: userSuccessor }, ctx)
 */
export function userSuccessor(
  deleted: StoredObject,
): { kind: string; id: string; domain: string; spec: Record<string, unknown> } | undefined {
  const to =
    deleted.kind === "User" ? (deleted.spec as { forwardOnDelete?: string | null }).forwardOnDelete : null;
  return to
    ? {
        kind: DEPARTED_KIND,
        id: deleted.id,
        domain: deleted.domain ?? "",
        spec: { address: deleted.id, forwardTo: to },
      }
    : undefined;
}

/**
 * The User route plugin. `{ "enabled": false }` disables a user; deleting an enabled user is
 * 409 MP_USER_ENABLED.
 *
 * @example app.register(userRoutes)
 */
export async function userRoutes(app: FastifyInstance): Promise<void> {
  registerKind(app, {
    kind: userKind as unknown as KindDescriptor,
    keyFromParams: (p) => ({ address: p.user }),
    render: (o, base) => ({ ...base, domain: o.domain, passwordChangedAt: o.secretSetAt }),
    beforeWrite: beforeUserWrite,
    deleteOptions: {
      // The mail-robot option: the deleted user's future mail goes to `forwardOnDelete`.
      successor: userSuccessor,
      guard: (current) =>
        current.enabled
          ? problem(
              "MP_USER_ENABLED",
              `user ${current.id} is enabled; disable it first ({ "enabled": false })`,
            )
          : undefined,
    },
  });
}
