/** Password policies (a singleton per scope): `/v1/password-policy` and `/v1/domains/:domain/password-policy`. */
import type { FastifyInstance } from "fastify";
import { defaultPasswordPolicy, type KindDescriptor, passwordPolicyKind } from "../../../sdk/src/index.ts";
import { registerKind } from "../tenancy/object-lifecycle.ts";

/**
 * The PasswordPolicy route plugin: GET answers the defaults until set, PUT sets, DELETE resets.
 * Users' passwords are checked against the domain's policy, else the account's (routes/users.ts).
 *
 * @example app.register(passwordPolicyRoutes)
 */
export async function passwordPolicyRoutes(app: FastifyInstance): Promise<void> {
  registerKind(app, {
    kind: passwordPolicyKind as unknown as KindDescriptor,
    keyFromParams: (p) => ({ scope: p.domain ?? "account" }),
    defaults: (scope) => defaultPasswordPolicy(scope),
  });
}
