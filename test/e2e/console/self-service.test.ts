/**
 * The console's self-service pages in Debian's chromium (playwright-core, no browser download): a
 * mail user's "Not spam" and "Delete and report spam" on a platform without a learning spam filter
 * (the API's 422 shown, nothing changed; learning itself is covered with a real rspamd in
 * test/integration/smtp/user-reports.test.ts), the lost-password page that asks for a reset link,
 * and the page the reset mail links to, opened from the real mail read from the Maildir. axe-core on each page; screenshots in
 * test-results/console/.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMasterKey } from "../../../platform/api/access/sealing.ts";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { type Harness, startHarness, uniqueDomain } from "../../integration/api/harness.ts";
import { EventLog, HOSTNAME, swaks } from "../../integration/smtp/support/harness.ts";

const CHROMIUM = process.env.MAILPLANE_CHROMIUM ?? "/usr/bin/chromium";
const root = join(import.meta.dirname, "..", "..", "..");
const ARTIFACTS = join(root, "test-results", "console");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const PASSWORD = "Correct-Horse-7";
const NEW_PASSWORD = "Granite-Lantern-64";

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

describe("the console's self-service pages in chromium", () => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let browser: Browser;
  let page: Page;
  const work = uniqueDomain("work");
  const home = uniqueDomain("home");
  /** A domain whose policy requires HTTPS for sign-in (and so for setting a password). */
  const strict = uniqueDomain("tls");
  const alice = `alice@${work}`;
  const ana = `ana@${work}`;
  const anaHome = `ana@${home}`;
  const tess = `tess@${strict}`;
  const tessHome = `tess@${home}`;
  /** Every request path the browser sent, with the Referer it carried. */
  const requests: { method: string; url: string; referer: string | undefined }[] = [];
  const consoleErrors: string[] = [];
  const axeFindings = new Map<string, AxeViolation[]>();

  const axe = async (name: string) => {
    await page.evaluate(axeSource);
    const violations = (await page.evaluate(async () => {
      const g = globalThis as any;
      const result = await g.axe.run(g.document, { resultTypes: ["violations"] });
      return result.violations.map((v: any) => ({
        id: v.id,
        impact: v.impact,
        nodes: v.nodes.map((n: any) => ({ target: n.target })),
      }));
    })) as AxeViolation[];
    axeFindings.set(
      name,
      violations.filter((v) => v.impact === "serious" || v.impact === "critical"),
    );
  };
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const status = () => page.locator("#status");
  const alertText = () => page.getByRole("alert").allTextContents();

  /**
   * Asks for a reset link for `address` (through the API, or with `ask`) and returns the link of the
   * one new mail in `mailbox`'s Maildir.
   */
  const resetLink = async (address: string, mailbox: string, ask?: () => Promise<void>): Promise<string> => {
    const dir = join(engine!.maildirOf(mailbox), "new");
    const listed = () => (existsSync(dir) ? readdirSync(dir) : []);
    const before = new Set(listed());
    if (ask) await ask();
    else expect((await h.call("POST", "/v1/password-resets", { body: { address } })).status).toBe(202);
    await h.cp.app.services.background.idle();
    await Promise.all(events.all("injected").map(([meta]) => events.settled(meta.id)));
    const fresh = listed().filter((f) => !before.has(f));
    expect(fresh).toHaveLength(1);
    // Quoted-printable soft line breaks undone, as a mail client shows the text.
    const mail = readFileSync(join(dir, fresh[0]!), "utf8").replace(/=\r?\n/g, "");
    expect(mail).toContain("Subject: Reset your password");
    const link = /https?:\/\/\S+\/console\/#\/reset\/mpr_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(mail)?.[0];
    if (!link) throw new Error(`no reset link in the mail:\n${mail}`);
    return link;
  };
  /** Opens `url` as a fresh document (as clicking a mail's link does), and answers its response. */
  const open = async (url: string) => {
    await page.goto("about:blank");
    return await page.goto(url);
  };
  const signIn = (address: string, password: string) =>
    h.call("POST", "/v1/sessions", { body: { address, password } });
  /** A session token for `address` through the API (the browser's own stays in its tab). */
  const sessionOf = async (address: string) => {
    const res = await signIn(address, "Correct-Horse-Battery-7");
    if (res.status !== 201) throw new Error(`sign-in ${address}: ${res.status} ${res.text}`);
    return res.body.token as string;
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // No --public-url: the links' base is the address the API listens on, this harness's URL.
    h = await startHarness({ name: "sqlite" }, { smtp: () => engine?.operations, rateLimit: false });
    const tenant = await h.tenant("self");
    const put = async (path: string, body: object) => {
      const res = await h.call("PUT", path, { token: tenant.token, body });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    };
    for (const d of [work, home, strict]) await put(`/v1/domains/${d}`, { name: d });
    await put(`/v1/domains/${work}/password-policy`, {
      scope: work,
      minLength: 14,
      lostPasswordInstructions: "Call the help desk on 555-0100.",
    });
    await put(`/v1/domains/${strict}/password-policy`, { scope: strict, requireTlsForSignIn: true });
    await put(`/v1/domains/${work}/users/${alice}`, { address: alice, password: "Correct-Horse-Battery-7" });
    // Ana and Tess read their reset mail at another domain of the platform (a Maildir of its own).
    await put(`/v1/domains/${work}/users/${ana}`, {
      address: ana,
      password: "Correct-Horse-Battery-7",
      externalAddress: anaHome,
    });
    await put(`/v1/domains/${strict}/users/${tess}`, {
      address: tess,
      password: PASSWORD,
      externalAddress: tessHome,
    });
    for (const a of [anaHome, tessHome])
      await put(`/v1/domains/${home}/users/${a}`, { address: a, password: PASSWORD });
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      policy: { trustAllDomains: true, masterKey: loadMasterKey(h.dataDir) },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: false,
      retryBaseMs: 60_000,
      egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
    });
    await engine.policy.reached(await h.cp.store.revision());
    events = new EventLog(engine);
    const run = await swaks(engine.inboundPort, [
      "--to",
      alice,
      "--from",
      "promo@outside.example",
      "--header",
      "Subject: Cheap watches",
      "--body",
      GTUBE,
    ]);
    expect(run.replyTo(".")).toMatchObject({ code: 550 });
    await events.next("quarantined", (m) => m.subject === "Cheap watches");
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (message) => {
      // Refused API calls (422, 403, 410) are the cases under test; anything else counts.
      if (message.type() === "error" && !/status of (4\d\d)/.test(message.text())) {
        consoleErrors.push(message.text());
      }
    });
    page.on("request", (r) =>
      requests.push({ method: r.method(), url: r.url(), referer: r.headers().referer }),
    );
  });
  afterAll(async () => {
    await browser?.close();
    await engine?.close();
    await h?.close();
  });

  it("offers Not spam and Delete and report spam on my quarantine, asks before the delete, and shows the clear 422 when no spam filter learns (nothing changed)", async () => {
    await page.goto(`${h.url}/console/`);
    await page.getByLabel("Address").fill(alice);
    await page.getByLabel("Password").fill("Correct-Horse-Battery-7");
    await page.getByRole("button", { name: "Sign in" }).click();
    const row = page.locator("tr", { has: page.locator("td.subject", { hasText: /^Cheap watches$/ }) });
    await row.waitFor();
    const [held] = (await h.call("GET", "/v1/me/quarantine", { token: await sessionOf(alice) })).body
      .items as { id: string }[];

    await row.getByRole("button", { name: "Not spam" }).click();
    await page
      .getByRole("alert")
      .getByText(/no filter that learns; nothing was changed/)
      .waitFor();
    expect(await row.count()).toBe(1);

    // The delete asks first: dismissed, no request is made; accepted, the API's 422 is shown.
    const asked: string[] = [];
    page.once("dialog", (dialog) => {
      asked.push(dialog.message());
      void dialog.dismiss();
    });
    const before = requests.length;
    await row.getByRole("button", { name: "Delete and report spam" }).click();
    expect(asked[0]).toContain("report it as spam");
    expect(requests.slice(before).filter((r) => r.url.includes(held!.id))).toEqual([]);
    page.once("dialog", (dialog) => void dialog.accept());
    await row.getByRole("button", { name: "Delete and report spam" }).click();
    await page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll("main p.error").length >= 2,
    );
    expect((await alertText()).filter((t) => /no filter that learns/.test(t))).toHaveLength(2);
    expect(await row.count()).toBe(1);
    expect(await engine!.operations.quarantinedMessage(held!.id)).toBeDefined();
    await axe("my-quarantine-reports");
    await shot("20-my-quarantine-reports");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  });

  it("opens the link of a real reset mail on the console's reset page, takes the token out of the address, shows the policy's errors by field, sets the password, and signs in with it", async () => {
    // Asked for on the console: "Forgot your password?" on the sign-in page, the domain's
    // instructions, then the link by mail.
    const link = await resetLink(ana, anaHome, async () => {
      await open(`${h.url}/console/`);
      await page.getByRole("link", { name: "Forgot your password?" }).click();
      await page.getByRole("heading", { level: 1, name: "Lost password" }).waitFor();
      await page.getByLabel("Address").fill(ana);
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByText("Call the help desk on 555-0100.").waitFor();
      await page.getByRole("button", { name: "Mail me a reset link" }).click();
      await page.getByText(/a link is on its way to the other address on file/).waitFor();
      expect(await page.locator("main").textContent()).not.toMatch(/null|undefined/);
      await axe("lost-password");
      await shot("20a-lost-password");
    });
    const token = link.slice(link.indexOf("mpr_"));
    expect(link.startsWith(`${h.url}/console/#/reset/`)).toBe(true);
    const answer = await open(link);
    expect(answer!.headers()["referrer-policy"]).toBe("no-referrer");
    await page.getByRole("heading", { level: 1, name: "Choose a new password" }).waitFor();
    // Read once, then out of the address bar and the history entry.
    expect(page.url()).toBe(`${h.url}/console/#/reset`);
    expect(await page.evaluate(() => (globalThis as any).location.href)).not.toContain("mpr_");

    await page.getByLabel("New password", { exact: true }).fill("Short-1a");
    await page.getByLabel("New password again").fill("Short-2a");
    await page.getByRole("button", { name: "Set password" }).click();
    await page.getByRole("alert").getByText("New password again: the two passwords differ.").waitFor();
    expect(await page.getByLabel("New password again").getAttribute("aria-invalid")).toBe("true");

    await page.getByLabel("New password again").fill("Short-1a");
    await page.getByRole("button", { name: "Set password" }).click();
    const policy = page.getByRole("alert").locator("li", { hasText: /^New password: / });
    await policy.first().waitFor();
    expect(await policy.first().textContent()).toMatch(/14/);
    expect(await page.getByLabel("New password", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    await axe("reset-page");
    await shot("21-reset-policy-error");
    // Refused by the policy: the link still works.
    expect((await signIn(ana, "Correct-Horse-Battery-7")).status).toBe(201);

    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("New password again").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set password" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await status().getByText("Your password is set. Sign in with it.").waitFor();
    await page.getByLabel("Address").fill(ana);
    await page.getByLabel("Password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "My quarantine" }).waitFor();
    expect((await signIn(ana, "Correct-Horse-Battery-7")).status).toBe(401);

    // The token went to the server only in the path of the two reset calls (the policy's refusal and
    // the success; the mismatch was caught in the page), never in a GET or as a Referer; the API's
    // logs redact it.
    const secret = token.slice(4);
    const carrying = requests.filter((r) => r.url.includes(secret));
    expect(carrying.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      `POST /v1/password-resets/${token}`,
      `POST /v1/password-resets/${token}`,
    ]);
    expect(requests.filter((r) => r.referer?.includes(secret))).toEqual([]);
    expect(h.logs.join("\n")).not.toContain(secret);
    await page.getByRole("button", { name: "Sign out" }).click();
  });

  it("shows the error of a tampered link, and changes nothing", async () => {
    const link = await resetLink(ana, anaHome);
    const last = link.at(-1) === "A" ? "B" : "A";
    await open(`${link.slice(0, -1)}${last}`);
    await page.getByRole("heading", { level: 1, name: "Choose a new password" }).waitFor();
    await page.getByLabel("New password", { exact: true }).fill("Another-Lantern-77");
    await page.getByLabel("New password again").fill("Another-Lantern-77");
    await page.getByRole("button", { name: "Set password" }).click();
    await page
      .getByRole("alert")
      .getByText(/altered, expired, already used/)
      .waitFor();
    await shot("22-reset-tampered");
    expect((await signIn(ana, NEW_PASSWORD)).status).toBe(201);
    expect((await signIn(ana, "Another-Lantern-77")).status).toBe(401);
  });

  it("says plainly that a domain requiring HTTPS for sign-in refuses the password over plain HTTP, and nothing was changed", async () => {
    const link = await resetLink(tess, tessHome);
    const credential = async () =>
      (await h.cp.store.getCredential(tess, (await h.cp.store.domainNames([strict]))[0]!.accountId))?.hash;
    const before = await credential();
    expect(before).toBeDefined();
    await open(link);
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("New password again").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set password" }).click();
    await page
      .getByRole("alert")
      .getByText(/only lets you set a password over a secure connection \(HTTPS\)/)
      .waitFor();
    expect((await alertText()).join(" ")).toContain("Nothing was changed");
    await axe("reset-tls-required");
    await shot("23-reset-tls-required");
    // Still the old password (sign-in itself needs HTTPS here, so the stored hash is compared).
    expect(await credential()).toBe(before);
  });

  it("tells a page opened without a token to open the mail's link again", async () => {
    await open(`${h.url}/console/#/reset`);
    await page
      .getByRole("alert")
      .getByText(/Open the link from the mail again/)
      .waitFor();
    expect(await page.getByLabel("New password", { exact: true }).count()).toBe(0);
  });

  it("has no serious or critical axe-core violations, and the browser refused nothing", () => {
    expect([...axeFindings.keys()].sort()).toEqual([
      "lost-password",
      "my-quarantine-reports",
      "reset-page",
      "reset-tls-required",
    ]);
    for (const [name, violations] of axeFindings) expect(violations, name).toEqual([]);
    expect(consoleErrors, consoleErrors.join("\n")).toEqual([]);
  });
});
