/** Test harness for the SMTP engine: a real engine on 127.0.0.1:0, swaks, Python smtplib, smtp-sink, Maildir readers. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NO_DNS } from "../../../../platform/smtp/content/spf.ts";
import { EgressPolicy } from "../../../../platform/smtp/delivery/egress.ts";
import { startSmtpEngine, staticPolicy } from "../../../../platform/smtp/engine.ts";
import type { SmtpEngine, SmtpEngineOptions } from "../../../../platform/smtp/engine-contract.ts";
import type { CredentialSource } from "../../../../platform/smtp/phases/auth.ts";
import { buildPolicySnapshot, type TenancyInput } from "../../../../platform/smtp/policy/snapshot.ts";
import { type TlsMaterial, tlsMaterial } from "../../../../platform/smtp/tls.ts";
import { freePort, waitForPort } from "../../../support/ports.ts";

export { freePort, waitForPort };

/** The engine's name in tests. */
export const HOSTNAME = "mx.mailplane.test";

let sharedTls: Promise<TlsMaterial> | undefined;
/** One self-signed certificate per test process (RSA key generation is the slow part of a start). */
export function testTls(): Promise<TlsMaterial> {
  sharedTls ??= tempTlsMaterial("mp-tls-", HOSTNAME);
  return sharedTls;
}

/**
 * A self-signed certificate for `hostname`, generated in a temporary folder that is removed at once:
 * the material is kept in memory.
 * @example const other = await tempTlsMaterial("mp-other-ca-", "other.test");
 */
export async function tempTlsMaterial(prefix: string, hostname: string): Promise<TlsMaterial> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await tlsMaterial(dir, hostname);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Passwords kept in clear for tests; the store-backed source (argon2id) is tested with the store. */
export function memoryCredentials(
  users: Record<string, { password: string; setAt?: string }>,
): CredentialSource {
  return {
    lookup: async (address) => {
      const u = users[address];
      return u ? { hash: u.password, setAt: u.setAt ?? new Date().toISOString() } : undefined;
    },
    verify: async (hash, password) => hash === password,
    // Random, so no password matches it.
    dummyHash: async () => `dummy-${Math.random().toString(36).slice(2)}-${Date.now()}`,
  };
}

type Listener = (...args: any[]) => void;

/** Remembers every engine event so a test can await one that may already have happened. */
export class EventLog {
  readonly #seen = new Map<string, unknown[][]>();
  readonly #waiters: { event: string; match: (...args: any[]) => boolean; resolve: Listener }[] = [];

