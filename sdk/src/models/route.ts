/** The Route kind: a destination mail server for a domain's clean mail, tried in priority order. */
import { X509Certificate } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { domainName, isHostName, objectMeta, toAsciiDomain } from "./common.ts";
import { patchOf } from "./patch.ts";

/** TLS modes for delivery to a route. */
export const TLS_MODES = ["none", "opportunistic", "required"] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/**
 * Canonicalises a route host: brackets dropped and IPv6 compressed, IPv4 as is, names lower-cased
 * and punycoded. @example normaliseHost("[2001:DB8::0:1]") // "2001:db8::1"
 */
export function normaliseHost(value: string): string {
  const trimmed = value.trim().replace(/^\[(.*)\]$/, "$1");
  if (isIPv6(trimmed)) return new URL(`http://[${trimmed}]/`).hostname.slice(1, -1);
  if (isIPv4(trimmed)) return trimmed;
  return toAsciiDomain(trimmed);
}

function isRouteHost(value: string): boolean {
  return isIPv4(value) || isIPv6(value) || isHostName(value);
}

const SPKI_PIN = /^sha256\/[A-Za-z0-9+/]{43}=$/;
const CERT_FINGERPRINT = /^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/;

/**
 * Canonicalises a TLS pin: a key pin stays `sha256/<base64>`; a certificate fingerprint becomes
 * upper-case hex in colon-separated pairs, as `openssl x509 -fingerprint -sha256` prints it.
 * @example normalisePin("ab12…") // "AB:12:…"
 */
export function normalisePin(value: string): string {
  const trimmed = value.trim();
  if (trimmed.toLowerCase().startsWith("sha256/")) return `sha256/${trimmed.slice(7)}`;
  const hex = trimmed.replace(/:/g, "").toUpperCase();
  return /^[0-9A-F]{64}$/.test(hex) ? hex.replace(/(..)(?!$)/g, "$1:") : trimmed;
}

function isPin(value: string): boolean {
  return SPKI_PIN.test(value) || CERT_FINGERPRINT.test(value);
}

/** True when the text is one or more PEM certificates, each one parseable. */
function isPemCertificates(value: string): boolean {
  const blocks = value.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) return false;
  try {
    for (const block of blocks) new X509Certificate(block);
    return true;
  } catch {
    return false;
  }
}

/** The fields of a route. Key: domain + host + port. */
export const RouteFields = z.strictObject({
  domain: domainName("The domain whose mail this route delivers (key)."),
  host: z
    .string()
    .overwrite(normaliseHost)
    .refine(isRouteHost, { message: "must be a host name, an IPv4 address or an IPv6 address" })
    .describe("Destination mail server: host name or IP address (key)."),
  port: z
    .number()
    .int()
    .min(1)
    .max(65_535)
    .default(25)
    .describe("Destination TCP port (1–65535, key). Default 25."),
  priority: z
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(10)
    .describe(
      "Order of delivery attempts: lower first. A 4xx from one route moves on to the next. Default 10.",
    ),
  tls: z
    .enum(TLS_MODES)
    .default("opportunistic")
    .describe(
      "TLS to the destination: `none`, `opportunistic` (STARTTLS when offered, any certificate) or `required` (defer unless the certificate verifies: a trusted CA chain and the host's name, or `tlsPins`). Default `opportunistic`.",
    ),
  tlsPins: z
    .array(
      z.string().overwrite(normalisePin).refine(isPin, {
        message:
          'must be "sha256/<base64 SHA-256 of the server key\'s SubjectPublicKeyInfo>" or a certificate SHA-256 fingerprint "AB:CD:…" (32 bytes)',
      }),
    )
    .min(1)
    .max(8)
    .optional()
    .describe(
      "With `tls: required`: accept the server only if its key (`sha256/<base64 SPKI hash>`) or certificate (SHA-256 fingerprint `AB:CD:…`) matches one of these; a pin replaces the CA and name checks, so a self-signed certificate works. List the next key too before rotating.",
    ),
  tlsCa: z
    .string()
    .max(65_536)
    .refine(isPemCertificates, {
      message: "must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)",
    })
    .optional()
    .describe(
      "With `tls: required`: PEM CA certificate(s) the server's chain must lead to, instead of the platform's trusted CAs; the host name is still checked.",
    ),
});

/** Pins and a CA only mean something when TLS is required; with both, which one decides would be a guess. */
function checkTlsOptions(
  spec: { tls: TlsMode; tlsPins?: string[] | undefined; tlsCa?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  for (const field of ["tlsPins", "tlsCa"] as const) {
    if (spec[field] !== undefined && spec.tls !== "required") {
      ctx.addIssue({ code: "custom", path: [field], message: 'needs tls: "required"' });
    }
  }
  if (spec.tlsPins !== undefined && spec.tlsCa !== undefined) {
    ctx.addIssue({ code: "custom", path: ["tlsCa"], message: "give tlsPins or tlsCa, not both" });
  }
}

/**
 * A route as declared.
 * @example RouteSpec.parse({ domain: "example.com", host: "mx1.example.net", priority: 10 })
 */
export const RouteSpec = RouteFields.superRefine(checkTlsOptions).meta({
  id: "RouteSpec",
  title: "RouteSpec",
  description: "A destination mail server for a domain, as declared.",
});

/** A route as the API returns it. */
export const Route = RouteFields.extend(objectMeta).strip().meta({
  id: "Route",
  title: "Route",
  description: "A destination mail server for a domain, as stored.",
});

/** The PATCH body for a route: priority and the TLS settings. */
export const RoutePatch = patchOf(RouteFields, ["domain", "host", "port"]).meta({
  id: "RoutePatch",
  title: "RoutePatch",
  description: "Fields to change on a route; each replaces the stored value.",
});

export type RouteSpecInput = z.input<typeof RouteSpec>;
export type RouteSpec = z.output<typeof RouteSpec>;
export type Route = z.output<typeof Route>;
export type RoutePatch = z.input<typeof RoutePatch>;

/**
 * The route's name inside its domain: `host:port`, IPv6 in brackets.
 * @example routeName({ host: "mx1.example.net", port: 25 }) // "mx1.example.net:25"
 */
export function routeName(spec: Pick<RouteSpec, "host" | "port">): string {
  return isIPv6(spec.host) ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`;
}

/**
 * Parses a route name back into host and port; `undefined` when it is not `host:port`.
 * @example parseRouteName("[2001:db8::1]:2525") // { host: "2001:db8::1", port: 2525 }
 */
export function parseRouteName(name: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(name);
  if (!match) return undefined;
  return { host: normaliseHost(match[1] ?? match[2]!), port: Number(match[3]) };
}

/** @example routeId({ domain: "example.com", host: "mx1.example.net", port: 25 }) // "example.com/routes/mx1.example.net:25" */
export function routeId(spec: Pick<RouteSpec, "domain" | "host" | "port">): string {
  return `${spec.domain}/routes/${routeName(spec)}`;
}
