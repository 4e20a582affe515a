/** The AccessRule resource: which networks may sign in to SMTP submission or the API, per account, domain or user. */
import type * as pulumi from "@pulumi/pulumi";
import type {
  AccessRule as AccessRuleObject,
  AccessRuleSpecInput,
} from "../../../sdk/src/models/access-rule.ts";
import { accessRuleKind } from "../../../sdk/src/models/kinds.ts";
import { objectApi } from "../lib/api.ts";
import { defineProvider } from "../lib/lifecycle.ts";
import {
  type Arg,
  type CommonArgs,
  MailplaneResource,
  resourceOptions,
  resourceProps,
} from "../lib/resource.ts";

/** The inputs of an {@link AccessRule}; types and rules come from the model (`AccessRuleSpec`). */
export interface AccessRuleArgs extends CommonArgs {
  /** Who the rule applies to (key): `account` (every user of the account), a domain (its users) or one user's address. The most specific scope with a rule for the service decides. */
  scope: Arg<AccessRuleSpecInput["scope"]>;
  /** The service guarded (key): `smtp-submission` (SMTP AUTH on the submission listener) or `api` (user sign-in, `POST /v1/sessions`, and application passwords used as API bearers). */
  service: Arg<AccessRuleSpecInput["service"]>;
  /** When non-empty, only clients in these networks may sign in; empty allows every network not denied. Sorted, once each. Default empty. */
  allow?: Arg<AccessRuleSpecInput["allow"]>;
  /** Clients in these networks may not sign in, even when also allowed (deny wins). Sorted, once each. Default empty. */
  deny?: Arg<AccessRuleSpecInput["deny"]>;
}

/**
 * An access rule: which networks may sign in to a service as the account's users, a domain's users or
 * one user. The most specific scope with a rule for the service decides (user, then domain, then
 * account); within it deny wins over allow, and a non-empty allow list admits only its networks. No
 * rule: every network may sign in. SMTP AUTH refuses with 535 5.7.8, the API with 403 MP_ACCESS_DENIED.
 *
 * Key: `scope` and `service` — changing either replaces the rule. The resource ID is `scope/service`.
 *
 * @example
 * ```ts
 * new mailplane.AccessRule("office-only", {
 *   scope: "example.com",
 *   service: "smtp-submission",
 *   allow: ["192.0.2.0/24", "2001:db8::/32"],
 * });
 * ```
 */
export class AccessRule extends MailplaneResource {
  /** Who the rule applies to (key). */
  declare readonly scope: pulumi.Output<AccessRuleObject["scope"]>;
  /** The service guarded (key). */
  declare readonly service: pulumi.Output<AccessRuleObject["service"]>;
  /** The networks allowed; empty allows every network not denied. */
  declare readonly allow: pulumi.Output<AccessRuleObject["allow"]>;
  /** The networks denied. */
  declare readonly deny: pulumi.Output<AccessRuleObject["deny"]>;
  /** Opaque version tag; send it back in `If-Match` to update or delete only the version you read. */
  declare readonly etag: pulumi.Output<AccessRuleObject["etag"]>;
  /** When the object was created. */
  declare readonly createdAt: pulumi.Output<AccessRuleObject["createdAt"]>;
  /** When the object last changed. */
  declare readonly updatedAt: pulumi.Output<AccessRuleObject["updatedAt"]>;
  /** The domain of a domain or user scope; null for the account scope. */
  declare readonly domain: pulumi.Output<AccessRuleObject["domain"]>;

  constructor(name: string, args: AccessRuleArgs, opts?: pulumi.CustomResourceOptions) {
    super("AccessRule", name, resourceProps(accessRuleKind, args), resourceOptions(accessRuleKind, opts));
  }
}

/** What the runtime runs for an {@link AccessRule}: check, diff, create, read, update, delete. */
export const accessRuleProvider = defineProvider(accessRuleKind, objectApi);
