/** What every route plugin may use, decorated on the app as `app.services` (no module-level state). */
import type { DnsResolver } from "../../smtp/content/spf.ts";
import type { EgressPolicy } from "../../smtp/delivery/egress.ts";
import type { CidrSet } from "../../smtp/policy/matchers.ts";
import type { Store } from "../../store/store.ts";
import type { DkimKey } from "../dns.ts";
import type { Argon2Params } from "../passwords.ts";

/** Shared services of one control-plane instance. */
export interface ApiServices {
  store: Store;
  now: () => Date;
  /** Host name published as the MX of every domain. */
  mxHost: string;
  /** The platform DKIM key: signs for domains created before per-domain keys. */
  dkim: DkimKey;
  /** Seals secrets the platform reads back (domains' DKIM private keys); never leaves the process. */
  masterKey: Buffer;
  /** DNS for domain ownership checks (verification TXT records). */
  resolver: DnsResolver;
  /** The account's verification token for a domain name (see `verificationToken`). */
  verificationToken(accountId: string, name: string): string;
  argon2: Argon2Params;
  /** How long an Idempotency-Key's answer is replayed, in ms. */
  idempotencyTtlMs: number;
  /** The platform's version, for /healthz. */
  version: string;
  /** Path of the OpenAPI document served at /openapi.json. */
  openapiPath: string;
  /** Where routes may point; checked when a route is written. */
  egress: EgressPolicy;
  /** Proxies whose `X-Forwarded-Proto: https` counts as TLS for `requireTlsForSignIn` (see `cameOverTls`). */
  trustedProxies: CidrSet;
}

declare module "fastify" {
  interface FastifyInstance {
    services: ApiServices;
  }
}
