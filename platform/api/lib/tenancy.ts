/**
 * The lifecycle every tenancy kind shares — list, get, put (create or replace), patch (merge, then
 * re-validate whole), delete; for singletons get-or-defaults, put, patch and reset — written once and
 * instantiated by each kind's route plugin (routes/<plural>.ts) with its own key, rendering and hooks.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  DEFAULTS_ETAG,
  type KindDescriptor,
  ListQuery,
  normaliseAddress,
  type ProblemFieldError,
  validationErrorFromFields,
} from "../../../sdk/src/index.ts";
import type { CredentialInput } from "../../store/contract/credential-store.ts";
import type {
  DeleteObjectInput,
  PutObjectInput,
  PutObjectResult,
  StoredObject,
} from "../../store/contract/object-store.ts";
import { isStoreError, StoreError } from "../../store/contract/store-error.ts";
import type { IfMatch } from "../../store/contract/write-context.ts";
import { writeContext } from "../audit.ts";
import { requireAuth } from "../auth.ts";
import { findReplay, idempotencyInput, idempotencyPlan } from "../idempotency.ts";
import { fieldError, problem } from "../problem.ts";
import { parseWith } from "../validation.ts";
import { createOnly, ifMatch, normalisedParams, serve, setEtag } from "./http.ts";
import { stampOf } from "./managed-by.ts";
import type { ApiServices } from "./services.ts";

const JSON_TYPE = "application/json; charset=utf-8";

/** What a kind's write hook receives. */
export interface WriteHookInput {
  services: ApiServices;
  request: FastifyRequest;
  accountId: string;
  id: string;
  domain: string | null;
  /** The validated, normalised spec, secrets included. */
  spec: Record<string, unknown>;
  current: StoredObject | null;
}

/** What a kind's write hook returns: the spec to store and, for users, the state and a new password hash. */
export interface WriteHookResult {
  spec: Record<string, unknown>;
  enabled?: boolean;
  credential?: CredentialInput;
  /** Names no other Domain may hold, checked by the store inside the write (domains). */
  claims?: PutObjectInput["claims"];
}

/** How one kind plugs into the shared lifecycle. */
export interface KindRoutes {
  kind: KindDescriptor;
  /** The object's key fields from the canonical path parameters (for `kind.id`/`kind.path`). */
  keyFromParams(params: Record<string, string>): Record<string, unknown> | undefined;
  /** Adds server-computed fields (Domain.dnsRecords, User.domain …) to the API object. */
  render?(
    object: StoredObject,
    base: Record<string, unknown>,
    services: ApiServices,
  ): Record<string, unknown>;
  /** Checks and transforms a write before it is stored (users: password policy and hashing). */
  beforeWrite?(input: WriteHookInput): Promise<WriteHookResult>;
  /** Spec fields the server keeps for itself (Domain: its DKIM keys): never rendered, never merged into a PATCH. */
  internalFields?: string[];
  /** Extra delete behaviour (domains: refuse while in use, take singletons along; users: disabled first). */
  deleteOptions?: Pick<DeleteObjectInput, "refuseIfDependents" | "cascadeKinds" | "guard" | "successor">;
  /** Singletons: the defaults of a scope. */
  defaults?(scope: string): Record<string, unknown>;
}

/**
 * Runs a store write; a conflict about an entry of a list the model sorts (a user's extra address
 * at `addresses[i]`) is reported at the index the caller wrote, as the model's own errors are.
 */
async function writtenAt<T>(
  body: unknown,
  spec: Record<string, unknown>,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const path = isStoreError(error, "conflict") ? error.path : undefined;
    const [field, sorted] = path ?? [];
    if (typeof field !== "string" || typeof sorted !== "number") throw error;
    const raw = (body as Record<string, unknown> | null)?.[field];
    const value = (spec[field] as unknown[] | undefined)?.[sorted];
    if (!Array.isArray(raw) || typeof value !== "string") throw error;
    const at = raw.findIndex((v) => typeof v === "string" && normaliseAddress(v) === value);
    if (at < 0 || at === sorted) throw error;
    throw new StoreError("conflict", (error as StoreError).message, undefined, { path: [field, at] });
  }
}

