/** The generic create/read/update/delete of a mailplane resource over the control plane's API. */
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { toDotPath } from "../../../sdk/src/errors.ts";
import type { KindDescriptor } from "../../../sdk/src/models/kinds.ts";
import { plannedCreateFailure } from "./account-limits.ts";
import { type CheckFailure, checkInputs, describeFailures } from "./check.ts";
import type { ConnectionSettings } from "./config.ts";
import { CONNECTION, connectionOf, movesElsewhere } from "./connection.ts";
import { diffResource, keepListOrder, type UniqueNames } from "./diff.ts";
import { stampOption } from "./stamp.ts";

/** An object as the API returns it (spec fields, `id`, `etag`, timestamps, computed outputs). */
export type Stored = Record<string, unknown> & { etag: string };

/** Preconditions and idempotency of a PUT. */
export interface PutOptions {
  /** `If-None-Match: *`: create only; an object that exists is 412 (`MP_PRECONDITION_FAILED`) and stays as it is. */
  ifNoneMatch?: "*";
  /** `Idempotency-Key`: a repeat of the request is answered as its first attempt was. */
  idempotencyKey?: string;
}

/**
 * The four calls the lifecycle needs, by API path. Errors carry the catalogue's `code`
 * (`MP_NOT_FOUND`, `MP_PRECONDITION_FAILED`…); the implementation retries 429/5xx itself.
 */
export interface ObjectApi {
  /** `options.quick`: one attempt within a few seconds, no retries (for advice that may be skipped). */
  get(path: string, options?: { quick?: boolean }): Promise<Stored>;
  put(path: string, body: Record<string, unknown>, options?: PutOptions): Promise<Stored>;
  patch(path: string, body: Record<string, unknown>, ifMatch?: string): Promise<Stored>;
  delete(path: string, ifMatch?: string): Promise<void>;
}

/** What differs between two behaviours of the seven kinds; everything else is shared. */
export interface KindHooks {
  /** Names that must stay unique on the platform (see {@link UniqueNames}). */
  uniqueNames?: UniqueNames;
  /** Extra preview-time rules that need the old inputs (e.g. a password is required to create a user). */
  check?(olds: Record<string, unknown>, inputs: Record<string, unknown>): CheckFailure[];
  /** Runs before DELETE; e.g. a user is disabled first. */
  beforeDelete?(api: ObjectApi, path: string, props: Record<string, unknown>): Promise<void>;
}

/** The implementation the runtime dispatches to: Pulumi's dynamic-provider methods, minus `configure`. */
export type ResourceImpl = Required<Omit<pulumi.dynamic.ResourceProvider, "configure">>;

type Props = Record<string, any>;

/** An error carrying a catalogue code, from any copy of the SDK (match on `code`). */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The API's field errors (422) printed like check failures: `path: message`, one per line. */
function describeApiError(kind: string, id: string, action: string, err: unknown): Error {
  const code = errorCode(err);
  let message = err instanceof Error ? err.message : String(err);
  if (code === "MP_ACCOUNT_REQUIRED") {
    // The API's words name its HTTP header; a Pulumi user sets the account in config, as the provider reads it.
    message =
      "the token is a platform-admin token, which acts on no account by itself: set `pulumi config set mailplane:account <account id>` or MAILPLANE_ACCOUNT, or give the stack the account's own token (`mailplane token create --account <account id>`)";
  }
  const fields = (err as { errors?: { path: (string | number)[]; message: string }[] }).errors ?? [];
  const lines = fields.map((f) => `  ${toDotPath(f.path) || "(root)"}: ${f.message}`);
  let hint = "";
  if (code === "MP_PRECONDITION_FAILED") {
    hint =
      "\n  it changed outside Pulumi since it was last read: run `pulumi refresh` (or `pulumi up --refresh`) to see how, then `pulumi up` again";
  } else if (code === "MP_PARENT_NOT_FOUND") {
    hint =
      "\n  its domain does not exist yet: pass the Domain's output (`domain: domain.name`) or `dependsOn: [domain]`, so Pulumi creates the domain first";
  } else if (code === "MP_UNAUTHORIZED") {
    hint =
      "\n  the platform refused the token: check mailplane:token or the resource's `connection`; when it comes from an ApiToken of this program that was revoked outside Pulumi, a refresh of that ApiToken (`pulumi refresh --target <its URN>`) drops it and `pulumi up` makes a new one and hands it on";
  } else if (code === "MP_NOT_FOUND" && action === "update") {
    hint =
      "\n  it was deleted outside Pulumi: run `pulumi refresh` to drop it from the state, then `pulumi up` recreates it";
  }
  const text = `mailplane: ${action} ${kind} ${id} failed${code ? ` (${code})` : ""}: ${message}${lines.length ? `\n${lines.join("\n")}` : ""}${hint}`;
  return Object.assign(new Error(text), { code });
}