  constructor(engine: SmtpEngine) {
    for (const event of ["delivered", "deferred", "failed", "quarantined", "settled", "injected"]) {
      engine.events.on(event, (...args: unknown[]) => {
        const list = this.#seen.get(event) ?? [];
        list.push(args);
        this.#seen.set(event, list);
        for (const w of [...this.#waiters]) {
          if (w.event === event && w.match(...args)) {
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            w.resolve(args);
          }
        }
      });
    }
  }

  /** The first event `event` whose arguments satisfy `match`, past or future. */
  next(event: string, match: (...args: any[]) => boolean = () => true): Promise<any[]> {
    const past = (this.#seen.get(event) ?? []).find((args) => match(...args));
    if (past) return Promise.resolve(past);
    return new Promise((resolve) => this.#waiters.push({ event, match, resolve }));
  }

  all(event: string): any[][] {
    return this.#seen.get(event) ?? [];
  }

  /** Resolves when queued message `id` left the queue (delivered, quarantined or bounced). */
  settled(id: string): Promise<any[]> {
    return this.next("settled", (meta) => meta.id === id);
  }
}

/** A running engine for one test configuration. */
export interface TestEngine {
  engine: SmtpEngine;
  events: EventLog;
  policy: ReturnType<typeof staticPolicy>;
  /** Messages in a user's Maildir new/ folder, as text. */
  mailbox(address: string): string[];
  close(): Promise<void>;
}

/**
 * The tenancy with every domain that does not say otherwise verified: these suites test the engine
 * on hosted domains; the ownership suite states `verified` where it matters.
 */
function trustedUnlessSaid(tenancy: TenancyInput): TenancyInput {
  return {
    ...tenancy,
    accounts: tenancy.accounts.map((a) => ({
      ...a,
      domains: a.domains.map((d) => ({ ...d, verified: d.verified ?? true })),
    })),
  };
}

/**
 * Starts an engine with `tenancy` on 127.0.0.1:0 (both listeners), no DNS, a fast retry back-off
 * (200 ms doubling to 1 s) and a private data directory removed on close.
 */
export async function startTestEngine(
  tenancy: TenancyInput,
  opts: Partial<SmtpEngineOptions> = {},
): Promise<TestEngine> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "mp-engine-"));
  const policy = staticPolicy(buildPolicySnapshot(trustedUnlessSaid(tenancy)));
  const engine = await startSmtpEngine({
    dataDir,
    policy,
    hostname: HOSTNAME,
    tls: await testTls(),
    resolver: NO_DNS,
    inbound: { host: "127.0.0.1", port: 0 },
    submission: { host: "127.0.0.1", port: 0 },
    retryBaseMs: 200,
    retryMaxMs: 1000,
    // The downstream servers of these tests listen on loopback, as `--allow-route-cidr 127.0.0.0/8` lets them.
    egress: new EgressPolicy({ allow: ["127.0.0.0/8"] }),
    ...opts,
  });
  const events = new EventLog(engine);
  return {
    engine,
    events,
    policy,
    mailbox(address) {
      const dir = join(engine.maildirOf(address), "new");
      if (!existsSync(dir)) return [];
      return readdirSync(dir)
        .sort()
        .map((f) => readFileSync(join(dir, f), "utf8"));
    },
    async close() {
      await engine.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One server reply in a transcript, with the client command it answered. */
export interface Reply {
  command: string;
  code: number;
  enhanced: string | null;
  text: string;
}

/** A finished swaks run. */
export interface SwaksRun {
  exitCode: number;
  replies: Reply[];
  output: string;
  /** The reply to the first client command starting with `prefix` (e.g. "RCPT", "MAIL", "."). */
  replyTo(prefix: string): Reply | undefined;
  /** The queue ID from "250 2.0.0 Ok: queued as <id>". */
  queueId(): string | undefined;
}

function parseReply(command: string, line: string): Reply {
  const m = /^(\d{3})[ -](?:(\d\.\d{1,3}\.\d{1,3}) )?(.*)$/.exec(line.trim());
  return { command, code: m ? Number(m[1]) : 0, enhanced: m?.[2] ?? null, text: m?.[3] ?? line };
}

/**
 * Runs swaks against the engine (`--server 127.0.0.1:<port>` is added) and parses its transcript:
 * ` -> ` (` ~> ` over TLS) lines are the client's commands, `<-  `/`<** ` (`<~  `/`<~* `) the replies.
 */
export function swaks(port: number, args: string[]): Promise<SwaksRun> {
  return new Promise((resolve) => {
    execFile(
      "swaks",
      ["-4", "--server", `127.0.0.1:${port}`, "--timeout", "60", ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        const replies: Reply[] = [];
        let command = "CONNECT";
        for (const line of output.split("\n")) {
          if (/^ [-~]> /.test(line)) {
            const text = line.slice(4);
            // Message lines are not commands; only the terminating dot is.
            if (/^(EHLO|HELO|MAIL|RCPT|DATA|QUIT|STARTTLS|AUTH|RSET|NOOP)\b/i.test(text) || text === ".")
              command = text;
          } else if (/^<[-~*]{1,2} +\d{3}/.test(line)) {
            // "<-  " plain, "<~  " over TLS, "<** " / "<~* " for error replies.
            const text = line.replace(/^<[-~*]{1,2} +/, "");
            if (/^\d{3}-/.test(text)) continue;
            replies.push(parseReply(command, text));
          }
        }
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({
          exitCode: typeof code === "number" ? code : 1,
          replies,
          output,
          replyTo: (prefix) => replies.find((r) => r.command.toUpperCase().startsWith(prefix.toUpperCase())),
          queueId: () => /queued as (\S+)/.exec(output)?.[1],
        });
      },
    );
  });
}

/** Spec of one Python smtplib session; see support/smtp_client.py. */
export interface PythonSession {
  port: number;
  /** The server's address; default 127.0.0.1. */
  host?: string;
  source?: string;
  helo?: string;
  starttls?: boolean;
  logins?: { user: string; password: string; mechanism?: "PLAIN" | "LOGIN" }[];
  messages?: { from: string; to: string[]; data: string }[];
}

/** One reply as Python's smtplib saw it. */
export interface PythonStep {
  cmd: string;
  code: number;
  text: string;
}

/** Runs a Python smtplib session and returns every reply. */
export function pythonSmtp(session: PythonSession): Promise<PythonStep[]> {
  const script = join(import.meta.dirname, "smtp_client.py");
  return new Promise((resolve, reject) => {
    const child = execFile("python3", [script], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python3 failed: ${stderr || err.message}`));
      resolve(JSON.parse(stdout) as PythonStep[]);
    });
    child.stdin!.end(JSON.stringify({ host: "127.0.0.1", ...session }));
  });
}

/** The text of a Python step as "<code> <text>", e.g. "550 5.7.1 Relay access denied". */
export const stepLine = (s: PythonStep | undefined) => (s ? `${s.code} ${s.text}` : "(none)");

/** A running Postfix smtp-sink. */
export interface Sink {
  port: number;
  /** Each received transaction's dump (envelope and message), as text. */
  messages(): string[];
  stop(): Promise<void>;
}

/**
 * Starts Postfix's smtp-sink on `port` (a free one when omitted), dumping each transaction into a
 * fresh directory. `args` inject faults: `["-r", "RCPT"]` answers RCPT with 4xx, `["-f", "DATA"]` 5xx.
 */
export async function startSink(args: string[] = [], port?: number): Promise<Sink> {
  const p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "mp-sink-"));
  // smtp-sink drops root privileges to "nobody", who must be able to write the dumps.
  chmodSync(dir, 0o777);
  const child: ChildProcess = spawn(
    "smtp-sink",
    ["-u", "nobody", "-d", `${dir}/%H%M%S.`, ...args, `127.0.0.1:${p}`, "100"],
    {
      stdio: "ignore",
    },
  );
  await waitForPort(p);
  return {
    port: p,
    messages: () =>
      readdirSync(dir)
        .sort()
        .map((f) => readFileSync(join(dir, f), "utf8")),
    stop: () =>
      new Promise<void>((resolve) => {
        const removed = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return removed();
        child.once("exit", removed);
        child.kill("SIGTERM");
      }),
  };
}

/** An RFC 5322 message with CRLF line ends; `headers` come first, then Date/Message-ID unless given. */
export function rfc5322(fields: {
  from: string;
  to: string;
  subject: string;
  body: string;
  headers?: string[];
}): string {
  const lines = [
    `From: ${fields.from}`,
    `To: ${fields.to}`,
    `Subject: ${fields.subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@client.mailplane.test>`,
    ...(fields.headers ?? []),
    "",
    fields.body,
    "",
  ];
  return lines.join("\r\n");
}
