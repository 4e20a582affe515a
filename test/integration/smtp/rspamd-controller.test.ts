/** Training an existing rspamd (--rspamd-url) whose controller is on another port and asks for a password, through the operations API. */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Scanner, scannerFrom } from "../../../cli/commands/scanner.ts";
import {
  rspamdInstalled,
  type SupervisedRspamd,
  startRspamd,
} from "../../../platform/smtp/content/rspamd-supervisor.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { type Harness, startHarness } from "../api/harness.ts";
import { HOSTNAME } from "./support/harness.ts";

const PASSWORD = "Controller-Secret-42";

/** A message of its own words each time: rspamd takes tokens it already learned as learned (208). */
function eml(n: number): Buffer {
  const words = Array.from({ length: 40 }, (_, i) => `ctrl${n}w${i} token${(i * 11 + n) % 29}`).join(" ");
  return Buffer.from(
    `From: seller${n}@outside.example\r\nTo: carol@ctrl.example\r\nSubject: controller ${n}\r\n` +
      `Date: Thu, 03 Dec 2026 09:00:00 +0000\r\nMessage-ID: <ctrl-${n}@outside.example>\r\n\r\n${words}\r\n`,
  );
}

describe("training an existing rspamd whose controller asks for a password", () => {
  let dir: string;
  let rspamd: SupervisedRspamd;
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let scanner: Scanner | undefined;
  let acme: { id: string; token: string };
  let n = 0;
  const warnings: string[] = [];

  /** rspamd's count of learned messages, asked with the password (loopback is not trusted here). */
  const learned = async (): Promise<number> => {
    const res = await fetch(`${rspamd.controllerUrl}/stat`, { headers: { Password: PASSWORD } });
    if (!res.ok) throw new Error(`/stat: HTTP ${res.status}`);
    return ((await res.json()) as { learned: number }).learned;
  };
  /** Starts the engine with the scorer `mailplane serve` builds from these flags. */
  const startWith = async (flags: Record<string, string>) => {
    scanner = await scannerFrom(
      (flag) => flags[flag],
      dir,
      (m) => warnings.push(m),
    );
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      policy: { trustAllDomains: true },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: false,
      ...(scanner.rspamd ? { rspamd: scanner.rspamd } : {}),
    });
  };
  const report = () =>
    fetch(`${h.url}/v1/domains/ctrl.example/report/spam`, {
      method: "POST",
      headers: { authorization: `Bearer ${acme.token}`, "content-type": "message/rfc822" },
      body: eml(n++),
    });
  const passwordFile = (content: string) => {
    const path = join(dir, `password-${n++}`);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };

  beforeAll(async () => {
    if (!rspamdInstalled()) {
      throw new Error(
        "rspamd and redis-server must be installed for this test (make test installs the Debian packages rspamd and redis-server)",
      );
    }
    dir = mkdtempSync(join(tmpdir(), "mp-rspamd-ctrl-"));
    // The generated config trusts loopback at the controller. This rspamd stands for one run by
    // someone else: a wrapper rewrites its controller section before exec — the password's hash
    // (rspamadm pw) instead of the packaged defaults, and no trusted address.
    const hash = spawnSync("rspamadm", ["pw", "--encrypt", "-p", PASSWORD], { encoding: "utf8" })
      .stdout.trim()
      .split("\n")
      .at(-1)!;
    expect(hash).toMatch(/^\$\d\$[a-z0-9]+\$[a-z0-9]+$/);
    const config = join(dir, "rspamd", "rspamd.conf");
    const wrapper = join(dir, "rspamd-with-password");
    writeFileSync(
      wrapper,
      "#!/bin/sh\n" +
        `sed -i -e 's|^  \\.include "\\$CONFDIR/worker-controller\\.inc"$|  password = "${hash}";|' ` +
        `-e '/^  secure_ip = /d' '${config}'\n` +
        'exec rspamd "$@"\n',
    );
    chmodSync(wrapper, 0o755);
    rspamd = await startRspamd({
      dir: join(dir, "rspamd"),
      rspamdBin: wrapper,
      persist: false,
      onWarning: () => {},
    });
    const controller = readFileSync(config, "utf8");
    expect(controller).toContain(`password = "${hash}";`);
    expect(controller).not.toContain("secure_ip");

    h = await startHarness({ name: "sqlite" }, { smtp: () => engine?.operations });
    acme = await h.tenant("acme");
    const res = await h.call("PUT", "/v1/domains/ctrl.example", {
      token: acme.token,
      body: { name: "ctrl.example" },
    });
    expect(res.status).toBeLessThan(300);
  }, 180_000);
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
    await scanner?.close();
  });
  afterAll(async () => {
    await h?.close();
    await rspamd?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("learns a report with --rspamd-controller-url and the password from --rspamd-controller-password-file", async () => {
    await startWith({
      "rspamd-url": rspamd.url,
      "rspamd-controller-url": rspamd.controllerUrl,
      // A file written by `echo`: its trailing newline is not part of the password.
      "rspamd-controller-password-file": passwordFile(`${PASSWORD}\n`),
    });
    expect(scanner!.description).toContain(
      `reports train its controller at ${rspamd.controllerUrl} (with a password)`,
    );
    expect(scanner!.description).not.toContain(PASSWORD);
    const before = await learned();
    const res = await report();
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await learned()).toBe(before + 1);
  });

  it("answers 503 naming the missing password when the controller asks for one, and rspamd learns nothing", async () => {
    await startWith({ "rspamd-url": rspamd.url, "rspamd-controller-url": rspamd.controllerUrl });
    const before = await learned();
    const res = await report();
    expect(res.status).toBe(503);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe("MP_UNAVAILABLE");
    expect(body.detail).toContain("asks for a password");
    expect(body.detail).toContain("--rspamd-controller-password-file");
    expect(await learned()).toBe(before);
  });

  it("answers 503 for a wrong password without echoing it, and rspamd learns nothing", async () => {
    const wrong = "Not-The-Password-7";
    await startWith({
      "rspamd-url": rspamd.url,
      "rspamd-controller-url": rspamd.controllerUrl,
      "rspamd-controller-password-file": passwordFile(wrong),
    });
    const before = await learned();
    const res = await report();
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).toContain("refused the password");
    expect(text).not.toContain(wrong);
    expect(warnings.join("\n")).not.toContain(wrong);
    expect(await learned()).toBe(before);
  });

  it("answers 422 to reports with --rspamd-url alone: no controller, nothing to learn with", async () => {
    await startWith({ "rspamd-url": rspamd.url });
    expect(scanner!.description).toContain("reports refused: no --rspamd-controller-url");
    const res = await report();
    expect(res.status).toBe(422);
    expect(((await res.json()) as { code: string }).code).toBe("MP_FILTER_TRAINING_UNAVAILABLE");
  });

  it("takes --rspamd-url unix:<absolute path> (the normal worker's Unix socket) and refuses a relative one", async () => {
    const flags = (url: string) => (flag: string) => (flag === "rspamd-url" ? url : undefined);
    const viaSocket = await scannerFrom(flags("unix:/run/rspamd/normal.sock"), dir, () => {});
    expect(viaSocket.rspamd?.url).toBe("unix:/run/rspamd/normal.sock");
    expect(viaSocket.description).toContain("rspamd at unix:/run/rspamd/normal.sock");
    for (const bad of ["unix:normal.sock", "unix:", "unix:/run/rspamd/"]) {
      await expect(
        scannerFrom(flags(bad), dir, () => {}),
        bad,
      ).rejects.toThrow("--rspamd-url must be an http:// or https:// URL or unix:<absolute socket path>");
    }
  });
});
