/**
 * The whole lifecycle of all ten resources with the real Pulumi CLI against a real control plane:
 * preview → up → no-op → field change in place → key change replaces → drift on refresh reverted by
 * up → deleted out of band → password secrecy → destroy. One stack walks every step for every kind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  KIND_RESOURCES,
  outcome,
  previewSteps,
  readTree,
  type TenancyStack,
  tenancyStack,
} from "./support.ts";

const PASSWORD = "Correct-Horse-Battery-42";
const NEW_PASSWORD = "Another-Staple-Battery-77";

describe("provider lifecycle: all ten kinds, real CLI, real control plane", () => {
  let t: TenancyStack;
  const api = () => t.platform.client;

  beforeAll(async () => {
    t = await tenancyStack("lifecycle", PASSWORD);
  });

  afterAll(async () => {
    await t?.dispose();
  });

  it("preview shows a create for each kind and changes nothing", async () => {
    const steps = await previewSteps(t.ws);
    for (const [kind, name] of Object.entries(KIND_RESOURCES)) {
      expect(steps[name], name).toMatchObject({ op: "create", type: kind });
    }
    expect(await outcome(api().domains.get("example.test"))).toBe("MP_NOT_FOUND");
  });

  it("up creates every object on the platform as declared, and says what to publish to verify the domain", async () => {
    const up = await t.ws.ok(["up", "--yes", "--skip-preview"]);
    const domain = await api().domains.get("example.test");
    expect(domain).toMatchObject({
      timezone: "UTC",
      aliases: ["alias-a.example.test", "alias-b.example.test"],
    });
    // Unverified: the warning quotes the very record the domain's outputs carry.
    expect(domain.verification.map((v) => v.status)).toEqual(["pending", "pending", "pending"]);
    const record = domain.dnsRecords.find((r) => r.name === "_mailplane-verify.example.test")!;
    expect(up.stdout + up.stderr).toContain(`publish ${record.name} TXT "${record.value}"`);
    expect(await api().routes.get("example.test", "mx1.example.test:25")).toMatchObject({ priority: 10 });
    expect(await api().aliases.get("info@example.test")).toMatchObject({
      action: { type: "forward", to: ["alice@example.test", "ops@example.test"] },
    });
    expect(await api().senderLists.get("example.test", "block-sender")).toMatchObject({
      entries: ["*@spam.example", "bob@example.net"],
    });
    expect(await api().filterSettings.get("example.test")).toMatchObject({
      quarantineThreshold: 0.8,
      tagThreshold: 0.3,
      blockedExtensions: ["exe", "js"],
    });
    expect(await api().passwordPolicies.get("example.test")).toMatchObject({
      minLength: 10,
      lockout: { failures: 3 },
      requireTlsForSignIn: true,
    });
    expect(await api().groups.get("team@example.test")).toMatchObject({
      members: ["alice@example.test", "ops@example.test"],
      senders: "members",
    });
    expect(await api().accessRules.get("example.test", "smtp-submission")).toMatchObject({
      allow: ["192.0.2.0/24", "2001:db8::/32"],
      deny: ["192.0.2.13/32"],
    });
    expect(await api().reportSettings.get("example.test")).toMatchObject({
      frequency: "daily",
      userReport: true,
      userReportRecipients: ["alice@example.test"],
    });
    const user = await api().users.get("alice@example.test");
    expect(user).toMatchObject({
      quotaMb: 1024,
      enabled: true,
      addresses: ["a.smith@example.test"],
      loginAlerts: { failed: false, successful: true },
    });
    expect(user.passwordChangedAt).not.toBeNull();
  });

  it("a second preview reports no changes", async () => {
    await t.ws.ok(["preview", "--expect-no-changes"]);
  });

  it("the same declaration with sets in another order and case is no change", async () => {
    await t.set("step", "reorder");
    await t.ws.ok(["preview", "--expect-no-changes"]);
  });

  it("a field change previews as exactly that field, old → new, and applies in place", async () => {
    await t.set("step", "update");
    const steps = await previewSteps(t.ws);
    const expected: Record<string, string[]> = {
      domain: ["timezone"],
      route: ["priority"],
      alias: ["action.to[2]"],
      blocked: ["entries[2]"],
      filter: ["tagThreshold"],
      passwords: ["minLength"],
      user: ["quotaMb"],
      group: ["members[2]"],
      access: ["allow[2]"],
      reports: ["frequency"],
    };
    for (const [name, fields] of Object.entries(expected)) {
      expect(steps[name], name).toMatchObject({ op: "update", changed: fields, replaceReasons: [] });
    }
    // Unchanged resources are "same" (or left out of the JSON).
    expect(steps["second"]?.op ?? "same").toBe("same");

    const diff = (await t.ws.ok(["preview", "--diff"])).stdout;
    expect(diff).toContain('~ timezone: "UTC" => "Europe/Amsterdam"');
    expect(diff).toContain("~ priority: 10 => 20");
    expect(diff).toContain("~ tagThreshold: 0.3 => 0.4");
    expect(diff).toContain("~ minLength: 10 => 12");
    expect(diff).toContain("~ quotaMb: 1024 => 2048");
    expect(diff).toContain('+ [2]: "eve@example.net"');
    expect(diff).toContain('+ [2]: "sales@example.test"');
    expect(diff).toContain('+ [2]: "zed@example.test"');
    expect(diff).toContain('+ [2]: "2001:db9::/32"');
    expect(diff).toContain('~ frequency: "daily" => "weekly"');

    const before = await api().domains.get("example.test");
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    const after = await api().domains.get("example.test");
    expect(after).toMatchObject({ timezone: "Europe/Amsterdam", createdAt: before.createdAt });
    expect(await api().routes.get("example.test", "mx1.example.test:25")).toMatchObject({ priority: 20 });
    expect((await api().aliases.get("info@example.test")).action).toMatchObject({
      to: ["alice@example.test", "ops@example.test", "sales@example.test"],
    });
    expect((await api().senderLists.get("example.test", "block-sender")).entries).toContain(
      "eve@example.net",
    );
    expect(await api().filterSettings.get("example.test")).toMatchObject({ tagThreshold: 0.4 });
    expect(await api().passwordPolicies.get("example.test")).toMatchObject({ minLength: 12 });
    expect(await api().users.get("alice@example.test")).toMatchObject({ quotaMb: 2048 });
    expect((await api().groups.get("team@example.test")).members).toContain("zed@example.test");
    expect((await api().accessRules.get("example.test", "smtp-submission")).allow).toContain("2001:db9::/32");
    expect(await api().reportSettings.get("example.test")).toMatchObject({ frequency: "weekly" });
    await t.ws.ok(["preview", "--expect-no-changes"]);
  });

  it("a key change replaces the object: the new one exists, the old one is gone or reset", async () => {
    await t.set("step", "base");
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    await t.set("step", "replace");
    const steps = await previewSteps(t.ws);
    const expected: Record<string, string[]> = {
      second: ["name"],
      route: ["port"],
      alias: ["address"],
      blocked: ["target"],
      filter: ["scope"],
      passwords: ["scope"],
      user: ["address"],
      group: ["address"],
      access: ["scope"],
      reports: ["scope"],
    };
    for (const [name, reasons] of Object.entries(expected)) {
      expect(steps[name], name).toMatchObject({ op: "replace", replaceReasons: reasons });
    }

    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    expect(await outcome(api().domains.get("renamed-other.test"))).toBe("ok");
    expect(await outcome(api().domains.get("other.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().routes.get("example.test", "mx1.example.test:2525"))).toBe("ok");
    expect(await outcome(api().routes.get("example.test", "mx1.example.test:25"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().aliases.get("hello@example.test"))).toBe("ok");
    expect(await outcome(api().aliases.get("info@example.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().senderLists.get("example.test", "block-recipient"))).toBe("ok");
    expect(await outcome(api().senderLists.get("example.test", "block-sender"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().users.get("alicia@example.test"))).toBe("ok");
    expect(await outcome(api().users.get("alice@example.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().groups.get("crew@example.test"))).toBe("ok");
    expect(await outcome(api().groups.get("team@example.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().accessRules.get("alicia@example.test", "smtp-submission"))).toBe("ok");
    expect(await outcome(api().accessRules.get("example.test", "smtp-submission"))).toBe("MP_NOT_FOUND");
    // Singletons move: the new scope holds the declaration, the old one is back to the defaults.
    expect(await api().filterSettings.get("renamed-other.test")).toMatchObject({ tagThreshold: 0.3 });
    expect(await api().filterSettings.get("example.test")).toMatchObject({
      tagThreshold: 0.1,
      quarantineThreshold: 0.9,
    });
    expect(await api().passwordPolicies.get("account")).toMatchObject({ minLength: 10 });
    expect(await api().passwordPolicies.get("example.test")).toMatchObject({ minLength: 8 });
    expect(await api().reportSettings.get("renamed-other.test")).toMatchObject({ userReport: true });
    expect(await api().reportSettings.get("example.test")).toMatchObject({
      userReport: false,
      etag: "defaults",
    });
    await t.ws.ok(["preview", "--expect-no-changes"]);

    await t.set("step", "base");
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    await t.ws.ok(["preview", "--expect-no-changes"]);
  });

  it("an out-of-band change through the API shows as drift on refresh and up reverts it", async () => {
    await api().domains.patch("example.test", { timezone: "Asia/Tokyo" });
    await api().routes.patch("example.test", "mx1.example.test:25", { priority: 99 });
    await api().aliases.patch("info@example.test", { action: { type: "reject", message: "Gone fishing" } });
    await api().senderLists.patch("example.test", "block-sender", { entries: ["mallory@example.net"] });
    await api().filterSettings.patch("example.test", { tagThreshold: 0.2 });
    await api().passwordPolicies.patch("example.test", { minLength: 14, requireTlsForSignIn: false });
    await api().users.patch("alice@example.test", { quotaMb: 5 });
    await api().groups.patch("team@example.test", { senders: "anyone" });
    await api().accessRules.patch("example.test", "smtp-submission", {
      deny: ["192.0.2.13", "203.0.113.0/24"],
    });
    await api().reportSettings.patch("example.test", { frequency: "weekly" });

    const refresh = (await t.ws.ok(["refresh", "--yes", "--skip-preview", "--diff"])).stdout;
    expect(refresh).toContain('~ timezone: "UTC" => "Asia/Tokyo"');
    expect(refresh).toContain("~ priority: 10 => 99");
    expect(refresh).toContain("~ tagThreshold: 0.3 => 0.2");
    // Pulumi aligns the field names of one resource: spaces before the colon.
    expect(refresh).toMatch(/~ minLength\s*: 10 => 14/);
    expect(refresh).toMatch(/~ requireTlsForSignIn\s*: true => false/);
    expect(refresh).toContain("~ quotaMb: 1024 => 5");
    expect(refresh).toContain('"mallory@example.net"');
    expect(refresh).toContain('"Gone fishing"');
    expect(refresh).toContain('~ senders: "members" => "anyone"');
    expect(refresh).toContain('"203.0.113.0/24"');
    expect(refresh).toContain('~ frequency: "daily" => "weekly"');

    const steps = await previewSteps(t.ws);
    expect(steps["domain"]).toMatchObject({ op: "update", changed: ["timezone"] });
    expect(steps["route"]).toMatchObject({ op: "update", changed: ["priority"] });
    expect(steps["filter"]).toMatchObject({ op: "update", changed: ["tagThreshold"] });
    expect(steps["passwords"]).toMatchObject({ op: "update", changed: ["minLength", "requireTlsForSignIn"] });
    expect(steps["user"]).toMatchObject({ op: "update", changed: ["quotaMb"] });
    expect(steps["group"]).toMatchObject({ op: "update", changed: ["senders"] });
    expect(steps["access"]).toMatchObject({ op: "update", changed: ["deny[1]"] });
    expect(steps["reports"]).toMatchObject({ op: "update", changed: ["frequency"] });
    expect(steps["alias"]?.op).toBe("update");
    expect(steps["blocked"]?.op).toBe("update");

    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    expect(await api().domains.get("example.test")).toMatchObject({ timezone: "UTC" });
    expect(await api().routes.get("example.test", "mx1.example.test:25")).toMatchObject({ priority: 10 });
    expect((await api().aliases.get("info@example.test")).action).toMatchObject({ type: "forward" });
    expect((await api().senderLists.get("example.test", "block-sender")).entries).toEqual([
      "*@spam.example",
      "bob@example.net",
    ]);
    expect(await api().filterSettings.get("example.test")).toMatchObject({ tagThreshold: 0.3 });
    expect(await api().passwordPolicies.get("example.test")).toMatchObject({
      minLength: 10,
      requireTlsForSignIn: true,
    });
    expect(await api().users.get("alice@example.test")).toMatchObject({ quotaMb: 1024 });
    expect(await api().groups.get("team@example.test")).toMatchObject({ senders: "members" });
    expect((await api().accessRules.get("example.test", "smtp-submission")).deny).toEqual(["192.0.2.13/32"]);
    expect(await api().reportSettings.get("example.test")).toMatchObject({ frequency: "daily" });
    await t.ws.ok(["preview", "--expect-no-changes"]);
  });

  it("an object deleted out of band is dropped by refresh and recreated by up", async () => {
    await api().routes.delete("example.test", "mx1.example.test:25");
    await t.ws.ok(["refresh", "--yes", "--skip-preview"]);
    const exported = JSON.parse((await t.ws.ok(["stack", "export"])).stdout);
    const types = exported.deployment.resources.map((r: { type: string }) => r.type.split(":").at(-1));
    expect(types).not.toContain("Route");
    expect((await previewSteps(t.ws))["route"]?.op).toBe("create");
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    expect(await outcome(api().routes.get("example.test", "mx1.example.test:25"))).toBe("ok");
  });

  it("the password is a secret in and out: a change updates in place, the state never holds it in plain text", async () => {
    const before = await api().users.get("alice@example.test");
    await t.ws.ok(["config", "set", "--secret", "e2e:password", NEW_PASSWORD]);
    const steps = await previewSteps(t.ws);
    expect(steps["user"]).toMatchObject({ op: "update", changed: ["password"] });
    const diff = (await t.ws.ok(["preview", "--diff"])).stdout;
    expect(diff).not.toContain(NEW_PASSWORD);
    expect(diff).not.toContain(PASSWORD);
    await t.ws.ok(["up", "--yes", "--skip-preview"]);
    const after = await api().users.get("alice@example.test");
    expect(after.passwordChangedAt).not.toBe(before.passwordChangedAt);
    expect(after.createdAt).toBe(before.createdAt);
    await t.ws.ok(["refresh", "--yes", "--skip-preview"]);
    await t.ws.ok(["preview", "--expect-no-changes"]);

    const exported = (await t.ws.ok(["stack", "export"])).stdout;
    const files = await readTree(t.ws.backendDir);
    for (const text of [exported, files]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(NEW_PASSWORD);
    }
    // The search looks in the right place: decrypted, the same state does hold it (inputs and outputs).
    const revealed = JSON.parse((await t.ws.ok(["stack", "export", "--show-secrets"])).stdout);
    const user = revealed.deployment.resources.find((r: { type: string }) => r.type.endsWith(":User"));
    const plaintext = (secret: { plaintext: string }) => JSON.parse(secret.plaintext);
    expect(plaintext(user.inputs.password)).toBe(NEW_PASSWORD);
    expect(plaintext(user.outputs.password)).toBe(NEW_PASSWORD);
    expect(user.additionalSecretOutputs).toContain("password");
  });

  it("destroy removes every object from the platform", async () => {
    await t.ws.ok(["destroy", "--yes", "--skip-preview"]);
    expect(await outcome(api().domains.get("example.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().domains.get("other.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().routes.get("example.test", "mx1.example.test:25"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().aliases.get("info@example.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().senderLists.get("example.test", "block-sender"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().users.get("alice@example.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().groups.get("team@example.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().accessRules.get("example.test", "smtp-submission"))).toBe("MP_NOT_FOUND");
    // A domain's singletons go with the domain.
    expect(await outcome(api().filterSettings.get("example.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().passwordPolicies.get("example.test"))).toBe("MP_NOT_FOUND");
    expect(await outcome(api().reportSettings.get("example.test"))).toBe("MP_NOT_FOUND");
    const exported = JSON.parse((await t.ws.ok(["stack", "export"])).stdout);
    expect(exported.deployment.resources ?? []).toHaveLength(0);
  });
});
