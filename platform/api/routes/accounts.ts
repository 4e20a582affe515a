/** Accounts (tenants): `/v1/accounts[/:account]`, platform admins only. Deleting one deletes everything in it. */
import type { FastifyInstance } from "fastify";
import { AccountSpec, ListQuery, validationErrorFromFields } from "../../../sdk/src/index.ts";
import type { AccountRecord } from "../../store/contract/account-store.ts";
import { isStoreError } from "../../store/contract/store-error.ts";
import { writeContext } from "../audit.ts";
import { createOnly, ifMatch, normalisedParams, serve, setEtag } from "../lib/http.ts";
import { fieldError, problem } from "../problem.ts";
import { parseWith } from "../validation.ts";

/** An account as the API returns it. */
export function renderAccount(a: AccountRecord): Record<string, unknown> {
  return { ...a.spec, id: a.id, etag: a.etag, createdAt: a.createdAt, updatedAt: a.updatedAt };
}

/**
 * The Account route plugin.
 *
 * @example app.register(accountRoutes)
 */
export async function accountRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.services;

  serve(app, "listAccounts", async (request) => {
    const query = parseWith(ListQuery, request.query, "query");
    const page = await store.listAccounts({
      limit: query.limit,
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    return { items: page.items.map(renderAccount), nextCursor: page.nextCursor };
  });

  serve(app, "getAccount", async (request, reply) => {
    const { account } = normalisedParams(request);
    const a = await store.getAccount(account!);
    if (!a) throw problem("MP_NOT_FOUND", `account ${account} does not exist`);
    setEtag(reply, a.etag);
    return renderAccount(a);
  });

  serve(app, "putAccount", async (request, reply) => {
    const { account } = normalisedParams(request);
    const spec = parseWith(AccountSpec, request.body, "body");
    if (spec.id !== account) {
      throw validationErrorFromFields([fieldError(["id"], "custom", `must match the path (${account})`)]);
    }
    const condition = ifMatch(request);
    // `If-None-Match: *` (RFC 9110 §13.1.2): create only, so a declared account never takes over one
    // that exists; checked inside the store's write transaction.
    const onlyCreate = createOnly(request);
    const result = await store
      .putAccount(
        {
          id: spec.id,
          spec,
          ...(condition === undefined ? {} : { ifMatch: condition }),
          ...(onlyCreate ? { mustNotExist: true } : {}),
        },
        writeContext(request),
      )
      .catch((error: unknown) => {
        if (onlyCreate && isStoreError(error, "already_exists")) {
          throw problem("MP_PRECONDITION_FAILED", `account ${spec.id} already exists`);
        }
        throw error;
      });
    setEtag(reply, result.account.etag);
    return reply.status(result.created ? 201 : 200).send(renderAccount(result.account));
  });

  serve(app, "deleteAccount", async (request, reply) => {
    const { account } = normalisedParams(request);
    const condition = ifMatch(request);
    await store.deleteAccount(
      { id: account!, ...(condition === undefined ? {} : { ifMatch: condition }) },
      writeContext(request),
    );
    return reply.status(204).send();
  });
}
