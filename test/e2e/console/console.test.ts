/**
 * The web console in a real browser: Debian's chromium driven headless by playwright-core against a
 * control plane with an SMTP engine (SQLite). Sign-in with TOTP, quarantine release reaching the
 * Maildir, the message-log search, the CSP and text-only rendering of hostile subjects, and axe-core
 * on every main page. Screenshots go to test-results/console/ (git-ignored).
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GTUBE } from "../../../platform/smtp/content/scan.ts";
import { NO_DNS } from "../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../platform/smtp/delivery/egress.ts";
import { type EngineOnStore, startSmtpEngineOnStore } from "../../../platform/smtp/engine-on-store.ts";
import { type Harness, startHarness, uniqueDomain } from "../../integration/api/harness.ts";
import { pythonTotp } from "../../integration/api/python-totp.ts";
import { EventLog, HOSTNAME, swaks } from "../../integration/smtp/support/harness.ts";
import { freePort } from "../../support/ports.ts";

/** Debian's chromium (scripts/system-deps.sh installs it); playwright-core downloads no browser. */
const CHROMIUM = process.env.MAILPLANE_CHROMIUM ?? "/usr/bin/chromium";
const root = join(import.meta.dirname, "..", "..", "..");
/** Where screenshots are written (git-ignored). */
const ARTIFACTS = join(root, "test-results", "console");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const PASSWORD = "Correct-Horse-7";
const HOSTILE = `<img src=x onerror="document.title='pwned'">`;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

