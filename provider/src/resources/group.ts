/** The Group resource: a group address delivering to its members, with a rule for who may write to it. */
import type * as pulumi from "@pulumi/pulumi";
import type { Group as GroupObject, GroupSpecInput } from "../../../sdk/src/models/group.ts";
import { groupKind } from "../../../sdk/src/models/kinds.ts";
import { objectApi } from "../lib/api.ts";
import { defineProvider } from "../lib/lifecycle.ts";
import {
  type Arg,
  type CommonArgs,
  MailplaneResource,
  resourceOptions,
  resourceProps,
} from "../lib/resource.ts";

/** The inputs of a {@link Group}; types and rules come from the model (`GroupSpec`). */
export interface GroupArgs extends CommonArgs {
  /** The group address (key), e.g. `team@example.com`. */
  address: Arg<GroupSpecInput["address"]>;
  /** Display name of the group, e.g. `Team`. */
  name?: Arg<GroupSpecInput["name"]>;
  /** Member addresses; sorted, once each. */
  members: Arg<GroupSpecInput["members"]>;
  /** Who may send to the group: `anyone`, `members` (the envelope sender, or the logged-in user, is a member) or `domain` (an address of the group's domain or its domain aliases). Others get 550 5.7.1 at RCPT. Default `anyone`. */
  senders?: Arg<GroupSpecInput["senders"]>;
}

/**
 * A group: one address that delivers to every member (users of the domain, other groups or remote
 * addresses), with a rule for who may write to it — anyone, only members, or only addresses of the
 * group's domain; others get 550 5.7.1 at RCPT. A group listing itself fails at preview.
 *
 * Key: `address` — changing it replaces the group. The resource ID is the address.
 *
 * @example
 * ```ts
 * new mailplane.Group("team", {
 *   address: "team@example.com",
 *   members: [ana.address, "ben@example.com"],
 *   senders: "members",
 * });
 * ```
 */
export class Group extends MailplaneResource {
  /** The group address (key). */
  declare readonly address: pulumi.Output<GroupObject["address"]>;
  /** Display name. */
  declare readonly name: pulumi.Output<GroupObject["name"]>;
  /** Member addresses, sorted, once each. */
  declare readonly members: pulumi.Output<GroupObject["members"]>;
  /** Who may send to the group. */
  declare readonly senders: pulumi.Output<GroupObject["senders"]>;
  /** Opaque version tag; send it back in `If-Match` to update or delete only the version you read. */
  declare readonly etag: pulumi.Output<GroupObject["etag"]>;
  /** When the object was created. */
  declare readonly createdAt: pulumi.Output<GroupObject["createdAt"]>;
  /** When the object last changed. */
  declare readonly updatedAt: pulumi.Output<GroupObject["updatedAt"]>;
  /** The domain the group belongs to (the address's domain). */
  declare readonly domain: pulumi.Output<GroupObject["domain"]>;

  constructor(name: string, args: GroupArgs, opts?: pulumi.CustomResourceOptions) {
    super("Group", name, resourceProps(groupKind, args), resourceOptions(groupKind, opts));
  }
}

/** What the runtime runs for a {@link Group}: check, diff, create, read, update, delete. */
export const groupProvider = defineProvider(groupKind, objectApi);
