/**
 * `make demo` — the main job end to end: the platform comes up on loopback (control plane + SMTP
 * engine, embedded SQLite), `pulumi up` applies the demo tenancy (tenancy/demo.yaml), real SMTP
 * sessions (nodemailer's client) send mail, and a table compares each message's expected and actual
 * fate. Then a change to the manifest is previewed with `pulumi preview --diff`, as a reviewer would
 * see it in a pull request.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { SMTPServer } from "smtp-server";
import { MailplaneClient } from "../sdk/src/client/client.ts";

const root = join(import.meta.dirname, "..");
const dataDir = join(root, ".data", "demo");
const stack = "demo";
/** The lab's own mail server, where tenancy/demo.yaml routes acmelabs.example. */
const LAB_PORT = 2626;
const ACCOUNT = "acme";
const PASSWORDS: Record<string, string> = {
  "ada@acme.example": "Analytical-Engine-1843",
  "linus@acme.example": "Penguin-Kernel-1991",
  "grace@acme.example": "Cobol-Compiler-1959",
  "margaret@acme.example": "Apollo-Guidance-1969",
};

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string) => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string) => (process.stdout.isTTY ? `\x1b[31m${s}\x1b[0m` : s);
let stepNo = 0;
const step = (title: string) => console.log(`\n${bold(`── ${++stepNo}. ${title} `.padEnd(100, "─"))}`);
const info = (text: string) => console.log(`   ${text}`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function pulumi(args: string[], options: { capture?: boolean; allowFailure?: boolean } = {}) {
  const result = spawnSync("pulumi", [...args, "--stack", stack, "--non-interactive"], {
    cwd: root,
    stdio: options.capture ? ["ignore", "pipe", "pipe"] : "inherit",
    encoding: "utf8",
  });
  if (result.status !== 0 && !options.allowFailure) {
    if (options.capture) process.stderr.write(`${result.stdout}${result.stderr}`);
    throw new Error(`pulumi ${args.join(" ")} failed (exit ${result.status})`);
  }
  return result;
}

/** Starts `mailplane serve` (control plane + SMTP engine) and waits until its API answers. */
async function startPlatform(ports: {
  api: number;
  smtp: number;
  submission: number;
}): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join(root, "cli", "mailplane.ts"),
      "serve",
      "--data-dir",
      dataDir,
      "--listen",
      `127.0.0.1:${ports.api}`,
      "--smtp-listen",
      `127.0.0.1:${ports.smtp}`,
      "--submission-listen",
      `127.0.0.1:${ports.submission}`,
      "--smtp-hostname",
      "mx.acme.example",
      // The lab's server (acmelabs.example's route) listens on loopback; routes may not reach it otherwise.
      "--allow-route-cidr",
      "127.0.0.1/32",
      "--log-level",
      "warn",
      // The demo is one person's platform on made-up domains: nothing to verify in DNS.
      "--trust-all-domains",
      // The expectations below are the built-in rules' (all-caps subject → unsure); an installed
      // rspamd would score them differently (docs/smtp.md, "Spam scoring").
      "--rspamd",
      "off",
      // Quarantine digests go out within a second of being due (default: checked every minute).
      "--report-check-interval",
      "500",
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mailplane serve exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${ports.api}/healthz`);
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new Error("mailplane serve did not answer /healthz within 30 s");
}

/** The lab's mail server: accepts everything and remembers it, so the table can show relayed mail. */
async function startLabServer(received: string[]): Promise<SMTPServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push(Buffer.concat(chunks).toString("utf8"));
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.on("error", reject);
    server.listen(LAB_PORT, "127.0.0.1", () => resolve());
  });
  return server;
}

interface Scenario {
  label: string;
  expected: string;
  from: string;
  to: string;
  subject: string;
  text?: string;
  attachment?: string;
}

const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

const scenarios: Scenario[] = [
  {
    label: "to a user",
    expected: "delivered: ada",
    from: "partner@supplier.example",
    to: "ada@acme.example",
    subject: "Order 1042",
  },
  {
    label: "to a distribution list",
    expected: "delivered: ada, linus",
    from: "lead@customer.example",
    to: "sales@acme.example",
    subject: "Quote request",
  },
  {
    label: "via the domain alias",
    expected: "delivered: ada",
    from: "old-friend@elsewhere.example",
    to: "ada@acme-widgets.example",
    subject: "Old address still works?",
  },
  {
    label: "to a departed employee",
    expected: "550 Joe no longer works here",
    from: "partner@supplier.example",
    to: "joe@acme.example",
    subject: "Follow-up",
  },
  {
    label: "from a blocked sender",
    expected: "550 (sender blocked)",
    from: "offers@spam.example",
    to: "linus@acme.example",
    subject: "Cheap watches",
  },
  {
    label: "to an unknown user",
    expected: "550 (no such user)",
    from: "partner@supplier.example",
    to: "nobody@acme.example",
    subject: "Hello?",
  },
  {
    label: "to a disabled user",
    expected: "550 (user disabled)",
    from: "partner@supplier.example",
    to: "margaret@acme.example",
    subject: "Apollo",
  },
  {
    label: "relay attempt",
    expected: "550 (relay denied)",
    from: "someone@outside.example",
    to: "victim@elsewhere.example",
    subject: "Relay me",
  },
  {
    label: "spam (GTUBE)",
    expected: "quarantined",
    from: "bulk@sender.example",
    to: "linus@acme.example",
    subject: "You won",
    text: `Hello\n${GTUBE}\n`,
  },
  {
    label: "blocked attachment",
    expected: "quarantined",
    from: "courier@sender.example",
    to: "grace@acme.example",
    subject: "Your parcel",
    attachment: "parcel-label.exe",
  },
  {
    label: "unsure (all-caps subject)",
    expected: "tagged [SPAM?], delivered: ada",
    from: "promo@sender.example",
    to: "ada@acme.example",
    subject: "FREE WIDGETS FOR EVERYONE",
  },
  {
    label: "allow-listed sender",
    expected: "delivered: grace (filters skipped)",
    from: "billing@bank.example",
    to: "it@acme.example",
    subject: "Statement",
    text: `Your statement (it quotes a spam test string: ${GTUBE})\n`,
  },
  {
    label: "to the lab (route)",
    expected: "relayed to 127.0.0.1:2626",
    from: "partner@supplier.example",
    to: "results@acmelabs.example",
    subject: "Sample results",
  },
];

interface Sent {
  scenario: Scenario;
  token: string;
  reply: string;
  accepted: boolean;
}

async function send(smtpPort: number, scenario: Scenario, token: string): Promise<Sent> {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: smtpPort,
    secure: false,
    ignoreTLS: true,
    name: "client.supplier.example",
    // nodemailer waits up to 10 minutes for a silent server; the demo would rather say so.
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
  try {
    const info = await transport.sendMail({
      from: scenario.from,
      to: scenario.to,
      subject: `${scenario.subject} ${token}`,
      text: scenario.text ?? `Hello from ${scenario.from}.\n`,
      ...(scenario.attachment
        ? {
            attachments: [{ filename: scenario.attachment, content: Buffer.from("MZ not really a program") }],
          }
        : {}),
    });
    return { scenario, token, reply: info.response, accepted: true };
  } catch (err) {
    const e = err as { response?: string; message: string };
    return { scenario, token, reply: e.response ?? e.message, accepted: false };
  } finally {
    transport.close();
  }
}

/** Files under `dir` (recursively) whose content contains `token`. */
function filesWith(dir: string, token: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (readFileSync(path).includes(token)) found.push(path);
  }
  return found;
}

/**
 * What happened to a message: the SMTP reply when refused; else the quarantine (through the
 * operations API), the Maildirs it reached, or the lab's server.
 */
async function fateOf(sent: Sent, api: MailplaneClient, labMail: string[]): Promise<string | null> {
  if (!sent.accepted) return sent.reply.replace(/^(\d{3}) (\d\.\d\.\d )?/, "$1 ");
  const domain = sent.scenario.to.split("@")[1]!.replace("acme-widgets.example", "acme.example");
  const held = await api.operations.listQuarantine(domain, { subject: sent.token });
  if (held.items.length > 0) return `quarantined (${held.items[0]!.reason})`;
  const mailRoot = join(dataDir, "smtp", "mail");
  const copies = filesWith(mailRoot, sent.token).filter((p) => p.includes("/new/") || p.includes("/cur/"));
  if (copies.length > 0) {
    const mailboxes = copies
      .map((p) => p.slice(mailRoot.length + 1).split("/"))
      // Maildir folders are `<domain>@<generation>` (one per lifetime of the Domain).
      .map(([folder, local]) => [folder!.split("@")[0]!, local] as const)
      .map(([domain, local]) => (domain === "acme.example" ? local : `${local}@${domain}`))
      .sort();
    const tagged = /^Subject: \[SPAM\?\]/m.test(readFileSync(copies[0]!, "utf8")) ? "tagged [SPAM?], " : "";
    const skipped = sent.scenario.from === "billing@bank.example" ? " (filters skipped)" : "";
    return `${tagged}delivered: ${mailboxes.join(", ")}${skipped}`;
  }
  if (labMail.some((m) => m.includes(sent.token))) return `relayed to 127.0.0.1:${LAB_PORT}`;
  return null;
}

/** A message's text with quoted-printable soft line breaks joined and escapes decoded. */
function decodedText(raw: string): string {
  return raw
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Polls `find` every 200 ms until it answers, for at most `ms`. */
async function waitFor<T>(find: () => T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what} did not arrive within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The quarantine digest: ReportSettings switches digests on, the engine's scheduler sends grace@ hers,
 * and the demo follows its release link like a person would: GET (a page with a button), POST.
 */
async function digestAndRelease(api: MailplaneClient): Promise<boolean> {
  await api.reportSettings.put({
    scope: "acme.example",
    userReport: true,
    userReportAutoActivate: true,
    frequency: "daily",
  });
  info("ReportSettings acme.example: userReport on, auto-activated for every user with held mail, daily");
  const mailRoot = join(dataDir, "smtp", "mail");
  const inbox = (local: string, text: string) =>
    filesWith(mailRoot, text).filter((p) => p.includes(`/${local}/new/`));
  const file = await waitFor(() => inbox("grace", "Subject: Quarantine digest")[0], 15_000, "grace's digest");
  const text = decodedText(readFileSync(file, "latin1"));
  const entry = /^Subject: (.*)\r?\nDate: .*\r?\nRelease: (\S+)\r?$/m.exec(text);
  if (!entry) throw new Error("the digest lists no release link");
  const [, subject, link] = entry as unknown as [string, string, string];
  const shown = `${link.slice(0, link.indexOf("/release/") + 16)}…`;
  info(`digest in grace's Maildir: ${file.slice(mailRoot.length + 1)}`);
  info(`  lists "${subject}" with its signed release link ${shown}`);
  const title = (html: string) => /<h1>(.*?)<\/h1>/.exec(html)?.[1] ?? "";
  const page = await fetch(link);
  info(
    `GET  ${shown} → ${page.status} "${title(await page.text())}" (a button; link scanners release nothing)`,
  );
  const post = () =>
    fetch(link, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
  const first = await post();
  info(`POST ${shown} → ${first.status} "${title(await first.text())}"`);
  const token = /\[#\d+\]/.exec(subject)?.[0] ?? subject;
  const released = await waitFor(
    () => inbox("grace", token).find((p) => p !== file),
    15_000,
    "the released message",
  );
  info(`grace's Maildir now holds "${subject}": ${released.slice(mailRoot.length + 1)}`);
  const again = await post();
  info(`POST again → ${again.status} "${title(await again.text())}" (a link releases once)`);
  const held = await api.operations.listQuarantine("acme.example", { subject: token });
  const ok = held.items.length === 0;
  info(ok ? green("released through its link: exactly that message, to grace only") : red("✗ still held"));
  return ok;
}

function matches(expected: string, actual: string): boolean {
  if (expected.startsWith("550 (")) return actual.startsWith("550 ");
  return actual.startsWith(expected);
}

async function main() {
  step("The platform: control plane + SMTP engine on loopback (embedded SQLite)");
  const labMail: string[] = [];
  const lab = await startLabServer(labMail).catch((err) => {
    throw new Error(`port ${LAB_PORT} (the lab's mail server in tenancy/demo.yaml) is busy: ${err.message}`);
  });
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const ports = { api: await freePort(), smtp: await freePort(), submission: await freePort() };
  const platform = await startPlatform(ports);
  const endpoint = `http://127.0.0.1:${ports.api}`;
  info(`API          ${endpoint}   (OpenAPI at ${endpoint}/openapi.json)`);
  info(`SMTP inbound 127.0.0.1:${ports.smtp}   submission 127.0.0.1:${ports.submission} (STARTTLS + AUTH)`);
  info(`lab server   127.0.0.1:${LAB_PORT} (acmelabs.example's own mail server)`);

  try {
    const admin = new MailplaneClient({
      endpoint,
      token: readFileSync(join(dataDir, "admin-token"), "utf8").trim(),
    });
    await admin.accounts.put({ id: ACCOUNT, name: "Acme Widgets" });
    const { token } = await admin.tokens.create(
      { role: "account-admin", description: "make demo: the Pulumi stack" },
      { account: ACCOUNT },
    );
    await admin.close();
    const api = new MailplaneClient({ endpoint, token });
    info(`account "${ACCOUNT}" with an account-admin token (kept only as a secret in the stack config)`);

    step(`The stack "${stack}": endpoint, token and passwords in its config (secrets encrypted)`);
    // A demo interrupted mid-update leaves its lock behind. The lab port is ours, so no other demo
    // runs: the lock is stale, and the stack is rebuilt from scratch anyway.
    const backend = (process.env.PULUMI_BACKEND_URL ?? "").replace(/^file:\/\//, "");
    if (backend)
      rmSync(join(backend, ".pulumi", "locks", "organization", "mailplane-demo", stack), {
        recursive: true,
        force: true,
      });
    pulumi(["stack", "rm", "--yes", "--force"], { capture: true, allowFailure: true });
    rmSync(join(root, `Pulumi.${stack}.yaml`), { force: true });
    spawnSync("pulumi", ["stack", "init", stack, "--non-interactive"], { cwd: root, stdio: "ignore" });
    pulumi(["config", "set", "mailplane:endpoint", endpoint], { capture: true });
    pulumi(["config", "set", "--secret", "mailplane:token", token], { capture: true });
    for (const [address, password] of Object.entries(PASSWORDS)) {
      pulumi(["config", "set", "--secret", "--path", `passwords["${address}"]`, password], { capture: true });
    }
    info(`Pulumi.${stack}.yaml written; backend ${process.env.PULUMI_BACKEND_URL}`);

    step("pulumi up — the tenancy of tenancy/demo.yaml");
    pulumi(["up", "--yes", "--skip-preview"]);

    step("Mail: real SMTP sessions against the inbound listener");
    // The engine rebuilds its policy from the store within a second of a committed change.
    await new Promise((r) => setTimeout(r, 1500));
    const sent: Sent[] = [];
    for (const [i, scenario] of scenarios.entries()) {
      sent.push(await send(ports.smtp, scenario, `[#${i + 1}]`));
    }
    const deadline = Date.now() + 20_000;
    const settle = () => Promise.all(sent.map((s) => fateOf(s, api, labMail)));
    let fates = await settle();
    while (
      fates.some((f, i) => f === null || !matches(sent[i]!.scenario.expected, f)) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 250));
      fates = await settle();
    }
    const rows = sent.map((s, i) => {
      const actual = fates[i] ?? "(accepted; not delivered yet)";
      return {
        n: `#${i + 1}`,
        label: s.scenario.label,
        to: s.scenario.to,
        expected: s.scenario.expected,
        actual,
      };
    });
    const width = {
      label: Math.max(...rows.map((r) => r.label.length), 7),
      to: Math.max(...rows.map((r) => r.to.length), 2),
      expected: Math.max(...rows.map((r) => r.expected.length), 8),
    };
    console.log(
      `\n   ${"".padEnd(4)}${"message".padEnd(width.label + 2)}${"to".padEnd(width.to + 2)}${"expected fate".padEnd(width.expected + 2)}actual fate`,
    );
    let ok = 0;
    for (const r of rows) {
      const good = matches(r.expected, r.actual);
      if (good) ok++;
      const actual = r.actual.length > 70 ? `${r.actual.slice(0, 67)}...` : r.actual;
      console.log(
        `   ${r.n.padEnd(4)}${r.label.padEnd(width.label + 2)}${r.to.padEnd(width.to + 2)}${r.expected.padEnd(width.expected + 2)}${good ? green(`✓ ${actual}`) : red(`✗ ${actual}`)}`,
      );
    }
    console.log(
      `\n   ${ok === rows.length ? green(`${ok}/${rows.length} as declared`) : red(`${ok}/${rows.length} as declared`)}`,
    );
    info(`Maildirs: ${join(dataDir, "smtp", "mail")}/<domain>/<user>/new`);

    step("Operations through the API: quarantine and statistics of acme.example");
    const held = await api.operations.listQuarantine("acme.example");
    for (const m of held.items) {
      info(`quarantine  ${m.id}  ${m.sender} → ${m.recipients.join(", ")}  "${m.subject}"  ${m.reason}`);
    }
    const stats = await api.operations.statistics("acme.example");
    info(
      `statistics  ${stats.total} messages: ${stats.clean} clean, ${stats.unsure} unsure, ${stats.spam} spam, ` +
        `${stats.allowlisted} allow-listed, ${stats.blocked} blocked, ${stats.rejected} rejected, ${stats.quarantined} quarantined`,
    );
    info(`GET ${endpoint}/v1/domains/acme.example/message-log · …/quarantine · …/queue · …/statistics`);

    step("Quarantine digest: a digest arrives in the Maildir, and a release through its link");
    const releasedByLink = await digestAndRelease(api);

    step("A change in review: `pulumi preview --diff` of an edited manifest");
    const edited = readFileSync(join(root, "tenancy", "demo.yaml"), "utf8")
      .replace("quarantineThreshold: 0.9", "quarantineThreshold: 0.8")
      .replace(
        "    action: { type: forward, to: [ada@acme.example, linus@acme.example] }",
        "    action: { type: forward, to: [ada@acme.example, grace@acme.example, linus@acme.example] }",
      )
      .replace(/ {2}- address: joe@acme\.example\n {4}action: \{[^\n]*\n/, "");
    const editedFile = join(dataDir, "tenancy-next.yaml");
    writeFileSync(editedFile, edited);
    info("edited: quarantine threshold 0.9 → 0.8, grace joins sales@, joe's reject alias removed");
    pulumi(["config", "set", "manifest", editedFile], { capture: true });
    pulumi(["preview", "--diff"]);
    pulumi(["config", "rm", "manifest"], { capture: true });

    step("Done");
    info(
      ok === rows.length
        ? "Every message met the fate the tenancy declares."
        : "Some messages did not meet their declared fate (see ✗ above).",
    );
    info("Explore further:");
    info(
      `  bash scripts/run.sh node cli/mailplane.ts serve --data-dir .data/demo --listen 127.0.0.1:${ports.api} --smtp-listen 127.0.0.1:${ports.smtp} --trust-all-domains`,
    );
    info(`  bash scripts/run.sh pulumi stack output --stack ${stack}           # DNS records to publish`);
    info(
      `  bash scripts/run.sh pulumi preview --diff --stack ${stack}         # after editing tenancy/demo.yaml`,
    );
    info("  examples/ (typescript, yaml-manifest, gitops) · docs/ · bench/RESULTS.md");
    if (ok !== rows.length || !releasedByLink) process.exitCode = 1;
    await api.close();
  } finally {
    platform.kill("SIGTERM");
    await new Promise((r) => platform.once("exit", r));
    await new Promise<void>((r) => lab.close(() => r()));
  }
}

await main();
