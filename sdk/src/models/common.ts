/** Shared field types of the model: normalising domain names, addresses, sets, IPs and object metadata. */
import { isIPv4, isIPv6 } from "node:net";
import { domainToASCII } from "node:url";
import { z } from "zod";
import { managedByField } from "./managed-by.ts";

/** Longest domain name (RFC 1035 §2.3.4) and address (RFC 5321 §4.5.3.1 path limit minus brackets). */
const MAX_DOMAIN_LENGTH = 253;
const MAX_LOCAL_PART_LENGTH = 64;
const MAX_ADDRESS_LENGTH = 254;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** RFC 5322 dot-atom, ASCII only (the seeds: "Only ASCII characters are supported for the local part"). */
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/**
 * Lower-cases a domain name, strips a trailing dot and converts IDN labels to punycode
 * (`Bücher.DE` → `xn--bcher-kva.de`). Returns the lower-cased input when it is not convertible,
 * so the validation that follows reports what the user wrote.
 * @example toAsciiDomain("Bücher.de.") // "xn--bcher-kva.de"
 */
export function toAsciiDomain(value: string): string {
  const trimmed = value.trim().replace(/\.$/, "");
  const ascii = domainToASCII(trimmed);
  return ascii === "" ? trimmed.toLowerCase() : ascii;
}

/** True for an ASCII host name: labels of 1–63 letters, digits and inner hyphens, 253 characters at most. */
export function isHostName(value: string): boolean {
  if (value.length === 0 || value.length > MAX_DOMAIN_LENGTH) return false;
  return value.split(".").every((label) => LABEL.test(label));
}

/** True for a mail domain: a host name with at least two labels whose last label is not numeric. */
export function isMailDomain(value: string): boolean {
  const labels = value.split(".");
  return isHostName(value) && labels.length >= 2 && !/^\d+$/.test(labels.at(-1)!);
}

/** True for an ASCII dot-atom local part of at most 64 characters (already lower-cased). */
export function isLocalPart(value: string): boolean {
  return value.length <= MAX_LOCAL_PART_LENGTH && LOCAL_PART.test(value);
}

/**
 * Normalises an address: trims, lower-cases the local part and converts the domain with
 * {@link toAsciiDomain}. The split is at the last `@`.
 * @example normaliseAddress(" Alice@Bücher.DE ") // "alice@xn--bcher-kva.de"
 */
export function normaliseAddress(value: string): string {
  const trimmed = value.trim();
  const at = trimmed.lastIndexOf("@");
  if (at < 0) return trimmed.toLowerCase();
  return `${trimmed.slice(0, at).toLowerCase()}@${toAsciiDomain(trimmed.slice(at + 1))}`;
}