describe("the web console in chromium", () => {
  let h: Harness;
  let engine: EngineOnStore | undefined;
  let events: EventLog;
  let browser: Browser;
  let page: Page;
  let adminToken: string;
  let accountToken: string;
  const domain = uniqueDomain("console");
  const alice = `alice@${domain}`;
  /** A domain whose policy requires two-step sign-in. */
  const strict = uniqueDomain("strict");
  const carol = `carol@${strict}`;
  /** A domain whose one route does not answer: its mail waits in the delivery queue. */
  const routed = uniqueDomain("routed");
  let waitingId: string;
  /** Held message IDs by subject. */
  const held = new Map<string, string>();
  /** Messages the browser's console printed: a CSP refusal shows up here. */
  const consoleErrors: string[] = [];
  /** Serious and critical axe-core violations per page. */
  const axeFindings = new Map<string, AxeViolation[]>();

  /** Runs axe-core (evaluated over CDP: the page's CSP still applies to the console's own scripts). */
  const axe = async (name: string) => {
    await page.evaluate(axeSource);
    const violations = (await page.evaluate(async () => {
      // Runs in the page: its globals (axe, document) are not in this file's Node types.
      const g = globalThis as any;
      const result = await g.axe.run(g.document, { resultTypes: ["violations"] });
      return result.violations.map((v: any) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
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

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    h = await startHarness({ name: "sqlite" }, { smtp: () => engine?.operations, rateLimit: false });
    const tenant = await h.tenant("console");
    const put = async (path: string, body: object) => {
      const res = await h.call("PUT", path, { token: tenant.token, body });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
    };
    await put(`/v1/domains/${domain}`, { name: domain });
    await put(`/v1/domains/${domain}/users/${alice}`, { address: alice, password: PASSWORD });
    await put(`/v1/domains/${strict}`, { name: strict });
    await put(`/v1/domains/${strict}/password-policy`, { scope: strict, requireTwoFactor: true });
    await put(`/v1/domains/${strict}/users/${carol}`, { address: carol, password: PASSWORD });
    await put(`/v1/domains/${routed}`, { name: routed });
    const closedPort = await freePort();
    await put(`/v1/domains/${routed}/routes/127.0.0.1:${closedPort}`, {
      domain: routed,
      host: "127.0.0.1",
      port: closedPort,
      tls: "none",
    });
    adminToken = await h.token(tenant.id, "domain-admin", [domain, routed]);
    accountToken = tenant.token;
    engine = await startSmtpEngineOnStore({
      store: h.cp.store,
      policy: { trustAllDomains: true },
      dataDir: `${h.dataDir}/smtp`,
      hostname: HOSTNAME,
      resolver: NO_DNS,
      inbound: { host: "127.0.0.1", port: 0 },
      submission: { host: "127.0.0.1", port: 0 },
      retryBaseMs: 60_000,
      egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
    });
    await engine.policy.reached(await h.cp.store.revision());
    events = new EventLog(engine);
    for (const subject of ["Invoice 42", HOSTILE, "Old newsletter"]) {
      const run = await swaks(engine.inboundPort, [
        "--to",
        alice,
        "--from",
        "billing@outside.example",
        "--header",
        `Subject: ${subject}`,
        "--body",
        GTUBE,
      ]);
      expect(run.replyTo(".")).toMatchObject({ code: 550 });
      const [message] = await events.next("quarantined", (m) => m.subject === subject);
      held.set(subject, (message as { id: string }).id);
    }
    const waiting = await swaks(engine.inboundPort, [
      "--to",
      `someone@${routed}`,
      "--from",
      "billing@outside.example",
      "--header",
      "Subject: Waiting for the route",
    ]);
    expect(waiting.replyTo(".")).toMatchObject({ code: 250 });
    waitingId = waiting.queueId()!;
    await events.next("deferred", (meta) => meta.id === waitingId);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Root in a container: chromium's sandbox needs user namespaces the CI runner may not grant.
      args: ["--no-sandbox"],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (message) => {
      // The one 401 is the session ended on purpose (the test of that), the 422s the admin's reports
      // to an engine without a learning filter (the test of those); anything else counts.
      if (message.type() === "error" && !/status of (401|422)/.test(message.text())) {
        consoleErrors.push(message.text());
      }
    });
  });
  afterAll(async () => {
    await browser?.close();
    await engine?.close();
    await h?.close();
  });

  it("serves /console/ with a strict Content-Security-Policy and refuses to be framed", async () => {
    const answer = await page.goto(`${h.url}/console/`);
    const headers = answer!.headers();
    expect(headers["content-security-policy"]).toContain("script-src 'self'");
    expect(headers["content-security-policy"]).toContain("style-src 'self'");
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["content-security-policy"]).not.toContain("unsafe-inline");
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Sign in");
    await axe("sign-in");
    await shot("01-sign-in");
  });

  it("sets up TOTP and creates and revokes an application password in the settings, then signs in with password and a TOTP code computed per RFC 6238 (keyboard: Enter submits)", async () => {
    await page.getByLabel("Address").fill(alice);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "My quarantine" }).waitFor();

    await page.getByRole("link", { name: "My settings" }).click();
    await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
    const uri = await page.locator("code.otpauth").textContent();
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    const secret = (await page.locator("code.totp-secret").textContent())!;
    expect(new URL(uri!).searchParams.get("secret")).toBe(secret);
    await shot("02-totp-enrolment");
    await page.getByLabel("Code from the app").fill(pythonTotp(secret, Date.now()));
    await page.getByRole("button", { name: "Confirm two-step sign-in" }).click();
    await page.getByText("On. Recovery codes left: 10.").waitFor();

    // An application password: created (its secret shown once), listed by prefix, revoked.
    await page.getByLabel("Name").fill("Thunderbird <laptop>");
    await page.getByRole("button", { name: "Create" }).click();
    const appPassword = (await page.locator("code.app-password").textContent())!;
    const row = page.locator("tr", { hasText: "Thunderbird <laptop>" });
    expect(await row.locator("td").nth(2).textContent()).toBe(appPassword.slice(0, 8));
    expect(await row.locator("td").nth(5).textContent()).toBe("valid");
    // Nothing absent is shown as "null" or "undefined".
    expect(await page.locator("main").textContent()).not.toMatch(/null|undefined/);
    await axe("settings");
    await shot("03-settings");
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.getByText(/^revoked /).waitFor();

    // The session token lives in sessionStorage (this tab only), never in localStorage.
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    const kept = JSON.parse((await page.evaluate(() => sessionStorage.getItem("mailplane-console")))!);
    expect(kept.token).toMatch(/^mps_/);

    // Signing out ends the session on the server, not only in the tab.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect((await h.call("GET", "/v1/me", { token: kept.token })).status).toBe(401);
    await page.getByLabel("Address").fill(alice);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    // The confirmation used this step's code and each code works once (RFC 6238 §5.2): the next
    // step's code is inside the verification window and unused.
    // Keyboard only: Enter in the code field submits it.
    await page.getByLabel("Code").fill(pythonTotp(secret, Date.now() + 30_000));
    await page.getByLabel("Code").press("Enter");
    await page.getByRole("heading", { level: 1, name: "My quarantine" }).waitFor();
    // Focus moves to the new page's heading, so screen readers and keyboards start there.
    expect(await page.evaluate(() => (globalThis as any).document.activeElement.tagName)).toBe("H1");

    // The user's own login audit shows this sign-in's second factor.
    await page.getByRole("link", { name: "My sign-ins" }).click();
    await page.locator("tbody tr", { hasText: "totp" }).first().waitFor();
    await axe("my-sign-ins");
    await shot("04a-my-sign-ins");
    await page.getByRole("link", { name: "My quarantine" }).click();
    await page.getByRole("heading", { level: 1, name: "My quarantine" }).waitFor();
  });

  it("shows a hostile subject as text: no element is created and no script runs", async () => {
    const hostile = page.locator("td.subject", { hasText: HOSTILE });
    await hostile.waitFor();
    expect(await hostile.textContent()).toBe(HOSTILE);
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.title()).not.toBe("pwned");
    await axe("my-quarantine");
    await shot("04-my-quarantine");
  });

  it("releases a message from the user's quarantine, and it reaches their Maildir; then the user changes their password", async () => {
    const row = page.locator("tr", { has: page.locator("td.subject", { hasText: /^Invoice 42$/ }) });
    await row.getByRole("button", { name: "View" }).click();
    await page.getByRole("heading", { level: 2, name: "Invoice 42" }).waitFor();
    expect(await page.locator("pre").textContent()).toContain(GTUBE);
    await row.getByRole("button", { name: "Release" }).click();
    await status()
      .getByText(/Released “Invoice 42”/)
      .waitFor();
    const queueId = /queue ID ([^)]+)\)/.exec((await status().textContent())!)![1]!;
    await events.settled(queueId);
    const newDir = join(engine!.maildirOf(alice), "new");
    const delivered = readdirSync(newDir).map((f) => readFileSync(join(newDir, f), "utf8"));
    expect(delivered.filter((m) => m.includes("Subject: Invoice 42"))).toHaveLength(1);
    expect(await page.locator("td.subject", { hasText: /^Invoice 42$/ }).count()).toBe(0);

    // Delete asks first: dismissed, nothing happens; accepted, the message is gone from the platform.
    const old = () =>
      page.locator("tr", { has: page.locator("td.subject", { hasText: /^Old newsletter$/ }) });
    page.once("dialog", (dialog) => void dialog.dismiss());
    await old().getByRole("button", { name: "Delete", exact: true }).click();
    expect(await old().count()).toBe(1);
    page.once("dialog", (dialog) => void dialog.accept());
    await old().getByRole("button", { name: "Delete", exact: true }).click();
    await status()
      .getByText(/Deleted “Old newsletter”/)
      .waitFor();
    expect(await old().count()).toBe(0);
    expect(await engine!.operations.quarantinedMessage(held.get("Old newsletter")!)).toBeUndefined();
    await page.getByRole("link", { name: "My message log" }).click();
    await page
      .locator("td.subject", { hasText: /^Invoice 42$/ })
      .first()
      .waitFor();
    await axe("my-log");
    await shot("05-my-log");

    // A password change issues a new session: the console keeps working with it.
    await page.getByRole("link", { name: "My settings" }).click();
    // A wrong current password is refused with the API's message, and the user stays signed in.
    await page.getByLabel("Current password").fill("not-the-password");
    await page.getByLabel("New password", { exact: true }).fill("Battery-Staple-9x");
    await page.getByLabel("New password again").fill("Battery-Staple-9x");
    await page.getByRole("button", { name: "Change password" }).click();
    await page
      .getByRole("alert")
      .getByText(/^Failed: /)
      .waitFor();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("My settings");
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.getByLabel("New password", { exact: true }).fill("Battery-Staple-9x");
    await page.getByLabel("New password again").fill("Battery-Staple-9x");
    await page.getByRole("button", { name: "Change password" }).click();
    await status()
      .getByText(/Password changed/)
      .waitFor();
    await page.getByRole("link", { name: "My quarantine" }).click();
    await page.locator("td.subject", { hasText: HOSTILE }).waitFor();
    const signIn = await h.call("POST", "/v1/sessions", {
      body: { address: alice, password: "Battery-Staple-9x" },
    });
    expect(signIn.status).toBe(201);

    // A session ended elsewhere (here: signed out through the API) takes the tab back to sign-in.
    const current = JSON.parse((await page.evaluate(() => sessionStorage.getItem("mailplane-console")))!);
    expect((await h.call("DELETE", "/v1/sessions/current", { token: current.token })).status).toBe(204);
    await page.getByRole("link", { name: "My message log" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await status()
      .getByText(/Signed out: /)
      .waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("signs an account admin in with an API token and offers the account's domains", async () => {
    await page.getByRole("link", { name: "sign in with an API token" }).click();
    await page.getByLabel("API token").fill(accountToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Quarantine" }).waitFor();
    const offered = await page.getByLabel("Domain", { exact: true }).locator("option").allTextContents();
    expect(offered.sort()).toEqual([domain, strict, routed].sort());
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { level: 1, name: "Administrator sign-in" }).waitFor();
  });

  it("signs a domain admin in with an API token, deletes the selected held message, and searches the message log by subject and classification", async () => {
    await page.getByLabel("API token").fill(adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Quarantine" }).waitFor();
    await page.locator("td.subject", { hasText: HOSTILE }).waitFor();
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.title()).not.toBe("pwned");
    await axe("admin-quarantine");
    await shot("06-admin-quarantine");
    // The reports to the spam filter: this engine has none that learns, so each answers the API's
    // 422 on the page and the message stays held; the delete and report asks first.
    const hostileId = held.get(HOSTILE)!;
    const hostileRow = page.locator("tr", { has: page.locator("td.subject", { hasText: HOSTILE }) });
    await hostileRow.getByRole("button", { name: "Not spam" }).click();
    await page
      .getByRole("alert")
      .getByText(/no rspamd controller to teach/)
      .first()
      .waitFor();
    const asked: string[] = [];
    page.once("dialog", (dialog) => {
      asked.push(dialog.message());
      void dialog.dismiss();
    });
    await hostileRow.getByRole("button", { name: "Delete and report spam" }).click();
    expect(asked[0]).toContain("report it as spam");
    // Dismissed: no request, so no second error on the page.
    expect(await page.locator("main p.error").count()).toBe(1);
    page.once("dialog", (dialog) => void dialog.accept());
    await hostileRow.getByRole("button", { name: "Delete and report spam" }).click();
    await page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll("main p.error").length >= 2,
    );
    expect(
      (await h.call("GET", `/v1/domains/${domain}/quarantine/${hostileId}`, { token: adminToken })).status,
    ).toBe(200);
    // Bulk delete: the selected message goes, from the list and from the engine's quarantine.
    await page.getByRole("checkbox", { name: /^Select “<img src=x/ }).check();
    await page.getByRole("button", { name: "Delete selected" }).click();
    await status().getByText("Deleted 1 of 1 message.").waitFor();
    await page.getByRole("caption").getByText("0 held messages").waitFor();
    expect(
      (await h.call("GET", `/v1/domains/${domain}/quarantine/${hostileId}`, { token: adminToken })).status,
    ).toBe(404);

    await page.getByRole("link", { name: "Message log" }).click();
    await page.getByRole("heading", { level: 1, name: "Message log" }).waitFor();
    await page.getByLabel("Subject").fill("invoice");
    await page.getByLabel("Classification").selectOption("spam");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("caption").getByText("1 log entry").waitFor();
    expect(await page.locator("td.subject").allTextContents()).toEqual(["Invoice 42"]);
    await axe("admin-log");
    await shot("07-admin-log");
    await page.getByLabel("Classification").selectOption("clean");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("caption").getByText("0 log entries").waitFor();

    // The domain's login audit: Alice's successful sign-ins, with the TOTP step among them.
    await page.getByRole("link", { name: "Login audit" }).click();
    await page.getByRole("heading", { level: 1, name: "Login audit" }).waitFor();
    await page.getByLabel("Address").fill(alice);
    await page.getByLabel("Result").selectOption("success");
    await page.getByRole("button", { name: "Search" }).click();
    await page.locator("tbody tr", { hasText: "totp" }).first().waitFor();
    const results = await page.locator("tbody tr td:nth-child(5)").allTextContents();
    expect(results.length).toBeGreaterThan(0);
    expect(new Set(results)).toEqual(new Set(["success"]));
    await axe("admin-login-audit");
    await shot("07a-admin-login-audit");
  });

  it("shows a deferred message in the delivery queue and deletes it, and shows the statistics with a chart", async () => {
    await page.getByRole("link", { name: "Delivery queue" }).click();
    await page
      .getByRole("caption")
      .getByText(/queued messages?/)
      .waitFor();
    await page.getByLabel("Domain", { exact: true }).selectOption(routed);
    const row = page.locator("tr", { hasText: "Waiting for the route" });
    await row.waitFor();
    expect(await row.locator("td").nth(4).textContent()).toBe("deferred");
    expect(await row.locator("td").nth(6).textContent()).toContain("127.0.0.1:");
    await axe("admin-queue");
    await shot("08-admin-queue");
    await row.getByRole("button", { name: "Delete" }).click();
    await status()
      .getByText(/Deleted “Waiting for the route” from the queue/)
      .waitFor();
    await page.getByRole("caption").getByText("0 queued messages").waitFor();
    expect(engine!.queue.get(waitingId)).toBeUndefined();

    await page.getByRole("link", { name: "Statistics" }).click();
    await page.getByLabel("Domain", { exact: true }).selectOption(domain);
    await page.locator("svg.chart rect").first().waitFor();
    const totals = page.locator("dl.totals");
    // The three messages held at set-up, whatever became of them since.
    expect(await totals.locator("div", { hasText: "Quarantined" }).locator("dd").textContent()).toBe("3");
    await axe("admin-statistics");
    await shot("09-admin-statistics");
  });

  it("takes a user whose domain requires two-step sign-in to the enrolment first, and to their pages once it is confirmed", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("link", { name: "sign in with your address" }).click();
    await page.getByLabel("Address").fill(carol);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "My settings" }).waitFor();
    await page.getByText("Your domain requires two-step sign-in").waitFor();
    // Until the step is done, other pages lead back here.
    await page.getByRole("link", { name: "My quarantine" }).click();
    await page.getByRole("heading", { level: 1, name: "My settings" }).waitFor();
    expect(await page.getByRole("heading", { level: 2, name: "Application passwords" }).count()).toBe(0);
    await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
    const secret = (await page.locator("code.totp-secret").textContent())!;
    await page.getByLabel("Code from the app").fill(pythonTotp(secret, Date.now()));
    await page.getByRole("button", { name: "Confirm two-step sign-in" }).click();
    await page.getByRole("heading", { level: 2, name: "Application passwords" }).waitFor();
    await page.getByRole("link", { name: "My quarantine" }).click();
    await page.getByRole("heading", { level: 1, name: "My quarantine" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
  });

  it("badges the objects a Pulumi stack declares and warns before disabling one: Cancel changes nothing, the confirmation disables it", async () => {
    const stamp = { tool: "pulumi", project: "mail", stack: "prod" };
    const dora = `dora@${domain}`;
    const info = `info@${domain}`;
    const userPath = `/v1/domains/${domain}/users/${dora}`;
    const made = await h.call("PUT", userPath, {
      token: accountToken,
      body: { address: dora, password: PASSWORD },
      headers: { "mailplane-managed-by": JSON.stringify(stamp) },
    });
    expect(made.status).toBe(201);
    await h.call("PUT", `/v1/domains/${domain}/aliases/${info}`, {
      token: accountToken,
      body: { address: info, action: { type: "forward", to: [alice] } },
    });
    const live = async () => (await h.call("GET", userPath, { token: adminToken })).body;
    const before = await live();

    await page.getByRole("link", { name: "sign in with an API token" }).click();
    await page.getByLabel("API token").fill(adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Quarantine" }).waitFor();
    await page.getByRole("link", { name: "Declared objects" }).click();
    await page.getByRole("heading", { level: 1, name: "Declared objects" }).waitFor();
    await page.getByLabel("Domain", { exact: true }).selectOption(domain);
    const doraRow = page.locator("tr", { has: page.locator("td.name", { hasText: dora }) });
    await doraRow.getByText("Managed by Pulumi stack mail/prod").waitFor();
    const infoRow = page.locator("tr", { has: page.locator("td.name", { hasText: info }) });
    expect(await infoRow.getByText("Not managed in code").count()).toBe(1);
    expect(await infoRow.getByText(/Managed by Pulumi/).count()).toBe(0);
    await axe("admin-objects");
    await shot("10-admin-objects");

    // Cancel: the dialog goes, and the user is as it was.
    await doraRow.getByRole("button", { name: `Disable ${dora}` }).click();
    const warning = page.getByRole("dialog", { name: "This object is managed by Pulumi" });
    await warning.waitFor();
    expect(await warning.textContent()).toContain("mail/prod");
    expect(await warning.textContent()).toContain("“pulumi up” reverts it");
    await axe("admin-objects-warning");
    await shot("11-managed-warning");
    await warning.getByRole("button", { name: "Cancel" }).click();
    await warning.waitFor({ state: "detached" });
    await status().getByText("Nothing changed.").waitFor();
    expect(await live()).toMatchObject({ enabled: true, etag: before.etag });

    // Confirmed: disabled on the platform, still declared by the stack.
    await doraRow.getByRole("button", { name: `Disable ${dora}` }).click();
    await warning.getByRole("button", { name: `Disable ${dora} anyway` }).click();
    await status().getByText(`Disabled ${dora}.`).waitFor();
    await doraRow.getByRole("button", { name: `Enable ${dora}` }).waitFor();
    expect(await live()).toMatchObject({ enabled: false, managedBy: stamp });

    // An object no stack declares is changed without the warning.
    await infoRow.getByRole("button", { name: `Edit targets of ${info}` }).click();
    await page.getByLabel(`Targets of ${info} (comma-separated)`).fill(`${alice}, ${dora}`);
    await page.getByRole("button", { name: "Save" }).click();
    await status().getByText(`Saved the targets of ${info}.`).waitFor();
    expect(await page.getByRole("dialog").count()).toBe(0);
    const edited = await h.call("GET", `/v1/domains/${domain}/aliases/${info}`, { token: adminToken });
    expect(edited.body).toMatchObject({
      action: { type: "forward", to: [alice, dora].sort() },
      managedBy: null,
    });
    await page.getByRole("button", { name: "Sign out" }).click();
  });

  it("has no serious or critical axe-core violations on any page, and the browser refused nothing", () => {
    expect([...axeFindings.keys()]).toHaveLength(12);
    for (const [name, violations] of axeFindings) expect(violations, name).toEqual([]);
    expect(consoleErrors, consoleErrors.join("\n")).toEqual([]);
    expect(readdirSync(ARTIFACTS).filter((f) => f.endsWith(".png")).length).toBeGreaterThanOrEqual(13);
  });
});
