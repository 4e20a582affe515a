/** Access rules: `/v1/access-rules[/:scope/:service]` (which networks may sign in, per account, domain or user). */
import type { FastifyInstance } from "fastify";
import {
  type AccessRuleSpec,
  accessRuleDomain,
  accessRuleKind,
  type KindDescriptor,
} from "../../../sdk/src/index.ts";
import { problem } from "../http/problem.ts";
import { registerKind } from "../tenancy/object-lifecycle.ts";

/**
 * The AccessRule route plugin. Rules live at the account level (their path has no domain), so a
 * domain-admin token may read account-wide rules and those of its own domains and users, and is told
 * another domain's rule does not exist; writes are the account admin's (the auth hook answers 403).
 *
 * @example app.register(accessRuleRoutes)
 */
export async function accessRuleRoutes(app: FastifyInstance): Promise<void> {
  // Encapsulated by `register`: this hook runs for the access-rule routes only.
  app.addHook("preHandler", async (request) => {
    const domains = request.auth?.domains;
    const scope = (request.params as { scope?: string }).scope;
    if (!domains || scope === undefined) return;
    const parsed = accessRuleKind.spec.shape.scope.safeParse(scope);
    const domain = parsed.success ? accessRuleDomain({ scope: parsed.data }) : null;
    if (domain !== null && !domains.includes(domain)) {
      throw problem("MP_NOT_FOUND", `no AccessRule at ${request.url.split("?")[0]}`);
    }
  });
  registerKind(app, {
    kind: accessRuleKind as unknown as KindDescriptor,
    keyFromParams: (p) => ({ scope: p.scope, service: p.service }),
    render: (o, base) => ({ ...base, domain: accessRuleDomain(o.spec as unknown as AccessRuleSpec) }),
  });
}
