/** The Alias kind: an address that forwards to a list, rejects with a custom text or auto-replies. Not a login. */
import { z } from "zod";
import {
  address,
  isAddress,
  normaliseAddress,
  objectMeta,
  singleLine,
  sortedUnique,
  splitAddress,
  stringList,
} from "./common.ts";
import { patchOf } from "./patch.ts";

/** Forward to a distribution list. */
export const ForwardAction = z
  .strictObject({
    type: z.literal("forward").describe("Forward every message to `to`."),
    to: stringList(
      address("A destination address."),
      "Destination addresses (a distribution list); sorted, once each.",
    )
      .min(1, { message: "must list at least one destination" })
      .max(1000),
  })
  .describe("Forward to a distribution list.");

/** Reject with a permanent error and a custom text. */
export const RejectAction = z
  .strictObject({
    type: z.literal("reject").describe("Refuse every message with a 550 and `message`."),
    message: singleLine(
      "The text of the 550 reply, e.g. `Joe no longer works here`. Printable ASCII, one line, 1–200 characters.",
      200,
      true,
    )
      .overwrite((v) => v.trim())
      .refine((v) => v.length > 0, { message: "must not be empty" }),
  })
  .describe("Reject with a custom text.");

/** Answer each sender automatically. */
export const AutoReplyAction = z
  .strictObject({
    type: z
      .literal("autoReply")
      .describe("Reply automatically to each sender (at most once per `periodDays`)."),
    subject: singleLine("Subject of the reply.", 200).min(1, { message: "must not be empty" }),
    body: z
      .string()
      .min(1, { message: "must not be empty" })
      .max(10_000)
      .describe("Plain-text body of the reply."),
    copyTo: stringList(
      address("An address that gets a copy."),
      "Addresses that get a copy of each incoming message.",
    )
      .max(100)
      .default(() => []),
    periodDays: z
      .number()
      .int()
      .min(0)
      .max(365)
      .default(1)
      .describe("Reply to the same sender at most once per this many days; 0 replies every time. Default 1."),
  })
  .describe("Answer each sender automatically.");

/** What an alias does with a message: forward, reject or auto-reply (discriminated by `type`). */
export const AliasAction = z
  .discriminatedUnion("type", [ForwardAction, RejectAction, AutoReplyAction])
  .describe("What the alias does with a message: `forward`, `reject` or `autoReply` (by `type`).");

/** The fields of an alias. Key: address. */
export const AliasFields = z.strictObject({
  address: z
    .string()
    .overwrite(normaliseAddress)
    .refine((v) => isAddress(v, true), {
      message: "must be an address such as info@example.com, or *@example.com for the catch-all",
    })
    .describe("The alias address (key), e.g. `info@example.com`; `*@example.com` is the domain's catch-all."),
  action: AliasAction,
});

/**
 * An alias as declared. Forwarding to itself is a loop and is rejected.
 * @example AliasSpec.parse({ address: "sales@example.com", action: { type: "forward", to: ["donna@example.com", "ken@example.com"] } })
 */
export const AliasSpec = AliasFields.superRefine((spec, ctx) => {
  if (spec.action.type === "forward") {
    spec.action.to.forEach((to, i) => {
      if (to === spec.address) {
        ctx.addIssue({
          code: "custom",
          path: ["action", "to", i],
          message: "an alias cannot forward to itself (mail loop)",
        });
      }
    });
  }
  if (spec.action.type === "autoReply") {
    spec.action.copyTo.forEach((to, i) => {
      if (to === spec.address) {
        ctx.addIssue({
          code: "custom",
          path: ["action", "copyTo", i],
          message: "an alias cannot copy to itself (mail loop)",
        });
      }
    });
  }
})
  // After the rules (their paths use the order written): address lists sorted and de-duplicated.
  .overwrite((spec) => {
    if (spec.action.type === "forward")
      return { ...spec, action: { ...spec.action, to: sortedUnique(spec.action.to) } };
    if (spec.action.type === "autoReply") {
      return { ...spec, action: { ...spec.action, copyTo: sortedUnique(spec.action.copyTo) } };
    }
    return spec;
  })
  .meta({ id: "AliasSpec", title: "AliasSpec", description: "An alias address, as declared." });

/** An alias as the API returns it. */
export const Alias = AliasFields.extend({
  ...objectMeta,
  domain: z.string().describe("The domain the alias belongs to (the address's domain)."),
})
  .strip()
  .meta({ id: "Alias", title: "Alias", description: "An alias address, as stored." });

/** The PATCH body for an alias: the action. */
export const AliasPatch = patchOf(AliasFields, ["address"]).meta({
  id: "AliasPatch",
  title: "AliasPatch",
  description: "Fields to change on an alias; each replaces the stored value.",
});

export type AliasSpecInput = z.input<typeof AliasSpec>;
export type AliasSpec = z.output<typeof AliasSpec>;
export type AliasAction = z.output<typeof AliasAction>;
export type Alias = z.output<typeof Alias>;
export type AliasPatch = z.input<typeof AliasPatch>;

/** An alias's ID is its address. @example aliasId({ address: "info@example.com" }) // "info@example.com" */
export function aliasId(spec: Pick<AliasSpec, "address">): string {
  return spec.address;
}

/** The domain an alias belongs to. @example aliasDomain({ address: "*@example.com" }) // "example.com" */
export function aliasDomain(spec: Pick<AliasSpec, "address">): string {
  return splitAddress(spec.address)?.domain ?? "";
}
