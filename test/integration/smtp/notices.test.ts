/**
 * Notices on both stores: mail the platform writes to a person (login alerts, expiry warnings,
 * digests, reports) goes through the engine's own queue From: the domain's notification address,
 * marked auto-generated, with the null reverse-path, and lands in the user's Maildir.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerOf } from "../../../platform/smtp/owners.ts";
import { BACKENDS, uniqueDomain } from "../api/harness.ts";
import { startTenantEngine, type TenantEngine } from "./support/tenant-engine.ts";

describe.each(BACKENDS)("notices on $name", (backend) => {
  let t: TenantEngine;
  const domain = uniqueDomain("notices");
  const ana = `ana@${domain}`;

  beforeAll(async () => {
    t = await startTenantEngine(backend, "notices");
    await t.call("PUT", `/v1/domains/${domain}`, { name: domain });
    await t.call("PUT", `/v1/domains/${domain}/users/${ana}`, { address: ana, password: "Notice-Secret-1" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("delivers a notice to the user's Maildir From: the domain's notification address, marked auto-generated", async () => {
    const id = await t.engine.operations.sendNotice({
      domain,
      to: ana,
      subject: "Ünusual sign-in",
      text: "Someone signed in as you.",
      html: "<p>Someone signed in as you.</p>",
    });
    expect(id).toMatch(/\w/);
    await t.events.settled(id!);
    const [file] = t.mailbox(ana);
    expect(file).toBeDefined();
    const raw = readFileSync(join(t.engine.maildirOf(ana), "new", file!), "latin1");
    expect(raw).toMatch(new RegExp(`^From: postmaster@${domain.replace(/\./g, "\\.")}\\r?$`, "m"));
    expect(raw).toMatch(/^Auto-Submitted: auto-generated\r?$/m);
    expect(raw).toMatch(/^Return-Path: <>\r?$/m);
    expect(raw).toMatch(/^Subject: =\?UTF-8\?/m);
    expect(raw).toContain("multipart/alternative");
  });

  it("answers undefined and queues nothing for a recipient the domain refuses", async () => {
    const owner = ownerOf(t.engine.policy.current().domains.get(domain)!);
    const before = t.engine.operations.listQueue(owner).length;
    const id = await t.engine.operations.sendNotice({
      domain,
      to: `nobody@${domain}`,
      subject: "x",
      text: "x",
    });
    expect(id).toBeUndefined();
    expect(t.engine.operations.listQueue(owner)).toHaveLength(before);
    const log = await t.engine.operations.searchLog(owner, {});
    expect(log.some((e) => e.reply?.startsWith("notice not sent"))).toBe(true);
  });

  it("refuses a notice for a domain not hosted here", async () => {
    await expect(
      t.engine.operations.sendNotice({ domain: "not-hosted.example", to: ana, subject: "x", text: "x" }),
    ).rejects.toThrow(/not-hosted\.example is not one/);
  });
});
