/** The Alias resource: an address that forwards to a list, rejects with a custom text or auto-replies. */
import type * as pulumi from "@pulumi/pulumi";
import type { Alias as AliasObject, AliasSpecInput } from "../../../sdk/src/models/alias.ts";
import { aliasKind } from "../../../sdk/src/models/kinds.ts";
import { objectApi } from "../lib/api.ts";
import { defineProvider } from "../lib/lifecycle.ts";
import {
  type Arg,
  type CommonArgs,
  MailplaneResource,
  resourceOptions,
  resourceProps,
} from "../lib/resource.ts";

/** The inputs of a {@link Alias}; types and rules come from the model (`AliasSpec`). */
export interface AliasArgs extends CommonArgs {
  /** The alias address (key), e.g. `info@example.com`; `*@example.com` is the domain's catch-all. */
  address: Arg<AliasSpecInput["address"]>;
  /** What the alias does with a message: `forward`, `reject` or `autoReply` (by `type`). */
  action: Arg<AliasSpecInput["action"]>;
}

/**
 * An alias address: forward to a distribution list, reject with a custom text ("Joe no longer works
 * here") or answer automatically. An alias is not a login; `*@example.com` is the domain's
 * catch-all. Forwarding to itself is a loop and fails at preview.
 *
 * Key: `address` — changing it replaces the alias. The resource ID is the address.
 *
 * @example
 * ```ts
 * new mailplane.Alias("sales", {
 *   address: "sales@example.com",
 *   action: { type: "forward", to: [alice.address, "ken@example.com"] },
 * });
 * new mailplane.Alias("joe", {
 *   address: "joe@example.com",
 *   action: { type: "reject", message: "Joe no longer works here" },
 * });
 * ```
 */
export class Alias extends MailplaneResource {
  /** The alias address (key), e.g. `info@example.com`; `*@example.com` is the domain's catch-all. */
  declare readonly address: pulumi.Output<AliasObject["address"]>;
  /** What the alias does with a message: `forward`, `reject` or `autoReply` (by `type`). */
  declare readonly action: pulumi.Output<AliasObject["action"]>;
  /** Opaque version tag; send it back in `If-Match` to update or delete only the version you read. */
  declare readonly etag: pulumi.Output<AliasObject["etag"]>;
  /** When the object was created. */
  declare readonly createdAt: pulumi.Output<AliasObject["createdAt"]>;
  /** When the object last changed. */
  declare readonly updatedAt: pulumi.Output<AliasObject["updatedAt"]>;
  /** The domain the alias belongs to (the address's domain). */
  declare readonly domain: pulumi.Output<AliasObject["domain"]>;

  constructor(name: string, args: AliasArgs, opts?: pulumi.CustomResourceOptions) {
    super("Alias", name, resourceProps(aliasKind, args), resourceOptions(aliasKind, opts));
  }
}

/** What the runtime runs for a {@link Alias}: check, diff, create, read, update, delete. */
export const aliasProvider = defineProvider(aliasKind, objectApi);
