/**
 * Idempotency-Key for POST creates and tenancy PUTs (draft-ietf-httpapi-idempotency-key-header): the
 * first answer is stored with the write and replayed for the same key and body; another body with that
 * key is 422. A PUT with `If-None-Match: *` needs it to be retried: without it, the repeat of a create
 * whose answer was lost would be refused (412) for the object the first attempt created.
 *
 * The stored answer may hold a secret (a new token's value) and the request a password (a user's PUT),
 * so the store never sees the key itself: records are found by sha256(key), the request's fingerprint
 * is an HMAC under a key derived from the Idempotency-Key (HKDF), not a plain hash that a guessable
 * password could be recovered from, and bodies are AES-256-GCM sealed under that derived key. Whoever
 * reads the database can do neither without the client's key.
 */
import { createHash, createHmac, hkdfSync } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { IdempotencyInput } from "../store/contract/idempotency-store.ts";
import { canonicalJson } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import { fieldError, problem } from "./problem.ts";
import { openText, type SealedText, sealText } from "./sealing.ts";

/** How a request's Idempotency-Key is handled. */
export interface IdempotencyPlan {
  tokenId: string;
  keyHash: string;
  requestHash: string;
  sealKey: Buffer;
  expiresAt: string;
}

/** A stored answer: its JSON, sealed under the plan's key. */
type Sealed = { v: 1 } & SealedText;

const MAX_KEY_LENGTH = 255;

/**
 * The plan for a request, or undefined without an Idempotency-Key header.
 *
 * @param scope what else makes two requests "the same" besides the body (e.g. the acting account)
 */
export function idempotencyPlan(
  request: FastifyRequest,
  scope: string,
  now: Date,
  ttlMs: number,
): IdempotencyPlan | undefined {
  const header = request.headers["idempotency-key"];
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header.join(",") : header;
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw problem("MP_BAD_REQUEST", "Idempotency-Key must be 1–255 visible ASCII characters", {
      errors: [
        fieldError(
          ["idempotency-key"],
          "invalid_format",
          "must be 1–255 visible ASCII characters",
          "headers",
        ),
      ],
    });
  }
  const tokenId = request.auth?.token.id ?? "anonymous";
  const sealKey = Buffer.from(hkdfSync("sha256", key, tokenId, "mailplane idempotency v1", 32));
  return {
    tokenId,
    keyHash: createHash("sha256").update(key).digest("hex"),
    requestHash: createHmac("sha256", sealKey)
      .update(
        `${request.method} ${request.url.split("?")[0]} ${scope} ${canonicalJson(request.body ?? null)}`,
      )
      .digest("hex"),
    sealKey,
    expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
  };
}

function seal(plan: IdempotencyPlan, body: unknown): Sealed {
  return { v: 1, ...sealText(plan.sealKey, JSON.stringify(body)) };
}

function open(plan: IdempotencyPlan, sealed: Sealed): unknown {
  return JSON.parse(openText(plan.sealKey, sealed));
}

/**
 * The stored answer to replay, if this key was used before; 422 MP_IDEMPOTENCY_KEY_REUSED when it
 * was used with another request.
 */
export async function findReplay(
  store: Store,
  plan: IdempotencyPlan,
): Promise<{ status: number; body: unknown } | undefined> {
  const record = await store.getIdempotency(plan.tokenId, plan.keyHash);
  if (!record) return undefined;
  if (record.requestHash !== plan.requestHash) {
    throw problem(
      "MP_IDEMPOTENCY_KEY_REUSED",
      "this Idempotency-Key was already used with a different request",
    );
  }
  return { status: record.status, body: open(plan, record.body as Sealed) };
}

/** The store input that saves the answer (sealed) in the write's own transaction. */
export function idempotencyInput<R>(
  plan: IdempotencyPlan,
  response: (result: R) => { status: number; body: unknown },
): IdempotencyInput<R> {
  return {
    tokenId: plan.tokenId,
    key: plan.keyHash,
    requestHash: plan.requestHash,
    expiresAt: plan.expiresAt,
    response: (result) => {
      const r = response(result);
      return { status: r.status, body: seal(plan, r.body) };
    },
  };
}
