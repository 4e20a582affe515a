/** The SenderList kind: a domain's allow or block list of senders or recipients. */
import { z } from "zod";
import {
  domainName,
  isAddress,
  isLocalPart,
  isMailDomain,
  normaliseAddress,
  objectMeta,
  sortedUnique,
  toAsciiDomain,
} from "./common.ts";
import { patchOf } from "./patch.ts";

/** `allow` skips all filtering; `block` rejects with a 5xx and never quarantines. */
export const SENDER_LIST_KINDS = ["allow", "block"] as const;
/** `sender` matches MAIL FROM (and the From: header for allow lists); `recipient` matches RCPT TO. */
export const SENDER_LIST_TARGETS = ["sender", "recipient"] as const;
export type SenderListKind = (typeof SENDER_LIST_KINDS)[number];
export type SenderListTarget = (typeof SENDER_LIST_TARGETS)[number];

/**
 * Canonicalises a list entry to an address or `*@domain`: `example.org`, `@example.org` and
 * `*@Example.ORG` all become `*@example.org`. Bare local parts (`nofilter`, `*`) are left for
 * {@link SenderListSpec}, which completes them with the list's domain on recipient lists.
 * @example normaliseEntry("@Example.org") // "*@example.org"
 */
export function normaliseEntry(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith("@")) return `*@${toAsciiDomain(trimmed.slice(1))}`;
  if (trimmed.includes("@")) return normaliseAddress(trimmed);
  const ascii = toAsciiDomain(trimmed);
  return isMailDomain(ascii) ? `*@${ascii}` : trimmed.toLowerCase();
}

const entry = z
  .string()
  .overwrite(normaliseEntry)
  .describe(
    "An address (`user@example.org`), a whole domain (`example.org`, `@example.org` or `*@example.org`), " +
      "or on recipient lists a local part (`nofilter`) or `*` for every recipient of the domain.",
  );

/** The fields of a sender list. Key: domain + kind + target. */
export const SenderListFields = z.strictObject({
  domain: domainName("The domain the list applies to (key)."),
  kind: z
    .enum(SENDER_LIST_KINDS)
    .describe("`allow`: all filtering skipped; `block`: rejected with 5xx, never quarantined (key)."),
  target: z
    .enum(SENDER_LIST_TARGETS)
    .describe("`sender`: match the envelope sender (MAIL FROM); `recipient`: match the recipient (key)."),
  entries: z
    .array(entry)
    .max(10_000)
    .default(() => [])
    .describe("Entries; stored as addresses or `*@domain`, sorted, once each."),
});

/**
 * A sender or recipient allow/block list as declared. Entries are normalised to `local@domain` or
 * `*@domain`; on recipient lists a bare local part is completed with the list's domain and every
 * entry must be at that domain.
 * @example SenderListSpec.parse({ domain: "example.com", kind: "block", target: "sender", entries: ["spam.example", "bob@example.net"] })
 */
export const SenderListSpec = SenderListFields.superRefine((spec, ctx) => {
  spec.entries.forEach((raw, i) => {
    const e = completeEntry(raw, spec);
    if (!isAddress(e, true)) {
      const local = e.split("@")[0] ?? "";
      const message =
        spec.target === "sender"
          ? "must be an address (user@example.org) or a domain (example.org, @example.org, *@example.org)"
          : isLocalPart(local) || local === "*"
            ? "must be a local part, * or an address at the list's domain"
            : "must be a local part such as nofilter, * or an address";
      ctx.addIssue({ code: "custom", path: ["entries", i], message });
    } else if (spec.target === "recipient" && !e.endsWith(`@${spec.domain}`)) {
      ctx.addIssue({
        code: "custom",
        path: ["entries", i],
        message: `recipient entries must be at ${spec.domain} (domain aliases are rewritten to it before matching)`,
      });
    }
  });
})
  // After the rules (their paths use the order written): entries completed, sorted, once each.
  .overwrite((spec) => ({ ...spec, entries: sortedUnique(spec.entries.map((e) => completeEntry(e, spec))) }))
  .meta({
    id: "SenderListSpec",
    title: "SenderListSpec",
    description: "An allow or block list, as declared.",
  });

/** On recipient lists a bare local part (or `*`) is completed with the list's domain. */
function completeEntry(entry: string, spec: { domain: string; target: SenderListTarget }): string {
  return spec.target === "recipient" && !entry.includes("@") ? `${entry}@${spec.domain}` : entry;
}

/** A sender list as the API returns it. */
export const SenderList = SenderListFields.extend(objectMeta).strip().meta({
  id: "SenderList",
  title: "SenderList",
  description: "An allow or block list, as stored.",
});

/** The PATCH body for a sender list: its entries. */
export const SenderListPatch = patchOf(SenderListFields, ["domain", "kind", "target"]).meta({
  id: "SenderListPatch",
  title: "SenderListPatch",
  description: "Fields to change on a sender list; each replaces the stored value.",
});

export type SenderListSpecInput = z.input<typeof SenderListSpec>;
export type SenderListSpec = z.output<typeof SenderListSpec>;
export type SenderList = z.output<typeof SenderList>;
export type SenderListPatch = z.input<typeof SenderListPatch>;

/** The list's name inside its domain. @example senderListName({ kind: "block", target: "sender" }) // "block-sender" */
export function senderListName(spec: Pick<SenderListSpec, "kind" | "target">): string {
  return `${spec.kind}-${spec.target}`;
}

/** Parses a list name (`allow-recipient`) back into kind and target; `undefined` when unknown. */
export function parseSenderListName(
  name: string,
): { kind: SenderListKind; target: SenderListTarget } | undefined {
  const [kind, target, ...rest] = name.split("-");
  if (rest.length > 0) return undefined;
  if (!SENDER_LIST_KINDS.includes(kind as SenderListKind)) return undefined;
  if (!SENDER_LIST_TARGETS.includes(target as SenderListTarget)) return undefined;
  return { kind: kind as SenderListKind, target: target as SenderListTarget };
}

/** @example senderListId({ domain: "example.com", kind: "block", target: "sender" }) // "example.com/sender-lists/block-sender" */
export function senderListId(spec: Pick<SenderListSpec, "domain" | "kind" | "target">): string {
  return `${spec.domain}/sender-lists/${senderListName(spec)}`;
}
