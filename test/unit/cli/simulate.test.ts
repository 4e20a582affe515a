/**
 * plan-summary --simulate: the preview's steps applied to a live tenancy, and the simulation of the
 * captured real preview (test/e2e/plan-summary/simulate.test.ts re-captures it with UPDATE_GOLDEN=1)
 * rendered exactly as the golden file's section.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PreviewJson } from "../../../cli/plan-summary.ts";
import { applyPreview, UNKNOWN_VALUE } from "../../../cli/simulate/planned.ts";
import { renderSimulation } from "../../../cli/simulate/render.ts";
import { parseSamples } from "../../../cli/simulate/samples.ts";
import { fatesOf, policyOf, type SimulatedTenancy, simulatePlan } from "../../../cli/simulate/simulate.ts";
import { TenancyManifest } from "../../../sdk/src/models/tenancy.ts";

const fixtures = join(import.meta.dirname, "..", "..", "fixtures", "plan-summary", "simulate");
const urn = (kind: string, name: string) =>
  `urn:pulumi:dev::p::pulumi-nodejs:dynamic/mailplane:${kind}::${name}`;
const type = (kind: string) => `pulumi-nodejs:dynamic/mailplane:${kind}`;
const verifiedAll = "all" as const;

function tenancy(manifest: TenancyManifest): SimulatedTenancy {
  return { account: "acme", manifest, verified: verifiedAll };
}

const base = () =>
  TenancyManifest.parse({
    domains: [{ name: "example.org" }],
    users: [{ address: "linus@example.org" }],
    aliases: [{ address: "joe@example.org", action: { type: "reject", message: "Joe left" } }],
    routes: [{ domain: "example.org", host: "mx1.example.org", port: 25 }],
    filterSettings: [{ scope: "example.org", sizeLimitMb: 1 }],
  });

describe("applying a preview to the live tenancy", () => {
  it("reproduces the golden simulation from the captured real preview", () => {
    const preview = JSON.parse(readFileSync(join(fixtures, "preview.json"), "utf8")) as PreviewJson;
    // The live tenancy before the change: the unchanged objects (a preview lists only changes) plus
    // every old state of the preview.
    const unchanged = TenancyManifest.parse({
      domains: [{ name: "example.org" }],
      users: [{ address: "linus@example.org", firstName: "Linus" }],
    });
    const { manifest: before } = applyPreview(unchanged, {
      steps: (preview.steps ?? [])
        .filter((s) => s.oldState)
        .map((s) => ({ op: "create", urn: s.urn, newState: s.oldState })),
    });
    const live: SimulatedTenancy = {
      account: "simulate",
      manifest: before,
      verified: new Map([["example.org", ["example.org"]]]),
    };
    const planned = applyPreview(before, preview);
    expect(planned.skipped).toEqual([]);
    expect(planned.applied).toEqual([
      "update SenderList example.org/sender-lists/block-sender",
      "create Alias sales@example.org",
      "update FilterSettings example.org/filter-settings",
      "update User ada@example.org",
      "delete Alias joe@example.org",
    ]);
    const samples = parseSamples(readFileSync(join(fixtures, "samples.yaml"), "utf8"));
    const section = renderSimulation({
      samplesFile: "samples.yaml",
      simulation: simulatePlan(samples, live, { ...live, manifest: planned.manifest }),
      skipped: [],
      unverified: [],
    });
    const expected = readFileSync(join(fixtures, "expected.md"), "utf8");
    expect(`\n${section}`).toBe(expected.slice(expected.indexOf("\n### Mail-flow simulation")));
  });

  it("updates an object in place by its ID and leaves the live tenancy untouched", () => {
    const live = base();
    const { manifest, applied } = applyPreview(live, {
      steps: [
        {
          op: "update",
          urn: urn("Alias", "joe"),
          oldState: { type: type("Alias"), inputs: live.aliases[0] as never },
          newState: {
            type: type("Alias"),
            inputs: { address: "JOE@example.org", action: { type: "forward", to: ["linus@example.org"] } },
          },
        },
      ],
    });
    expect(applied).toEqual(["update Alias joe@example.org"]);
    expect(manifest.aliases).toEqual([
      { address: "joe@example.org", action: { type: "forward", to: ["linus@example.org"] } },
    ]);
    expect(live.aliases[0]?.action.type).toBe("reject");
  });

  it("replaces an object whose key changed: the old ID goes, the new one comes", () => {
    const live = base();
    const { manifest } = applyPreview(live, {
      steps: [
        {
          op: "replace",
          urn: urn("Route", "primary"),
          oldState: {
            type: type("Route"),
            inputs: { domain: "example.org", host: "mx1.example.org", port: 25 },
          },
          newState: {
            type: type("Route"),
            inputs: { domain: "example.org", host: "mx1.example.org", port: 2525 },
          },
        },
      ],
    });
    expect(manifest.routes.map((r) => r.port)).toEqual([2525]);
  });

  it("folds --show-replacement-steps into one replacement", () => {
    const live = base();
    const oldState = {
      type: type("Route"),
      inputs: { domain: "example.org", host: "mx1.example.org", port: 25 },
    };
    const newState = {
      type: type("Route"),
      inputs: { domain: "example.org", host: "mx2.example.org", port: 25 },
    };
    const { manifest, applied } = applyPreview(live, {
      steps: [
        { op: "create-replacement", urn: urn("Route", "primary"), newState },
        { op: "replace", urn: urn("Route", "primary"), oldState, newState },
        { op: "delete-replaced", urn: urn("Route", "primary"), oldState },
      ],
    });
    expect(applied).toHaveLength(1);
    expect(manifest.routes.map((r) => r.host)).toEqual(["mx2.example.org"]);
  });

  it("resets a deleted singleton to its defaults (the size limit goes)", () => {
    const live = base();
    const { manifest } = applyPreview(live, {
      steps: [
        {
          op: "delete",
          urn: urn("FilterSettings", "filter"),
          oldState: { type: type("FilterSettings"), inputs: { scope: "example.org", sizeLimitMb: 1 } },
        },
      ],
    });
    expect(manifest.filterSettings).toEqual([]);
    const [sample] = parseSamples(
      "samples:\n  - from: a@b.example\n    to: linus@example.org\n    size: 2000000\n",
    );
    expect(fatesOf(policyOf(tenancy(live)), [sample!])[0]?.fate.text).toMatch(/^552 5\.3\.4 refused at RCPT/);
    expect(fatesOf(policyOf(tenancy(manifest)), [sample!])[0]?.fate.text).toBe(
      "delivered: mailbox linus@example.org",
    );
  });

  it("keeps the object of a discard step (Pulumi forgets it, the platform keeps it) and ignores other types", () => {
    const live = base();
    const { manifest, applied } = applyPreview(live, {
      steps: [
        {
          op: "discard",
          urn: urn("Alias", "joe"),
          oldState: { type: type("Alias"), inputs: live.aliases[0] as never },
        },
        {
          op: "create",
          urn: "urn:pulumi:dev::p::random:index/randomPet:RandomPet::pet",
          newState: { type: "random:index/randomPet:RandomPet", inputs: { length: 2 } },
        },
        {
          op: "same",
          urn: urn("User", "linus"),
          newState: { type: type("User"), inputs: { address: "linus@example.org" } },
        },
      ],
    });
    expect(applied).toEqual([]);
    expect(manifest).toEqual(live);
  });

  it("skips a step whose inputs are known only at up, naming it, and keeps the live object", () => {
    const live = base();
    const { manifest, skipped } = applyPreview(live, {
      steps: [
        {
          op: "update",
          urn: urn("Alias", "joe"),
          oldState: { type: type("Alias"), inputs: live.aliases[0] as never },
          newState: {
            type: type("Alias"),
            inputs: { address: "joe@example.org", action: { type: "forward", to: [UNKNOWN_VALUE] } },
          },
        },
        {
          op: "create",
          urn: urn("Alias", "broken"),
          newState: { type: type("Alias"), inputs: { address: "not an address" } },
        },
      ],
    });
    expect(skipped.map((s) => s.urn)).toEqual([urn("Alias", "joe"), urn("Alias", "broken")]);
    expect(skipped[0]?.reason).toBe("its new inputs are known only at `pulumi up`");
    expect(skipped[1]?.reason).toMatch(/^the model refuses its inputs/);
    expect(manifest.aliases).toEqual(live.aliases);
  });

  it("treats a name that is not verified as not hosted, as the engine does (550 5.7.1 relay)", () => {
    const [sample] = parseSamples("samples:\n  - from: a@b.example\n    to: linus@example.org\n");
    const unverified: SimulatedTenancy = { account: "acme", manifest: base(), verified: new Map() };
    expect(fatesOf(policyOf(unverified), [sample!])[0]?.fate.text).toBe(
      "550 5.7.1 refused at RCPT: <linus@example.org>: Relay access denied",
    );
    const verified: SimulatedTenancy = {
      ...unverified,
      verified: new Map([["example.org", ["example.org"]]]),
    };
    expect(fatesOf(policyOf(verified), [sample!])[0]?.fate.text).toBe("delivered: mailbox linus@example.org");
  });

  it("sends postmaster@ to the account's contact as the engine does, and takes a planned contact from an Account step", () => {
    const [sample] = parseSamples("samples:\n  - from: a@b.example\n    to: postmaster@example.org\n");
    const noRoutes = { ...base(), routes: [] };
    const fate = (contact: string | null | undefined) =>
      fatesOf(policyOf({ ...tenancy(noRoutes), ...(contact === undefined ? {} : { contact }) }), [sample!])[0]
        ?.fate.text;
    expect(fate(undefined)).toBe(
      "550 5.1.1 refused at RCPT: <postmaster@example.org>: Recipient address rejected: user unknown",
    );
    expect(fate("it@acme.example")).toBe("delivered: forwarded to it@acme.example");
    const { accountContacts, applied } = applyPreview(noRoutes, {
      steps: [
        {
          op: "update",
          urn: urn("Account", "acme"),
          oldState: { type: type("Account"), inputs: { id: "acme", name: "ACME", contact: null } },
          newState: {
            type: type("Account"),
            inputs: { id: "acme", name: "ACME", contact: "IT@acme.example" },
          },
        },
      ],
    });
    expect(applied).toEqual([]);
    expect([...accountContacts]).toEqual([["acme", "it@acme.example"]]);
  });

  it("shows relays through the domain's routes and hop loops refused at DATA", () => {
    const [relay, looped] = parseSamples(
      [
        "samples:",
        "  - from: a@b.example",
        "    to: nobody@example.org",
        "  - from: a@b.example",
        "    to: linus@example.org",
        "    headers: { Delivered-To: linus@example.org }",
        "",
      ].join("\n"),
    );
    const fates = fatesOf(policyOf(tenancy(base())), [relay!, looped!]);
    expect(fates.map((f) => f.fate.text)).toEqual([
      "delivered: relayed for nobody@example.org to mx1.example.org:25",
      "554 5.4.6 refused at DATA: Mail loop: message was already delivered to <linus@example.org>",
    ]);
  });
});
