/** The Group kind: a group address that delivers to its members, with a rule for who may write to it. */
import { z } from "zod";
import { address, objectMeta, singleLine, sortedUnique, splitAddress, stringList } from "./common.ts";
import { patchOf } from "./patch.ts";

/** Who may send to a group: anyone, only its members, or only addresses of the group's own domain. */
export const GROUP_SENDERS = ["anyone", "members", "domain"] as const;
export type GroupSenders = (typeof GROUP_SENDERS)[number];

/** The fields of a group. Key: address. */
export const GroupFields = z.strictObject({
  address: address("The group address (key), e.g. `team@example.com`."),
  name: singleLine("Display name of the group, e.g. `Team`.", 200).default(""),
  members: stringList(address("A member's address."), "Member addresses; sorted, once each.")
    .min(1, { message: "must list at least one member" })
    .max(1000),
  senders: z
    .enum(GROUP_SENDERS)
    .default("anyone")
    .describe(
      "Who may send to the group: `anyone`, `members` (the envelope sender, or the logged-in user, is a member) or `domain` (an address of the group's domain or its domain aliases). Others get 550 5.7.1 at RCPT. Default `anyone`.",
    ),
});

/**
 * A group as declared. A group that lists itself as a member is a loop and is rejected.
 * @example GroupSpec.parse({ address: "team@example.com", members: ["ana@example.com", "ben@example.com"], senders: "members" })
 */
export const GroupSpec = GroupFields.superRefine((spec, ctx) => {
  spec.members.forEach((member, i) => {
    if (member === spec.address) {
      ctx.addIssue({
        code: "custom",
        path: ["members", i],
        message: "a group cannot be its own member (mail loop)",
      });
    }
  });
})
  // After the rules (their paths use the order written): members sorted and de-duplicated.
  .overwrite((spec) => ({ ...spec, members: sortedUnique(spec.members) }))
  .meta({
    id: "GroupSpec",
    title: "GroupSpec",
    description: "A group address and its members, as declared.",
  });

/** A group as the API returns it. */
export const Group = GroupFields.extend({
  ...objectMeta,
  domain: z.string().describe("The domain the group belongs to (the address's domain)."),
})
  .strip()
  .meta({ id: "Group", title: "Group", description: "A group address and its members, as stored." });

/** The PATCH body for a group: name, members, senders. */
export const GroupPatch = patchOf(GroupFields, ["address"]).meta({
  id: "GroupPatch",
  title: "GroupPatch",
  description: "Fields to change on a group; each replaces the stored value.",
});

export type GroupSpecInput = z.input<typeof GroupSpec>;
export type GroupSpec = z.output<typeof GroupSpec>;
export type Group = z.output<typeof Group>;
export type GroupPatch = z.input<typeof GroupPatch>;

/** A group's ID is its address. @example groupId({ address: "team@example.com" }) // "team@example.com" */
export function groupId(spec: Pick<GroupSpec, "address">): string {
  return spec.address;
}

/** The domain a group belongs to. @example groupDomain({ address: "team@example.com" }) // "example.com" */
export function groupDomain(spec: Pick<GroupSpec, "address">): string {
  return splitAddress(spec.address)?.domain ?? "";
}
