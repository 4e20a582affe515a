/** SMTP login lockouts: `GET /v1/lockouts` and `DELETE /v1/lockouts/:key`, read from and lifted in the store every engine shares. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type LoginLockout, LoginLockoutQuery, loginLockoutKey } from "../../../sdk/src/index.ts";
import type { LoginLockoutRecord } from "../../store/contract/login-lockout-store.ts";
import { writeContext } from "../audit.ts";
import { serve } from "../lib/http.ts";
import { problem } from "../problem.ts";
import { parseWith } from "../validation.ts";

/** A lockout as the API shows it, with the domains the viewer may see. */
export function renderLockout(r: LoginLockoutRecord): LoginLockout {
  return {
    key: r.key,
    failures: r.failures,
    lastFailureAt: r.lastFailureAt,
    lockedAt: r.lockedAt,
    lockedUntil: r.lockedUntil,
    domains: r.targets.map((t) => ({
      domain: t.domain,
      account: t.accountId,
      failures: t.failures,
      lastFailureAt: t.lastFailureAt,
    })),
  };
}

/**
 * Whose view applies: null (everything) for a platform admin that names no account with
 * Mailplane-Account, otherwise the acting account (the auth hook resolved and checked it).
 */
function viewerOf(request: FastifyRequest): string | null {
  const auth = request.auth;
  if (!auth) throw new Error("route has no auth context");
  const named = request.headers["mailplane-account"];
  if (auth.role === "platform-admin" && (typeof named !== "string" || named.trim() === "")) return null;
  if (auth.accountId === null) {
    throw problem("MP_ACCOUNT_REQUIRED", "name the account with the Mailplane-Account header");
  }
  return auth.accountId;
}

/**
 * The lockout route plugin. Lockouts live in the store, so these endpoints work on any control plane
 * sharing it, with or without an engine in the process. A lockout is keyed by client, not by tenant:
 * an account sees (and its audit log records) only the keys whose failures aimed at its domains, with
 * those domains only, and may lift a key only when all its failures aimed at its own domains — lifting
 * it would otherwise end another tenant's protection too.
 *
 * @example app.register(lockoutRoutes)
 */
export async function lockoutRoutes(app: FastifyInstance): Promise<void> {
  const { store, now } = app.services;

  serve(app, "listLoginLockouts", async (request) => {
    const viewer = viewerOf(request);
    const q = parseWith(LoginLockoutQuery, request.query, "query");
    const page = await store.listLoginLockouts({
      ...(viewer === null ? {} : { accountId: viewer }),
      ...(q.locked === undefined ? {} : { locked: q.locked === "true" }),
      at: now().getTime(),
      limit: q.limit,
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    return { items: page.items.map(renderLockout), nextCursor: page.nextCursor };
  });

  serve(app, "liftLoginLockout", async (request, reply) => {
    const viewer = viewerOf(request);
    const raw = (request.params as { key?: string }).key ?? "";
    const key = loginLockoutKey(raw);
    const notFound = () => problem("MP_NOT_FOUND", `no lockout for ${JSON.stringify(raw)}`);
    if (!key) throw notFound();
    await store.liftLoginLockout(
      {
        key,
        at: now().getTime(),
        guard: (current) => {
          if (viewer === null) return undefined;
          const own = current.targets.filter((t) => t.accountId === viewer);
          if (own.length === 0) return notFound();
          if (own.length < current.targets.length) {
            return problem(
              "MP_FORBIDDEN",
              `the lockout of ${key} also concerns logins to other accounts' domains; a platform admin can lift it`,
            );
          }
          return undefined;
        },
      },
      writeContext(request),
    );
    return reply.code(204).send();
  });
}
