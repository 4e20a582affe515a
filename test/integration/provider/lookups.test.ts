/** The lookup functions against a real control plane: each returns the object, and a missing one names itself. */
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as mailplane from "../../../provider/src/index.ts";
import { MailplaneClient } from "../../../sdk/src/client/client.ts";
import { startTestPlatform, type TestPlatform } from "../../e2e/provider/platform.ts";

/** An Output's value, outside a deployment. */
const resolved = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

describe("lookups (getDomain, getUser, …) over the SDK", () => {
  let p: TestPlatform;
  let asTenant: mailplane.LookupConnection["connection"];
  let asAdmin: mailplane.LookupConnection["connection"];

  beforeAll(async () => {
    p = await startTestPlatform("lookups");
    asTenant = { endpoint: p.url, token: p.token };
    asAdmin = { endpoint: p.url, token: p.adminToken, account: p.account };
    await p.client.domains.put({ name: "look.test", timezone: "Europe/Berlin" });
    await p.client.users.put({ address: "ann@look.test", password: "Lookup-Passw0rd" });
    await p.client.aliases.put({
      address: "info@look.test",
      action: { type: "forward", to: ["ann@look.test"] },
    });
    await p.client.routes.put({ domain: "look.test", host: "mx1.look.test", priority: 7 });
    await p.client.senderLists.put({
      domain: "look.test",
      kind: "block",
      target: "sender",
      entries: ["spam.example"],
    });
    await p.client.filterSettings.put({ scope: "look.test", tagThreshold: 0.25 });
    await p.client.passwordPolicies.put({ scope: "look.test", minLength: 14 });
  });

  afterAll(async () => {
    await p?.close();
  });

  it("reads each kind with the tenant's own token", async () => {
    const connection = asTenant;
    expect(await mailplane.getDomain({ name: "look.test", connection })).toMatchObject({
      timezone: "Europe/Berlin",
    });
    const user = await mailplane.getUser({ address: "ann@look.test", connection });
    expect(user).toMatchObject({ address: "ann@look.test", enabled: true });
    expect(user).not.toHaveProperty("password");
    expect(await mailplane.getAlias({ address: "info@look.test", connection })).toMatchObject({
      action: { to: ["ann@look.test"] },
    });
    expect(
      await mailplane.getRoute({ domain: "look.test", host: "mx1.look.test", connection }),
    ).toMatchObject({
      priority: 7,
    });
    expect(
      await mailplane.getSenderList({ domain: "look.test", kind: "block", target: "sender", connection }),
    ).toMatchObject({ entries: ["*@spam.example"] });
    expect(await mailplane.getFilterSettings({ scope: "look.test", connection })).toMatchObject({
      tagThreshold: 0.25,
    });
    expect(await mailplane.getPasswordPolicy({ scope: "look.test", connection })).toMatchObject({
      minLength: 14,
    });
    expect(await mailplane.getPasswordPolicy({ connection })).toMatchObject({ scope: "account" });
  });

  it("reads with a platform-admin token acting on the named account", async () => {
    expect(await mailplane.getDomain({ name: "look.test", connection: asAdmin })).toMatchObject({
      name: "look.test",
    });
  });

  it("fails naming the function, the object and where it looked when the object does not exist", async () => {
    await expect(mailplane.getUser({ address: "bob@look.test", connection: asAdmin })).rejects.toThrow(
      `mailplane.getUser: user bob@look.test does not exist in account lookups at ${p.url}`,
    );
    await expect(
      mailplane.getRoute({ domain: "look.test", host: "mx9.look.test", port: 2525, connection: asTenant }),
    ).rejects.toMatchObject({
      code: "MP_NOT_FOUND",
      message: expect.stringContaining("route mx9.look.test:2525 of look.test"),
    });
    await expect(mailplane.getDomain({ name: "nowhere.test", connection: asTenant })).rejects.toThrow(
      "mailplane.getDomain: domain nowhere.test does not exist in the token's account",
    );
  });

  it("does not find another tenant's objects: the account boundary holds for lookups", async () => {
    const admin = new MailplaneClient({ endpoint: p.url, token: p.adminToken });
    await admin.accounts.put({ id: "neighbour", name: "Neighbour" });
    await admin.domains.put({ name: "next.test" }, { account: "neighbour" });
    await admin.close();
    expect(
      await mailplane.getDomain({ name: "next.test", connection: { ...asAdmin!, account: "neighbour" } }),
    ).toMatchObject({ name: "next.test" });
    await expect(mailplane.getDomain({ name: "next.test", connection: asTenant })).rejects.toMatchObject({
      code: "MP_NOT_FOUND",
    });
    // A tenant's token naming another account is not let in either.
    await expect(
      mailplane.getDomain({ name: "next.test", connection: { ...asTenant!, account: "neighbour" } }),
    ).rejects.toMatchObject({ code: "MP_NOT_FOUND" });
  });

  it("has Output forms that take Inputs, a secret connection among them, and return a plain (not secret) Output", async () => {
    const domain = mailplane.getDomainOutput({
      name: pulumi.output("look.test"),
      connection: pulumi.secret(asTenant!),
    });
    expect(await resolved(domain.timezone)).toBe("Europe/Berlin");
    expect(await pulumi.isSecret(domain)).toBe(false);
    const policy = mailplane.getPasswordPolicyOutput({ scope: "look.test", connection: asTenant });
    expect(await resolved(policy.minLength)).toBe(14);
  });
});
