/** A domain's DKIM key rotation: publish a new selector first, sign with it once the DNS carries it. */
import { z } from "zod";
import { Domain } from "../models/domain.ts";
import type { Endpoint } from "./types.ts";

const DomainParams = z.strictObject({
  domain: z.string().min(1).describe("The domain name, e.g. `example.com`."),
});

/** The body of `POST /v1/domains/{domain}/dkim/activate`. */
export const DkimActivation = z
  .strictObject({
    selector: z
      .string()
      .min(1)
      .max(63)
      .describe("The pending selector to sign with from now on, as `dnsRecords` lists it."),
  })
  .meta({
    id: "DkimActivation",
    title: "DkimActivation",
    description: "Which published DKIM selector the platform signs the domain's mail with.",
  });

export type DkimActivationInput = z.input<typeof DkimActivation>;

/** The query of `POST /v1/domains/{domain}/dkim/rotate` (a query, so the call without one stays as it was). */
export const DkimRotation = z
  .strictObject({
    algorithm: z
      .enum(["rsa", "ed25519"])
      .default("rsa")
      .describe(
        "The new key's type: `rsa` (RSA-2048, rsa-sha256; default) or `ed25519` (ed25519-sha256, RFC 8463; published as `k=ed25519`). An active Ed25519 key signs in addition to the RSA one, never instead.",
      ),
  })
  .meta({
    id: "DkimRotation",
    title: "DkimRotation",
    description: "What kind of DKIM key a rotation makes.",
  });

export type DkimRotationInput = z.input<typeof DkimRotation>;

const HEADERS: Endpoint["headers"] = { ifMatch: "none", idempotencyKey: "none", account: "optional" };

/** The DKIM endpoints. Both answer the Domain, whose `dnsRecords` list every published selector. */
export const endpoints: readonly Endpoint[] = [
  {
    operationId: "rotateDomainDkim",
    method: "POST",
    path: "/v1/domains/:domain/dkim/rotate",
    summary:
      "Create a new DKIM key (RSA by default, or Ed25519) for the domain under a new selector. It is published in `dnsRecords` at once but not used: publish it in DNS, then activate it. A pending key of the same type made earlier is replaced.",
    tag: "Domains",
    access: "write",
    params: DomainParams,
    query: DkimRotation,
    response: Domain,
    successStatuses: [200],
    headers: HEADERS,
    etag: true,
    errors: ["MP_NOT_FOUND"],
  },
  {
    operationId: "activateDomainDkim",
    method: "POST",
    path: "/v1/domains/:domain/dkim/activate",
    summary:
      "Sign the domain's mail with a pending DKIM selector from now on (an Ed25519 one signs beside the RSA key). The previous key of that type stays in `dnsRecords` (retired) until the next rotation, so mail signed before the switch still verifies. 409 when the selector is not pending.",
    tag: "Domains",
    access: "write",
    params: DomainParams,
    body: DkimActivation,
    response: Domain,
    successStatuses: [200],
    headers: HEADERS,
    etag: true,
    errors: ["MP_NOT_FOUND", "MP_VALIDATION_FAILED", "MP_CONFLICT"],
  },
];