/** Errors the server answered deliberately: the write was refused, so nothing was created. */
export const ANSWERED = new Set([
  "MP_BAD_REQUEST",
  "MP_ACCOUNT_REQUIRED",
  "MP_UNAUTHORIZED",
  "MP_FORBIDDEN",
  "MP_NOT_FOUND",
  "MP_ALREADY_EXISTS",
  "MP_CONFLICT",
  "MP_PARENT_NOT_FOUND",
  "MP_PRECONDITION_FAILED",
  "MP_PAYLOAD_TOO_LARGE",
  "MP_UNSUPPORTED_MEDIA_TYPE",
  "MP_VALIDATION_FAILED",
  "MP_PASSWORD_POLICY_VIOLATION",
  "MP_PRECONDITION_REQUIRED",
]);

/** True when this call carries a stack stamp that the object does not have yet (an adoption). */
function restamps(existing: Stored): boolean {
  const stamp = stampOption().managedBy;
  if (stamp === undefined) return false;
  const held = existing["managedBy"] as Record<string, unknown> | null | undefined;
  return !(
    held &&
    held["project"] === stamp.project &&
    held["stack"] === stamp.stack &&
    held["tool"] === stamp.tool
  );
}

/** Splits Pulumi's inputs into the model's spec and the provider's own inputs. */
function splitInputs(inputs: Props): {
  declared: Props;
  adopt: boolean | undefined;
  provider: unknown;
  connection: ConnectionSettings | undefined;
} {
  const { __provider, adopt, connection: _connection, ...declared } = inputs;
  return {
    declared,
    adopt: typeof adopt === "boolean" ? adopt : undefined,
    provider: __provider,
    connection: connectionOf(inputs),
  };
}

/**
 * Builds a kind's provider implementation.
 *
 * State layout: outputs are the object as the API returns it, plus the write-only secret fields as
 * declared (a user's password; Pulumi encrypts it because the input is secret and the class lists it
 * in `additionalSecretOutputs`) and `adopt`. Inputs are the normalised spec (see `check`).
 */
