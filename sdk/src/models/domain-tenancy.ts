/** One domain's whole tenancy as one document: what the bulk plan/apply endpoint and the DomainTenancy resource take. */
import { z } from "zod";
import { TenancyManifest } from "./tenancy.ts";

/**
 * The complete desired state of one domain: a tenancy manifest that declares exactly one domain and,
 * under it, its routes, aliases, sender lists, users and (at most one each) its filter settings,
 * password policy and report settings. Account-wide settings are not part of a domain's tenancy. An object of the domain
 * that the document leaves out is deleted by an apply; a singleton left out is reset to its defaults.
 * A user's `password` is write-only: left out, the user keeps the password it has (a new user then has
 * none and cannot log in until one is set).
 *
 * @example DomainTenancyDocument.parse({ domains: [{ name: "example.com" }], users: [{ address: "ana@example.com" }] })
 */
export const DomainTenancyDocument = TenancyManifest.superRefine((document, ctx) => {
  if (document.domains.length !== 1) {
    ctx.addIssue({
      code: "custom",
      path: ["domains"],
      message: `must declare exactly one domain (found ${document.domains.length})`,
    });
  }
  for (const plural of ["filterSettings", "passwordPolicies", "reportSettings"] as const) {
    document[plural].forEach((item, i) => {
      if (item.scope === "account") {
        ctx.addIssue({
          code: "custom",
          path: [plural, i, "scope"],
          message: "account-wide settings are not part of a domain's tenancy; manage them on their own",
        });
      }
    });
  }
  // Rules may be account-wide and guard sign-ins rather than mail: declared on their own for now.
  document.accessRules.forEach((_rule, i) => {
    ctx.addIssue({
      code: "custom",
      path: ["accessRules", i],
      message: "access rules are not part of a domain's tenancy; manage them on their own",
    });
  });
}).meta({
  id: "DomainTenancyDocument",
  title: "one domain's tenancy",
  description:
    "The complete desired state of one domain: the domain, its routes, aliases, sender lists, filter settings, password policy, report settings and users.",
});

export type DomainTenancyDocumentInput = z.input<typeof DomainTenancyDocument>;
export type DomainTenancyDocument = z.output<typeof DomainTenancyDocument>;

/** What a plan or an apply does to one object. `replace` does not occur: an object's key is its ID. */
export const TenancyChangeOp = z.enum(["create", "update", "delete"]);
export type TenancyChangeOp = z.output<typeof TenancyChangeOp>;

/**
 * One object's change: its kind and ID, the operation, and for updates the spec fields that change
 * (`password` when a new password is set; its value never appears).
 * @example { kind: "User", id: "ana@example.com", op: "update", fields: ["enabled"] }
 */
export const TenancyChange = z
  .object({
    kind: z.string().describe("The object's kind, e.g. `User`."),
    id: z.string().describe("The object's ID, e.g. `ana@example.com`."),
    op: TenancyChangeOp.describe("create, update or delete."),
    fields: z.array(z.string()).describe("Updates: the fields that change, in name order; empty otherwise."),
  })
  .meta({ id: "TenancyChange" });
export type TenancyChange = z.output<typeof TenancyChange>;

/**
 * The answer of a plan (nothing written) or an apply (everything written in one transaction):
 * the per-object changes and the tenancy's version tag (before a plan, after an apply).
 */
export const TenancyPlan = z
  .object({
    domain: z.string().describe("The domain."),
    etag: z
      .string()
      .nullable()
      .describe(
        "The tenancy's version: a plan answers the current one (null when the domain does not exist), an apply the new one. Send it in If-Match to apply only over that version.",
      ),
    applied: z.boolean().describe("true when the changes were written (apply), false for a plan."),
    changes: z
      .array(TenancyChange)
      .describe("Per-object changes in apply order; empty when nothing changes."),
  })
  .meta({ id: "TenancyPlan" });
export type TenancyPlan = z.output<typeof TenancyPlan>;

/** The live tenancy of a domain, as the platform holds it (passwords never included). */
export const DomainTenancy = z
  .object({
    etag: z.string().describe("The tenancy's version (changes whenever any of its objects changes)."),
    // Loosely typed here: the named schema describes the request side; this is what an apply accepts back.
    document: z
      .object({ apiVersion: z.string() })
      .catchall(z.array(z.record(z.string(), z.unknown())))
      .describe(
        "The domain's objects as a DomainTenancyDocument (one list per kind), fit to send back to an apply.",
      ),
    passwordsSetAt: z
      .record(z.string(), z.string().nullable())
      .describe("Per user: when its password was last set (RFC 3339), null when it has none."),
  })
  .meta({ id: "DomainTenancy" });
export type DomainTenancy = z.output<typeof DomainTenancy>;
