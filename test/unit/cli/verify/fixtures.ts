/** Fixture tenants for `mailplane verify`'s probe derivation, written as manifests the way a program declares them. */
import { tenantFromManifest, type VerifyTenant } from "../../../../cli/verify/tenant.ts";

/** The run ID every fixture derivation uses, so made-up addresses are predictable. */
export const RUN = "r1";

/**
 * A small company, like the demo's: two domains, a domain alias, a distribution list, a "no longer
 * works here" reject, an auto-reply, sender and recipient block lists, a disabled user.
 */
export function companyTenant(): VerifyTenant {
  return tenantFromManifest({
    domains: [{ name: "acme.example", aliases: ["acme-widgets.example"] }, { name: "lab.example" }],
    routes: [{ domain: "lab.example", host: "mx.lab.example" }],
    users: [
      { address: "ada@acme.example" },
      { address: "linus@acme.example" },
      { address: "margaret@acme.example", enabled: false },
    ],
    aliases: [
      {
        address: "sales@acme.example",
        action: { type: "forward", to: ["ada@acme.example", "linus@acme.example"] },
      },
      { address: "joe@acme.example", action: { type: "reject", message: "Joe no longer works here" } },
      { address: "holiday@acme.example", action: { type: "autoReply", subject: "Away", body: "Back soon." } },
    ],
    senderLists: [
      {
        domain: "acme.example",
        kind: "block",
        target: "sender",
        entries: ["spam.example", "offers@junk.example"],
      },
      { domain: "acme.example", kind: "block", target: "recipient", entries: ["linus"] },
    ],
    filterSettings: [{ scope: "acme.example", quarantineThreshold: 0.8 }],
  });
}