/** Splits a normalised address into its local part and domain; `undefined` when there is no `@`. */
export function splitAddress(address: string): { local: string; domain: string } | undefined {
  const at = address.lastIndexOf("@");
  if (at < 0) return undefined;
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** True for a normalised address `local@domain` (the local part may be `*` when `wildcard` is set). */
export function isAddress(value: string, wildcard = false): boolean {
  const parts = splitAddress(value);
  if (!parts || value.length > MAX_ADDRESS_LENGTH) return false;
  // A lone `*` is valid RFC 5322 atext, but here it always means "any local part".
  const localOk = parts.local === "*" ? wildcard : isLocalPart(parts.local);
  return localOk && isMailDomain(parts.domain);
}

/** A mail domain name, lower-cased and converted to punycode: `example.com`. */
export function domainName(description: string) {
  return z
    .string()
    .overwrite(toAsciiDomain)
    .refine(isMailDomain, {
      message: "must be a domain name such as example.com (letters, digits, hyphens; at least two labels)",
    })
    .describe(description);
}

/** A mailbox address `local@domain`, normalised by {@link normaliseAddress}. */
export function address(description: string) {
  return z
    .string()
    .overwrite(normaliseAddress)
    .refine((v) => isAddress(v), {
      message: "must be an email address such as alice@example.com (ASCII local part)",
    })
    .describe(description);
}

/** Sorts (code-unit order) and de-duplicates. @example sortedUnique(["b", "a", "b"]) // ["a", "b"] */
export function sortedUnique<T extends string>(items: readonly T[]): T[] {
  return [...new Set(items)].sort();
}

/**
 * An unordered set of strings: sorted and de-duplicated after each item is normalised, so
 * `["b", "A", "a"]` and `["a", "b"]` are the same declaration. Item errors keep the index the
 * user wrote (the sort runs only on valid items).
 */
export function stringSet<T extends z.ZodType<string, string>>(item: T, description: string) {
  return z.array(item).overwrite(sortedUnique).describe(description);
}

/**
 * A set whose sorting is left to the enclosing spec, because a cross-field rule reports entries by
 * the index the user wrote (e.g. an alias forwarding to itself at `action.to[3]`); the spec sorts
 * it with {@link sortedUnique} after its rules ran.
 */
export function stringList<T extends z.ZodType<string, string>>(item: T, description: string) {
  return z.array(item).describe(description);
}

/** Parses dotted IPv4 into a 32-bit number. */
function ipv4ToBigInt(ip: string): bigint {
  return ip.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

/** Parses IPv6 (any valid text form, including an embedded IPv4 tail) into a 128-bit number. */
function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToBigInt(v4[1]!);
    text = `${text.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const headParts = head ? head.split(":") : [];
  const tailParts = tail === undefined ? [] : tail ? tail.split(":") : [];
  const missing = 8 - headParts.length - tailParts.length;
  const groups = [...headParts, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...tailParts];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

function bigIntToIPv4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => ((n >> shift) & 0xffn).toString()).join(".");
}

function bigIntToIPv6(n: bigint): string {
  const groups = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  // The URL parser prints the RFC 5952 canonical form (longest zero run compressed).
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

/**
 * Canonicalises an IP address or CIDR block to `network/prefix` (host bits cleared, IPv6
 * compressed and lower-cased): `10.1.2.3/8` → `10.0.0.0/8`, `192.0.2.1` → `192.0.2.1/32`.
 * Returns the trimmed input unchanged when it is not an IP or CIDR, so validation reports it.
 */
export function canonicalCidr(value: string): string {
  const trimmed = value.trim().toLowerCase();
  const [ip = "", prefixText, ...rest] = trimmed.split("/");
  if (rest.length > 0) return trimmed;
  const bits = isIPv4(ip) ? 32 : isIPv6(ip) ? 128 : 0;
  if (bits === 0) return trimmed;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return trimmed;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return trimmed;
  const n = bits === 32 ? ipv4ToBigInt(ip) : ipv6ToBigInt(ip);
  const width = BigInt(bits);
  const mask = prefix === 0 ? 0n : ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n);
  const network = n & mask;
  return `${bits === 32 ? bigIntToIPv4(network) : bigIntToIPv6(network)}/${prefix}`;
}

/** True for a canonical `network/prefix` produced by {@link canonicalCidr}. */
export function isCidr(value: string): boolean {
  const [ip = "", prefix] = value.split("/");
  if (prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  if (isIPv4(ip)) return Number(prefix) <= 32;
  return isIPv6(ip) && Number(prefix) <= 128;
}

/** An IP address or CIDR block, normalised by {@link canonicalCidr}. */
export function cidr(description: string) {
  return z
    .string()
    .overwrite(canonicalCidr)
    .refine(isCidr, { message: "must be an IP address or CIDR block such as 192.0.2.0/24 or 2001:db8::/32" })
    .describe(description);
}

/** An RFC 3339 timestamp in UTC, as the API writes them: `2025-01-31T12:00:00.000Z`. */
export function timestamp(description: string) {
  return z.iso.datetime().describe(description);
}

/** The metadata fields every API object carries besides its spec. */
export const objectMeta = {
  id: z.string().describe("The object's human-readable ID, e.g. `example.com/routes/mx1.example.net:25`."),
  etag: z
    .string()
    .describe(
      "Opaque version tag; send it back in `If-Match` to update or delete only the version you read.",
    ),
  createdAt: timestamp("When the object was created."),
  updatedAt: timestamp("When the object last changed."),
  managedBy: managedByField,
};

/**
 * Printable text for a single SMTP reply or header line: no control characters or line breaks.
 * `ascii` additionally limits it to 7-bit printable ASCII (RFC 5321 §4.2 reply text).
 */
export function singleLine(description: string, max: number, ascii = false) {
  const pattern = ascii ? /^[\x20-\x7e]*$/ : /^[^\p{Cc}]*$/u;
  const message = ascii
    ? "must be printable ASCII on one line (it is sent in an SMTP reply)"
    : "must be one line without control characters";
  return z
    .string()
    .max(max)
    .refine((v) => pattern.test(v), { message })
    .describe(description);
}

/**
 * Lost-password instructions: plain text of up to 2,000 characters, line breaks allowed, no other
 * control characters (the text is shown to people and written into pages), trimmed; null for none.
 * @example lostPasswordInstructions("…").parse("Call the help desk on 555-0100.")
 */
export function lostPasswordInstructions(description: string) {
  return z
    .string()
    .trim()
    .min(1, { message: "must not be empty (null for none)" })
    .max(2000)
    .refine((v) => !/[^\P{Cc}\n\t]/u.test(v), {
      message: "must be plain text: line breaks and tabs, no other control characters",
    })
    .nullable()
    .default(null)
    .describe(description);
}

/**
 * The scope of a singleton (FilterSettings, PasswordPolicy): `account` for the account-wide
 * default, or a domain name.
 */
export function scope(description: string) {
  return z
    .string()
    .overwrite((v) => (v.trim().toLowerCase() === "account" ? "account" : toAsciiDomain(v)))
    .refine((v) => v === "account" || isMailDomain(v), {
      message: 'must be "account" (the account-wide default) or a domain name such as example.com',
    })
    .describe(description);
}
