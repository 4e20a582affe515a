/** The store's own refusal of a bulk apply's shared address, answered with the document's field as single writes are. */
import { describe, expect, it } from "vitest";
import { documentConflict } from "../../../platform/api/tenancy/bulk-apply.ts";
import { StoreError } from "../../../platform/store/contract/store-error.ts";
import { DomainTenancyDocument, isMailplaneError } from "../../../sdk/src/index.ts";

const D = "tenancy-conflict.example";
const body = {
  domains: [{ name: D }],
  users: [
    { address: `ana@${D}` },
    // Written unsorted: the model sorts them, the answer names the index the caller wrote.
    { address: `bob@${D}`, addresses: [`zed@${D}`, `sales@${D}`] },
  ],
  aliases: [{ address: `info@${D}`, action: { type: "forward", to: [`ana@${D}`] } }],
};
const document = DomainTenancyDocument.parse(body);
const message = `an address may name one recipient only: sales@${D} (the alias, an extra address of the user bob@${D})`;

describe("documentConflict", () => {
  it("answers 409 MP_CONFLICT with the document's path of the write the store names, an extra address at its written index", () => {
    // The writes, kind by kind in apply order: the Domain (0), info (1), ana (2), bob (3); bob's
    // extra addresses sorted: sales, zed.
    const answer = documentConflict(
      new StoreError("conflict", message, undefined, { path: [3, "addresses", 0] }),
      document,
      body,
    );
    expect(isMailplaneError(answer)).toBe(true);
    expect(answer?.code).toBe("MP_CONFLICT");
    expect(answer?.problem.errors).toEqual([
      expect.objectContaining({ path: ["users", 1, "addresses", 1], message }),
    ]);
  });

  it("names an alias's own address by the alias's place in the document", () => {
    const answer = documentConflict(
      new StoreError("conflict", message, undefined, { path: [1, "address"] }),
      document,
      body,
    );
    expect(answer?.problem.errors).toEqual([expect.objectContaining({ path: ["aliases", 0, "address"] })]);
  });

  it("leaves other errors, and a conflict without a write's index, as they are", () => {
    expect(
      documentConflict(new StoreError("precondition_failed", "changed"), document, body),
    ).toBeUndefined();
    expect(documentConflict(new StoreError("conflict", message), document, body)).toBeUndefined();
    expect(
      documentConflict(new StoreError("conflict", message, undefined, { path: ["address"] }), document, body),
    ).toBeUndefined();
  });
});
