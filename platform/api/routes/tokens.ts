/** API tokens of the acting account: `/v1/tokens[/:token]`. A token's secret is shown once, in the create answer. */
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import {
  type ApiToken,
  ApiTokenSpec,
  ListQuery,
  tokenExpiryIssue,
  validationErrorFromFields,
} from "../../../sdk/src/index.ts";
import { isStoreError } from "../../store/contract/store-error.ts";
import type { TokenRecord } from "../../store/contract/token-store.ts";
import { writeContext } from "../audit.ts";
import { newToken, requireAuth } from "../auth.ts";
import { findReplay, idempotencyInput, idempotencyPlan } from "../idempotency.ts";
import { normalisedParams, serve, setEtag } from "../lib/http.ts";
import { problem } from "../problem.ts";
import { parseWith } from "../validation.ts";

/** A token's etag: it only ever changes by being revoked. */
function tokenEtag(t: TokenRecord): string {
  return createHash("sha256")
    .update(`${t.id}|${t.revokedAt ?? ""}`)
    .digest("base64url")
    .slice(0, 16);
}

/** A token as the API lists it (never its secret, never its hash). */
export function renderToken(t: TokenRecord): ApiToken {
  return {
    id: t.id,
    account: t.accountId ?? "",
    role: t.role as ApiToken["role"],
    domains: t.domains,
    description: t.description,
    expiresAt: t.expiresAt,
    createdAt: t.createdAt,
    revokedAt: t.revokedAt,
    etag: tokenEtag(t),
  };
}

/**
 * The ApiToken route plugin: account admins manage their account's tokens; only platform admins
 * may mint platform-admin tokens. POST honours Idempotency-Key.
 *
 * @example app.register(tokenRoutes)
 */
export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const { store, now, idempotencyTtlMs } = app.services;

  /** A token of the acting account; platform admins also reach platform tokens (no account). */
  const own = async (auth: { accountId: string; role: string }, id: string) => {
    const t = await store.getToken(id);
    const visible =
      t && (t.accountId === auth.accountId || (t.accountId === null && auth.role === "platform-admin"));
    if (!visible) throw problem("MP_NOT_FOUND", `token ${id} does not exist`);
    return t;
  };

  serve(app, "listTokens", async (request) => {
    const auth = requireAuth(request);
    const query = parseWith(ListQuery, request.query, "query");
    const page = await store.listTokens({
      accountId: auth.accountId,
      limit: query.limit,
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    return { items: page.items.map(renderToken), nextCursor: page.nextCursor };
  });

  serve(app, "createToken", async (request, reply) => {
    const auth = requireAuth(request);
    const spec = parseWith(ApiTokenSpec, request.body, "body");
    if (spec.role === "platform-admin" && auth.role !== "platform-admin") {
      throw problem("MP_FORBIDDEN", "only a platform-admin token may create platform-admin tokens");
    }
    // The model checked against the caller's clock already; this is the server's (injectable) one.
    const expired = tokenExpiryIssue(spec.expiresAt, now().getTime());
    if (expired) {
      throw validationErrorFromFields([
        { path: ["expiresAt"], code: "custom", message: expired, in: "body" },
      ]);
    }
    const plan = idempotencyPlan(request, auth.accountId, now(), idempotencyTtlMs);
    const replay = async () => {
      const found = plan ? await findReplay(store, plan) : undefined;
      if (!found) return undefined;
      const body = found.body as { etag?: string };
      if (body.etag) setEtag(reply, body.etag);
      return reply.header("idempotent-replayed", "true").status(found.status).send(found.body);
    };
    const replayed = await replay();
    if (replayed) return replayed;

    const minted = newToken();
    try {
      const token = await store.createToken(
        {
          id: minted.id,
          accountId: auth.accountId,
          description: spec.description,
          prefix: minted.prefix,
          secretHash: minted.secretHash,
          role: spec.role,
          domains: spec.domains,
          // One spelling (toISOString) so the auth hook's comparison with the clock is exact.
          expiresAt: spec.expiresAt ? new Date(spec.expiresAt).toISOString() : null,
          ...(plan
            ? {
                idempotency: idempotencyInput<TokenRecord>(plan, (t) => ({
                  status: 201,
                  body: { ...renderToken(t), token: minted.secret },
                })),
              }
            : {}),
        },
        writeContext(request),
      );
      const body = { ...renderToken(token), token: minted.secret };
      setEtag(reply, body.etag);
      return reply.status(201).send(body);
    } catch (error) {
      // Another request with the same key committed first: answer what it answered.
      if (isStoreError(error, "idempotency_exists")) {
        const again = await replay();
        if (again) return again;
      }
      throw error;
    }
  });

  serve(app, "getToken", async (request, reply) => {
    const auth = requireAuth(request);
    const t = await own(auth, normalisedParams(request).token!);
    const body = renderToken(t);
    setEtag(reply, body.etag);
    return body;
  });

  serve(app, "revokeToken", async (request, reply) => {
    const auth = requireAuth(request);
    const t = await own(auth, normalisedParams(request).token!);
    await store.revokeToken({ id: t.id }, writeContext(request));
    return reply.status(204).send();
  });
}
