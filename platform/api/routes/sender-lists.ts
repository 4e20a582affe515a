/** Sender lists: `/v1/domains/:domain/sender-lists[/:list]`, `:list` being `allow|block-sender|recipient`. */
import type { FastifyInstance } from "fastify";
import { type KindDescriptor, parseSenderListName, senderListKind } from "../../../sdk/src/index.ts";
import { registerKind } from "../tenancy/object-lifecycle.ts";

/**
 * The SenderList route plugin.
 *
 * @example app.register(senderListRoutes)
 */
export async function senderListRoutes(app: FastifyInstance): Promise<void> {
  registerKind(app, {
    kind: senderListKind as unknown as KindDescriptor,
    keyFromParams: (p) => {
      const parsed = parseSenderListName(p.list ?? "");
      return parsed ? { domain: p.domain, ...parsed } : undefined;
    },
  });
}
