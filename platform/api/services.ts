/** What every route plugin may use, decorated on the app as `app.services` (no module-level state). */

import type { PlatformMetrics } from "../metrics.ts";
import type { DnsResolver } from "../smtp/content/spf.ts";
import type { EgressPolicy } from "../smtp/delivery/egress.ts";
import type { CidrSet } from "../smtp/policy/matchers.ts";
import type { Store } from "../store/store.ts";
import type { Argon2Params } from "./access/passwords.ts";
import type { DkimKey } from "./domains/dns.ts";

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
  /**
   * The API's address as its users reach it (`--public-url`), the base of links the platform mails
   * (password reset). Never taken from a request's Host header: a forged one would send the link elsewhere.
   */
  publicUrl: string;
  /** Proxies whose `X-Forwarded-Proto: https` counts as TLS for `requireTlsForSignIn` (see `cameOverTls`). */
  trustedProxies: CidrSet;
  /** Work that runs after its request was answered (mailing a reset link); closing the app waits for it. */
  background: BackgroundWork;
  /** The Prometheus metrics served at `/metrics`. */
  metrics: PlatformMetrics;
}

/**
 * Tracks promises that outlive their request, so the app's close (and a test) can wait for them.
 * @example services.background.run(sendLink()); await services.background.idle();
 */
export class BackgroundWork {
  readonly #running = new Set<Promise<unknown>>();

  /** Runs `work` without waiting for it; its failure goes to `onError` (never unhandled). */
  run(work: Promise<unknown>, onError: (error: Error) => void): void {
    const tracked = work.catch((error: Error) => onError(error));
    this.#running.add(tracked);
    void tracked.finally(() => this.#running.delete(tracked));
  }

  /** Resolves once everything started so far (and whatever that started) has settled. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }
}

declare module "fastify" {
  interface FastifyInstance {
    services: ApiServices;
  }
}
