/** Bearer-token authentication, the acting account, role checks and domain scoping, in one onRequest hook. */

import { createHash, randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type Endpoint, isMailDomain, type TokenRole, toAsciiDomain } from "../../sdk/src/index.ts";
import type { TokenRecord } from "../store/contract/token-store.ts";
import type { Store } from "../store/store.ts";
import { APP_PASSWORD_PREFIX } from "./passwords.ts";
import { problem } from "./problem.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { refuseByAccessRule } from "./sign-in.ts";
import { authenticateAppPassword, authenticateSession, SESSION_PREFIX } from "./user-sessions.ts";

/** Who is calling and on which account; `request.auth` on every authenticated route. */
export interface AuthContext {
  token: TokenRecord;
  role: TokenRole;
  /** The account acted on; null only for a platform admin on a route that needs none. */
  accountId: string | null;
  /** The domains a domain-admin token may touch; null means every domain of the account. */
  domains: readonly string[] | null;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the auth hook on every non-public route. */
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    /** The contract endpoint a route serves (set by every route plugin). */
    endpoint?: Endpoint;
  }
}

/** The visible start of every token secret, so leaked tokens are easy to find in logs and repos. */
export const TOKEN_PREFIX = "mp_";

/** sha256 of a token secret, hex: all the store keeps. */
export function hashTokenSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/**
 * A new token: its ID, its secret (shown once) and what the store keeps (sha256 and a short prefix).
 * 32 random bytes make a sha256 without salt safe: there is nothing to guess.
 *
 * @example const { id, secret, secretHash, prefix } = newToken();
 */
export function newToken(): { id: string; secret: string; secretHash: string; prefix: string } {
  const secret = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  return {
    id: `tok_${randomBytes(8).toString("hex")}`,
    secret,
    secretHash: hashTokenSecret(secret),
    prefix: secret.slice(0, 10),
  };
}

/** The acting context; throws when the route is public (a programming error). */
export function requireAuth(request: FastifyRequest): AuthContext & { accountId: string } {
  const auth = request.auth;
  if (!auth) throw new Error("route has no auth context");
  if (auth.accountId === null) {
    throw problem("MP_ACCOUNT_REQUIRED", "name the account with the Mailplane-Account header");
  }
  return auth as AuthContext & { accountId: string };
}