/** True when two sets of path parameters are equal. */
function sameParams(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** Which spec field a path parameter stands for, for "must match the path" errors. */
function fieldOfParam(kind: KindDescriptor, param: string): string {
  if (param === "domain") {
    if (kind.keyFields.includes("domain")) return "domain";
    return kind.keyFields[0] ?? "domain";
  }
  return { route: "host", list: "kind", alias: "address", user: "address", group: "address" }[param] ?? param;
}

const MAX_PATCH_ATTEMPTS = 3;

/**
 * Registers every contract endpoint of `routes.kind` on `app`.
 *
 * @example registerKind(app, { kind: routeKind, keyFromParams: (p) => ({ domain: p.domain, ...parseRouteName(p.route!) }) })
 */
export function registerKind(app: FastifyInstance, routes: KindRoutes): void {
  const s = app.services;
  const { store } = s;
  const kind = routes.kind;
  const nested = kind.itemPath.startsWith("/v1/domains/:domain/");

  const publicSpec = (spec: Record<string, unknown>) => {
    if (!routes.internalFields) return spec;
    const out = { ...spec };
    for (const f of routes.internalFields) delete out[f];
    return out;
  };
  const render = (o: StoredObject): Record<string, unknown> => {
    const base = {
      ...publicSpec(o.spec),
      id: o.id,
      etag: o.etag,
      createdAt: o.createdAt,
      updatedAt: o.updatedAt,
      managedBy: o.managedBy,
    };
    return routes.render ? routes.render(o, base, s) : base;
  };
  /**
   * The API object as JSON text, memoised per stored record: the store hands out the same record until
   * the next commit, so a hot object is rendered (DNS records and all) and stringified once, not per
   * request. The text is what the response schema describes; it is sent as is.
   */
  const rendered = new WeakMap<StoredObject, string>();
  const renderJson = (o: StoredObject): string => {
    let text = rendered.get(o);
    if (text === undefined) {
      text = JSON.stringify(render(o));
      rendered.set(o, text);
    }
    return text;
  };

  /** The object's store ID from the request path; 404 when the path names nothing that could exist. */
  const locate = (request: FastifyRequest) => {
    const params = normalisedParams(request);
    const key = routes.keyFromParams(params);
    // The key must name this very path (an alias of another domain under this one is not here).
    if (!key || !sameParams(kind.params(key as never), params)) {
      throw problem("MP_NOT_FOUND", `no ${kind.name} at ${request.url.split("?")[0]}`);
    }
    return { params, id: kind.id(key as never), domain: params.domain ?? null };
  };

  const requireDomain = async (accountId: string, domain: string) => {
    const d = await store.getObject(accountId, "Domain", domain);
    if (!d) throw problem("MP_NOT_FOUND", `domain ${domain} does not exist`);
    return d;
  };

  /** The body's key fields must name the object the path names. */
  const checkKey = (spec: Record<string, unknown>, params: Record<string, string>) => {
    const expected = kind.params(spec as never);
    const errors: ProblemFieldError[] = [];
    for (const name of new Set([...Object.keys(expected), ...Object.keys(params)])) {
      if (expected[name] !== params[name]) {
        const field = fieldOfParam(kind, name);
        errors.push(fieldError([field], "custom", `must match the path (${params[name] ?? "account"})`));
      }
    }
    if (errors.length > 0) throw validationErrorFromFields(errors);
  };

  const stripSecrets = (spec: Record<string, unknown>) => {
    const out = { ...spec };
    for (const f of kind.secretFields) delete out[f];
    return out;
  };

  const write = async (
    request: FastifyRequest,
    target: { accountId: string; id: string; domain: string | null },
    spec: Record<string, unknown>,
    current: StoredObject | null,
    conditions: Pick<PutObjectInput, "ifMatch" | "mustExist" | "mustNotExist" | "idempotency">,
  ) => {
    // A malformed stamp is refused before anything is prepared (a password is not hashed for nothing).
    const stamp = stampOf(request);
    const prepared = routes.beforeWrite
      ? await routes.beforeWrite({ services: s, request, ...target, spec, current })
      : { spec };
    return writtenAt(request.body, prepared.spec, () =>
      store.putObject(
        {
          accountId: target.accountId,
          kind: kind.name,
          id: target.id,
          domain: target.domain,
          spec: stripSecrets(prepared.spec),
          ...(prepared.enabled === undefined ? {} : { enabled: prepared.enabled }),
          ...(prepared.credential ? { credential: prepared.credential } : {}),
          ...(prepared.claims ? { claims: prepared.claims } : {}),
          ...stamp,
          ...(nested && target.domain ? { parent: { kind: "Domain", id: target.domain } } : {}),
          ...conditions,
        },
        writeContext(request),
      ),
    );
  };

  /** Answers with the object (its memoised JSON) and its ETag; 200 unless a create says 201. */
  const sendObject = (reply: FastifyReply, o: StoredObject, status = 200) => {
    setEtag(reply, o.etag);
    return reply.status(status).type(JSON_TYPE).send(renderJson(o));
  };

  const op = (verb: string, at = "") => `${verb}${at}${kind.name}`;

  if (!kind.singleton) {
    const plural = kind.plural.charAt(0).toUpperCase() + kind.plural.slice(1);

    serve(app, `list${plural}`, async (request, reply) => {
      const auth = requireAuth(request);
      const params = normalisedParams(request);
      if (nested && params.domain) await requireDomain(auth.accountId, params.domain);
      const query = parseWith(ListQuery, request.query, "query");
      const page = await store.listObjects({
        accountId: auth.accountId,
        kind: kind.name,
        ...(nested && params.domain ? { domain: params.domain } : {}),
        ...(!nested && auth.domains ? { domainIn: [...auth.domains] } : {}),
        limit: query.limit,
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      // Assembled from the memoised item texts; same shape as pageOf(kind.object).
      return reply
        .type(JSON_TYPE)
        .send(
          `{"items":[${page.items.map(renderJson).join(",")}],"nextCursor":${JSON.stringify(page.nextCursor)}}`,
        );
    });

    serve(app, op("get"), async (request, reply) => {
      const auth = requireAuth(request);
      const { id } = locate(request);
      const o = await store.getObject(auth.accountId, kind.name, id);
      if (!o) throw problem("MP_NOT_FOUND", `${kind.name} ${id} does not exist`);
      return sendObject(reply, o);
    });

    serve(app, op("put"), async (request, reply) => {
      const auth = requireAuth(request);
      const { params, id, domain } = locate(request);
      const spec = parseWith(kind.spec, request.body, "body") as Record<string, unknown>;
      checkKey(spec, params);
      const onlyCreate = createOnly(request);
      const plan = idempotencyPlan(request, auth.accountId, s.now(), s.idempotencyTtlMs);
      /** The answer stored under this Idempotency-Key, if a request with it was applied before. */
      const replay = async () => {
        const found = plan ? await findReplay(store, plan) : undefined;
        if (!found) return undefined;
        setEtag(reply, (found.body as { etag: string }).etag);
        return reply.header("idempotent-replayed", "true").status(found.status).send(found.body);
      };
      const exists = () => problem("MP_PRECONDITION_FAILED", `${kind.name} ${id} already exists`);
      const current = (await store.getObject(auth.accountId, kind.name, id)) ?? null;
      if (current && plan) {
        // Maybe this very request created it, and its answer was lost: answer what it answered.
        const replayed = await replay();
        if (replayed) return replayed;
      }
      // Refused before the write hook runs (a user's password is not hashed for nothing); the store
      // checks again inside its write transaction, which is what makes concurrent creates safe.
      if (onlyCreate && current) throw exists();
      const condition = ifMatch(request);
      try {
        const result = await write(request, { accountId: auth.accountId, id, domain }, spec, current, {
          ...(condition === undefined ? {} : { ifMatch: condition }),
          ...(onlyCreate ? { mustNotExist: true } : {}),
          ...(plan
            ? {
                idempotency: idempotencyInput<PutObjectResult>(plan, (r) => ({
                  status: r.created ? 201 : 200,
                  body: render(r.object),
                })),
              }
            : {}),
        });
        return sendObject(reply, result.object, result.created ? 201 : 200);
      } catch (error) {
        // Another request with the same key committed first: answer what it answered.
        if (isStoreError(error, "idempotency_exists")) {
          const again = await replay();
          if (again) return again;
        }
        // RFC 9110 §13.1.2: a failed If-None-Match on a write is 412, not 409.
        if (onlyCreate && isStoreError(error, "already_exists")) throw exists();
        throw error;
      }
    });

    serve(app, op("patch"), async (request, reply) => {
      const auth = requireAuth(request);
      const { id, domain } = locate(request);
      const patch = parseWith(kind.patch, request.body, "body") as Record<string, unknown>;
      const condition = ifMatch(request);
      for (let attempt = 1; ; attempt++) {
        const current = await store.getObject(auth.accountId, kind.name, id);
        if (!current) throw problem("MP_NOT_FOUND", `${kind.name} ${id} does not exist`);
        const spec = parseWith(kind.spec, { ...publicSpec(current.spec), ...patch }, "body") as Record<
          string,
          unknown
        >;
        try {
          // Without If-Match, guard against a write between our read and ours, and retry on it.
          const result = await write(request, { accountId: auth.accountId, id, domain }, spec, current, {
            mustExist: true,
            ifMatch: condition ?? current.etag,
          });
          return sendObject(reply, result.object);
        } catch (error) {
          if (
            condition !== undefined ||
            attempt >= MAX_PATCH_ATTEMPTS ||
            !isStoreError(error, "precondition_failed")
          ) {
            throw error;
          }
        }
      }
    });

    serve(app, op("delete"), async (request, reply) => {
      const auth = requireAuth(request);
      const { id } = locate(request);
      const condition = ifMatch(request);
      await store.deleteObject(
        {
          accountId: auth.accountId,
          kind: kind.name,
          id,
          ...(condition === undefined ? {} : { ifMatch: condition }),
          ...routes.deleteOptions,
        },
        writeContext(request),
      );
      return reply.status(204).send();
    });
    return;
  }

  // ------------------------------------------------------------------ singletons
  const defaults = routes.defaults;
  if (!defaults) throw new Error(`singleton ${kind.name} needs defaults`);

  for (const at of ["Account", "Domain"] as const) {
    /** The stored object, or the defaults dressed as one (etag "defaults", the scope owner's dates). */
    const load = async (request: FastifyRequest) => {
      const auth = requireAuth(request);
      const located = locate(request);
      const owner = located.domain
        ? await requireDomain(auth.accountId, located.domain)
        : await store.getAccount(auth.accountId);
      const stored = (await store.getObject(auth.accountId, kind.name, located.id)) ?? null;
      const scope = located.domain ?? "account";
      const fallback: StoredObject = {
        accountId: auth.accountId,
        kind: kind.name,
        id: located.id,
        domain: located.domain,
        spec: defaults(scope),
        enabled: true,
        etag: DEFAULTS_ETAG,
        version: 0,
        createdAt: owner?.createdAt ?? new Date(0).toISOString(),
        updatedAt: owner?.updatedAt ?? new Date(0).toISOString(),
        secretSetAt: null,
        generation: "",
        managedBy: null,
      };
      return { auth, ...located, stored, effective: stored ?? fallback };
    };

    /** If-Match against a singleton: "defaults" matches while nothing is stored. */
    const conditions = (condition: IfMatch | undefined, stored: StoredObject | null) => {
      if (condition === undefined) return {};
      const tags = typeof condition === "string" ? [condition] : condition;
      if (!stored) {
        if (tags.includes(DEFAULTS_ETAG) || tags.includes("*")) return { mustNotExist: true };
        throw problem("MP_PRECONDITION_FAILED", `${kind.name} is at its defaults (etag "${DEFAULTS_ETAG}")`);
      }
      return { ifMatch: condition };
    };

    /** A racing writer makes mustNotExist fail: that is a precondition failure to the client. */
    const asPrecondition = (error: unknown) =>
      isStoreError(error, "already_exists")
        ? problem("MP_PRECONDITION_FAILED", "the settings changed meanwhile")
        : error;

    serve(app, op("get", at), async (request, reply) => {
      const { effective } = await load(request);
      return sendObject(reply, effective);
    });

    serve(app, op("put", at), async (request, reply) => {
      const { auth, params, id, domain, stored } = await load(request);
      const spec = parseWith(kind.spec, request.body, "body") as Record<string, unknown>;
      checkKey(spec, params);
      try {
        const result = await write(
          request,
          { accountId: auth.accountId, id, domain },
          spec,
          stored,
          conditions(ifMatch(request), stored),
        );
        return sendObject(reply, result.object);
      } catch (error) {
        throw asPrecondition(error);
      }
    });

    serve(app, op("patch", at), async (request, reply) => {
      const patch = parseWith(kind.patch, request.body, "body") as Record<string, unknown>;
      const condition = ifMatch(request);
      for (let attempt = 1; ; attempt++) {
        const { auth, id, domain, stored, effective } = await load(request);
        const spec = parseWith(kind.spec, { ...effective.spec, ...patch }, "body") as Record<string, unknown>;
        try {
          const result = await write(
            request,
            { accountId: auth.accountId, id, domain },
            spec,
            stored,
            conditions(condition ?? (stored ? stored.etag : DEFAULTS_ETAG), stored),
          );
          return sendObject(reply, result.object);
        } catch (error) {
          const retry =
            condition === undefined &&
            attempt < MAX_PATCH_ATTEMPTS &&
            (isStoreError(error, "precondition_failed") || isStoreError(error, "already_exists"));
          if (!retry) throw asPrecondition(error);
        }
      }
    });

    serve(app, op("reset", at), async (request, reply) => {
      const { auth, id, stored, effective } = await load(request);
      const condition = ifMatch(request);
      if (stored) {
        await store.deleteObject(
          {
            accountId: auth.accountId,
            kind: kind.name,
            id,
            auditAction: "reset",
            ...(condition === undefined ? {} : { ifMatch: condition }),
          },
          writeContext(request),
        );
      } else {
        conditions(condition, null);
      }
      const reset: StoredObject = {
        ...effective,
        spec: defaults(effective.domain ?? "account"),
        etag: DEFAULTS_ETAG,
        version: 0,
        updatedAt: s.now().toISOString(),
        secretSetAt: null,
        // The reset deleted the stored settings, and their stamp with them.
        managedBy: null,
      };
      return sendObject(reply, reset);
    });
  }
}
