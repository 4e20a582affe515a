/** The SenderList resource: a domain's allow or block list of senders or recipients. */
import type * as pulumi from "@pulumi/pulumi";
import { senderListKind } from "../../../sdk/src/models/kinds.ts";
import type {
  SenderList as SenderListObject,
  SenderListSpecInput,
} from "../../../sdk/src/models/sender-list.ts";
import { objectApi } from "../lib/api.ts";
import { defineProvider } from "../lib/lifecycle.ts";
import {
  type Arg,
  type CommonArgs,
  MailplaneResource,
  resourceOptions,
  resourceProps,
} from "../lib/resource.ts";

/** The inputs of a {@link SenderList}; types and rules come from the model (`SenderListSpec`). */
export interface SenderListArgs extends CommonArgs {
  /** The domain the list applies to (key). */
  domain: Arg<SenderListSpecInput["domain"]>;
  /** `allow`: all filtering skipped; `block`: rejected with 5xx, never quarantined (key). */
  kind: Arg<SenderListSpecInput["kind"]>;
  /** `sender`: match the envelope sender (MAIL FROM); `recipient`: match the recipient (key). */
  target: Arg<SenderListSpecInput["target"]>;
  /** Entries; stored as addresses or `*@domain`, sorted, once each. */
  entries?: Arg<SenderListSpecInput["entries"]>;
}

/**
 * A domain's allow or block list, matching senders (MAIL FROM) or recipients. An allow list skips
 * all filtering; a block list rejects with a 5xx and never quarantines. Entries are addresses,
 * whole domains (`example.org`, `@example.org`, `*@example.org`) or, on recipient lists, local
 * parts; they are normalised, sorted and de-duplicated, so order and case never show as a change.
 *
 * Key: `domain`, `kind` and `target`. The resource ID is `<domain>/sender-lists/<kind>-<target>`.
 *
 * @example
 * ```ts
 * new mailplane.SenderList("blocked", {
 *   domain: domain.name,
 *   kind: "block",
 *   target: "sender",
 *   entries: ["spam.example", "bob@example.net"],
 * });
 * ```
 */
export class SenderList extends MailplaneResource {
  /** The domain the list applies to (key). */
  declare readonly domain: pulumi.Output<SenderListObject["domain"]>;
  /** `allow`: all filtering skipped; `block`: rejected with 5xx, never quarantined (key). */
  declare readonly kind: pulumi.Output<SenderListObject["kind"]>;
  /** `sender`: match the envelope sender (MAIL FROM); `recipient`: match the recipient (key). */
  declare readonly target: pulumi.Output<SenderListObject["target"]>;
  /** Entries; stored as addresses or `*@domain`, sorted, once each. */
  declare readonly entries: pulumi.Output<SenderListObject["entries"]>;
  /** Opaque version tag; send it back in `If-Match` to update or delete only the version you read. */
  declare readonly etag: pulumi.Output<SenderListObject["etag"]>;
  /** When the object was created. */
  declare readonly createdAt: pulumi.Output<SenderListObject["createdAt"]>;
  /** When the object last changed. */
  declare readonly updatedAt: pulumi.Output<SenderListObject["updatedAt"]>;

  constructor(name: string, args: SenderListArgs, opts?: pulumi.CustomResourceOptions) {
    super("SenderList", name, resourceProps(senderListKind, args), resourceOptions(senderListKind, opts));
  }
}

/** What the runtime runs for a {@link SenderList}: check, diff, create, read, update, delete. */
export const senderListProvider = defineProvider(senderListKind, objectApi);