/** True when the caller may touch objects of `domain`. */
export function mayTouchDomain(auth: AuthContext, domain: string): boolean {
  return auth.domains === null || auth.domains.includes(domain);
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** Roles allowed per access level of the contract. */
const ALLOWED: Record<Exclude<Endpoint["access"], "public">, readonly TokenRole[]> = {
  read: ["platform-admin", "account-admin", "domain-admin", "read-only"],
  write: ["platform-admin", "account-admin", "domain-admin"],
  "account-admin": ["platform-admin", "account-admin"],
  "platform-admin": ["platform-admin"],
  // Mail users' endpoints take their sessions, never an admin token (see user-sessions.ts).
  user: [],
};

/** Options of {@link installAuth}. */
export interface AuthOptions {
  store: Store;
  now: () => Date;
  rateLimiter: RateLimiter | null;
}

/**
 * Installs the hook that authenticates every non-public route (401): a mail user's session (`mps_…`)
 * goes to {@link authenticateSession} and may only call `user` endpoints; an admin token may call
 * anything but them (403). Then it applies the per-token rate limit
 * (429), resolves the acting account (platform admins: `Mailplane-Account`), enforces the endpoint's
 * access level (403) and keeps domain admins inside their domains (404; 403 when creating a domain).
 * Another tenant's objects are simply not found: routes look objects up in the acting account only.
 */
export function installAuth(app: FastifyInstance, options: AuthOptions): void {
  const { store, now, rateLimiter } = options;
  /** 429 past the per-token (or per-session) rate limit. */
  const limit = (reply: FastifyReply, key: string) => {
    if (!rateLimiter) return;
    const wait = rateLimiter.take(key);
    if (wait > 0) {
      reply.header("ratelimit-policy", rateLimiter.policy);
      throw problem("MP_RATE_LIMITED", `too many requests for this token; retry in ${wait} s`, {
        retryAfterSeconds: wait,
      });
    }
  };
  app.decorateRequest("auth", null);
  app.decorateRequest("userSession", null);
  app.addHook("onRequest", async (request, reply) => {
    const endpoint = request.routeOptions.config.endpoint;
    if (!endpoint || endpoint.access === "public") return;

    const secret = bearer(request);
    if (!secret) throw problem("MP_UNAUTHORIZED", "send Authorization: Bearer <token>");
    if (secret.startsWith(SESSION_PREFIX) || secret.startsWith(APP_PASSWORD_PREFIX)) {
      const ctx = secret.startsWith(SESSION_PREFIX)
        ? await authenticateSession(store, now(), secret, endpoint)
        : await authenticateAppPassword(store, now(), secret, endpoint, request.ip);
      if (secret.startsWith(SESSION_PREFIX)) {
        // A rule written after sign-in holds for the session too: a stolen session secret is no use
        // from a network the account has since denied.
        await refuseByAccessRule(store, {
          accountId: ctx.accountId,
          address: ctx.address,
          service: "api",
          ip: request.ip,
        });
      }
      limit(reply, ctx.session.id);
      request.userSession = ctx;
      return;
    }
    const token = await store.findTokenBySecretHash(hashTokenSecret(secret));
    if (!token) throw problem("MP_UNAUTHORIZED", "unknown token");
    if (token.revokedAt) throw problem("MP_UNAUTHORIZED", "the token was revoked");
    if (token.expiresAt && token.expiresAt <= now().toISOString()) {
      throw problem("MP_UNAUTHORIZED", "the token has expired");
    }

    limit(reply, token.id);

    const role = token.role as TokenRole;
    if (!ALLOWED[endpoint.access].includes(role)) {
      throw problem(
        "MP_FORBIDDEN",
        `a ${role} token may not ${endpoint.summary.toLowerCase().replace(/\.$/, "")}`,
      );
    }

    const header = request.headers["mailplane-account"];
    const named =
      typeof header === "string" && header.trim() !== "" ? header.trim().toLowerCase() : undefined;
    let accountId: string | null = token.accountId;
    if (endpoint.headers.account !== "none") {
      if (role === "platform-admin") {
        accountId = named ?? token.accountId;
        // Tokens of a deleted account are revoked with it; a platform admin can name any account.
        if (accountId !== null && !(await store.getAccount(accountId))) {
          throw problem("MP_NOT_FOUND", `account ${accountId} does not exist`);
        }
      } else if (named !== undefined && named !== token.accountId) {
        throw problem("MP_NOT_FOUND", `account ${named} does not exist`);
      }
    }
    const auth: AuthContext = {
      token,
      role,
      accountId,
      domains: role === "domain-admin" ? token.domains : null,
    };
    request.auth = auth;

    if (auth.domains !== null) {
      const params = request.params as Record<string, string | undefined>;
      const raw = params.domain;
      if (raw !== undefined) {
        const domain = toAsciiDomain(raw);
        if (!isMailDomain(domain) || !auth.domains.includes(domain)) {
          if (endpoint.operationId === "putDomain") {
            throw problem("MP_FORBIDDEN", `this token may not manage domain ${domain}`);
          }
          throw problem("MP_NOT_FOUND", `domain ${domain} does not exist`);
        }
      } else if (endpoint.kind && endpoint.method !== "GET" && endpoint.access === "write") {
        // Account-wide settings (/v1/filter-settings, /v1/password-policy) are the account admin's.
        throw problem("MP_FORBIDDEN", "a domain-admin token may not change account-wide settings");
      }
    }
  });
}