export function defineProvider(
  kind: KindDescriptor,
  api: (connection?: ConnectionSettings) => Promise<ObjectApi>,
  hooks: KindHooks = {},
): ResourceImpl {
  const spec = kind.spec as unknown as z.ZodObject;
  const specFields = Object.keys(spec.shape);
  const secretFields = kind.secretFields;

  /**
   * Outputs from the API object; secrets and `adopt` mirror what was declared — present exactly when
   * declared, or a refresh would carry a removed one back into the inputs and diff forever.
   */
  const outputsOf = (
    live: Stored,
    declared: Props,
    adopt: boolean | undefined,
    connection: ConnectionSettings | undefined,
  ): Props => {
    // The object's `id` is the resource's ID; Pulumi reserves the `id` property for it. The stack
    // stamp is the platform's record of this very stack: kept out of the state, so another stack's
    // stamp read by a refresh is no change here.
    const { id: _id, adopt: _adopt, connection: _c, managedBy: _m, ...outs }: Props = { ...live };
    for (const field of secretFields) {
      if (declared[field] !== undefined) outs[field] = declared[field];
      else delete outs[field];
    }
    if (adopt !== undefined) outs["adopt"] = adopt;
    // Kept in the outputs (secret: the class lists it in additionalSecretOutputs) because refresh
    // and destroy get only the outputs and must reach the same platform and account.
    if (connection !== undefined) outs[CONNECTION] = connection;
    return outs;
  };

  /** The inputs a refresh records: the spec fields as they live on the platform. */
  const inputsOf = (live: Stored, old: Props): Props => {
    const inputs: Props = {};
    for (const field of specFields) {
      if (secretFields.includes(field)) {
        if (old[field] !== undefined) inputs[field] = old[field];
      } else if (live[field] !== undefined) {
        inputs[field] = live[field];
      }
    }
    if (typeof old["adopt"] === "boolean") inputs["adopt"] = old["adopt"];
    if (old[CONNECTION] !== undefined) inputs[CONNECTION] = old[CONNECTION];
    return inputs;
  };

  /** The fields of `declared` that differ from `live` (key fields never do: they are the path). */
  const changedFields = (live: Props, declared: Props): Props => {
    const body: Props = {};
    for (const field of specFields) {
      if (kind.keyFields.includes(field) || declared[field] === undefined) continue;
      if (!isDeepStrictEqual(live[field], declared[field])) body[field] = declared[field];
    }
    return body;
  };

  const describeChanges = (live: Props, body: Props): string =>
    Object.keys(body)
      .map((field) =>
        secretFields.includes(field)
          ? `${field}: [secret]`
          : `${field}: ${JSON.stringify(live[field])} → ${JSON.stringify(body[field])}`,
      )
      .join(", ");

  /**
   * True when the checked inputs declare exactly what the old outputs hold: every spec field, `adopt`
   * and `connection` equal (unset and null alike), so an update would send nothing. Unknown values
   * (preview) never equal anything.
   */
  const declaresStored = (olds: Props, news: Props): boolean =>
    [...specFields, "adopt", CONNECTION].every((field) =>
      isDeepStrictEqual(olds[field] ?? null, news[field] ?? null),
    ) && Object.keys(news).every((field) => field === "__provider" || field in olds);

  /** `{ id }` for a kind whose model has an `id` field (the resource ID is its value), else nothing. */
  const idField = (id: string): Props => ("id" in spec.shape && id !== "" ? { id } : {});

  const get = async (
    path: string,
    connection: ConnectionSettings | undefined,
  ): Promise<Stored | undefined> => {
    try {
      return await (await api(connection)).get(path);
    } catch (err) {
      // For a singleton this means its domain is gone, and with it the settings.
      if (errorCode(err) === "MP_NOT_FOUND") return undefined;
      throw err;
    }
  };

  return {
    async check(olds, news) {
      const outcome = checkInputs(kind, news);
      // Every failure at once: the kind's own rules too, so one preview lists all there is to fix.
      if (hooks.check) outcome.failures.push(...hooks.check(olds, outcome.inputs));
      // A create (no olds) that is not an adoption counts against the account's limits.
      if (outcome.failures.length === 0 && Object.keys(olds).length === 0 && news["adopt"] !== true) {
        const { adopt: _adopt, ...declared } = outcome.inputs;
        // Counted per connection: the resource's own (unknown during preview: not counted), or the stack's.
        const overLimit = await plannedCreateFailure(kind, declared, () => api(connectionOf(declared)));
        if (overLimit) outcome.failures.push(overLimit);
      }
      if (outcome.failures.length > 0) {
        return { inputs: outcome.inputs, failures: describeFailures(kind, news, outcome.failures) };
      }
      // Sets in the stored order, so the engine's by-index diff shows an insertion as one element.
      return { inputs: keepListOrder(olds, outcome.inputs), failures: [] };
    },

    async diff(id, olds, news) {
      // The resource ID stands in for a model field named `id` (an Account's slug), which Pulumi
      // keeps out of the outputs.
      const before = { ...olds, ...idField(id) };
      const outcome = diffResource(kind, before, news, hooks.uniqueNames, movesElsewhere(olds, news));
      // Nothing declared differs from the stored object: say so. Left "unknown", the engine would
      // compare old and new inputs itself, `__provider` included, and a stack written by a version
      // with another provider text (see shim.ts) would preview an update of every resource.
      if (outcome.replaces.length === 0 && declaresStored(before, news))
        return { ...outcome, changes: false };
      return outcome;
    },

    async create(inputs) {
      const { declared, adopt, provider, connection } = splitInputs(inputs);
      const normalised = spec.parse(declared) as Props;
      const id = kind.id(normalised);
      const path = kind.path(normalised);
      if (!kind.singleton && adopt !== true) {
        // One request: the platform creates the object, or refuses (412) and leaves an existing one
        // as it is. When no answer came (after the client's own retries), the same request once more,
        // under the same Idempotency-Key, learns what happened: the first attempt's answer replayed,
        // a 412, or the create done now. So an object whose create answer was lost is recorded, not
        // orphaned, and an object someone else made is never taken for ours.
        const options: PutOptions = { ifNoneMatch: "*", idempotencyKey: randomUUID() };
        const put = async () => (await api(connection)).put(path, normalised, options);
        try {
          const created = await put().catch((err: unknown) => {
            if (ANSWERED.has(errorCode(err) ?? "")) throw err;
            return put();
          });
          return { id, outs: outputsOf(created, normalised, adopt, connection) };
        } catch (err) {
          if (errorCode(err) === "MP_PRECONDITION_FAILED") {
            throw new Error(
              `mailplane: ${kind.name} ${id} already exists; set \`adopt: true\` on the resource to take it over (pulumi import cannot work for dynamic providers)`,
            );
          }
          throw describeApiError(kind.name, id, "create", err);
        }
      }
      // Adopting, or a singleton (which always exists): read it, then converge it, or create it.
      let existing: Stored | undefined;
      try {
        existing = await get(path, connection);
      } catch (err) {
        throw describeApiError(kind.name, id, "create", err);
      }
      if (existing === undefined) {
        try {
          const created = await (await api(connection)).put(path, normalised);
          return { id, outs: outputsOf(created, normalised, adopt, connection) };
        } catch (err) {
          const failure = describeApiError(kind.name, id, "create", err);
          // No answer (network, timeout, 5xx after the client's retries) does not mean no object: if
          // it exists now, record it (partial state) rather than orphan it; the next up converges it.
          if (!ANSWERED.has(errorCode(err) ?? "")) {
            const after = await get(path, connection).catch(() => undefined);
            if (after !== undefined) {
              throw Object.assign(failure, {
                id,
                properties: { ...outputsOf(after, normalised, adopt, connection), __provider: provider },
                reasons: [failure.message],
              });
            }
          }
          throw failure;
        }
      }
      const body = changedFields(existing, normalised);
      // Already as declared: written only to record this stack's stamp, if the platform lacks it —
      // never for `adopt: true` (an import), which takes objects over without writing; its stamp
      // comes with the first real update.
      if (Object.keys(body).length === 0 && (adopt === true || !restamps(existing)))
        return { id, outs: outputsOf(existing, normalised, adopt, connection) };
      // Report what differed: the provider's stderr shows among the run's diagnostics.
      process.stderr.write(`mailplane: adopting ${kind.name} ${id}: ${describeChanges(existing, body)}\n`);
      try {
        const updated = await (await api(connection)).patch(path, body, existing.etag);
        return { id, outs: outputsOf(updated, normalised, adopt, connection) };
      } catch (err) {
        // The object exists and is now ours: record it (partial state) so it is never orphaned.
        const failure = describeApiError(kind.name, id, "adopt", err);
        throw Object.assign(failure, {
          id,
          properties: { ...outputsOf(existing, {}, adopt, connection), __provider: provider },
          reasons: [failure.message],
        });
      }
    },

    async read(id, stored = {}) {
      const props: Props = { ...stored, ...idField(id) };
      const live = await get(kind.path(props), connectionOf(props)).catch((err: unknown) => {
        throw describeApiError(kind.name, id, "read", err);
      });
      // Gone: an empty ID tells the engine to drop it from the state (the next up recreates it).
      if (live === undefined) return { id: "", props: {} };
      const outs = outputsOf(live, props, props["adopt"], connectionOf(props));
      // Inputs only when something drifted: they are the live values, and the engine then diffs the
      // program against them. Unchanged, the stored inputs already say the same (and the engine has
      // less to store: this is ~20% of a refresh's cost over the floor at 1,000 resources).
      const drifted = specFields.some(
        (field) => !secretFields.includes(field) && !isDeepStrictEqual(live[field], props[field]),
      );
      return drifted ? { id, props: outs, inputs: inputsOf(live, props) } : { id, props: outs };
    },

    async update(id, olds, news) {
      const { declared, adopt, connection } = splitInputs(news);
      const normalised = spec.parse(declared) as Props;
      const body = changedFields(olds, normalised);
      const { __provider: _p, ...previous } = olds;
      if (Object.keys(body).length === 0)
        return { outs: outputsOf(previous as Stored, normalised, adopt, connection) };
      try {
        const updated = await (await api(connection)).patch(kind.path(normalised), body, olds["etag"]);
        return { outs: outputsOf(updated, normalised, adopt, connection) };
      } catch (err) {
        throw describeApiError(kind.name, id, "update", err);
      }
    },

    async delete(id, stored) {
      const props: Props = { ...stored, ...idField(id) };
      const path = kind.path(props);
      try {
        const http = await api(connectionOf(props));
        await hooks.beforeDelete?.(http, path, props);
        await http.delete(path);
      } catch (err) {
        // Already gone is what delete wants.
        if (errorCode(err) === "MP_NOT_FOUND") return;
        throw describeApiError(kind.name, id, "delete", err);
      }
    },
  };
}
