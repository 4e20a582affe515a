/**
 * The SMTP benchmark's shared fixture: the tenancy the engine enforces, the three contenders (mailplane
 * as its own process on a SQLite store, Postfix's smtp-sink, Haraka) and the load generator
 * (Postfix's smtp-source, C, a separate process), plus CPU accounting from /proc.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { openSqliteStore, type Store } from "../../platform/store/index.ts";
import {
  AliasSpec,
  DomainSpec,
  FilterSettingsSpec,
  PasswordPolicySpec,
  SenderListSpec,
  UserSpec,
} from "../../sdk/src/models/index.ts";
import { freePort, waitForPort } from "../../test/support/ports.ts";

export const ROOT = join(import.meta.dirname, "..", "..");
/** The domain every benchmark message goes to, and its mailbox. */
export const DOMAIN = "bench.example";
export const RECIPIENT = `sink@${DOMAIN}`;
/** Haraka's version, installed outside the repository (it is a contender, not a dependency). */
export const HARAKA_VERSION = "3.3.4";
const sys = { actor: "system" };

/** The fields of /proc/<pid>/stat after the command name, or undefined once the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, including reaped children) used so far by a process and every process
 * below it, in ms (/proc/<pid>/stat; Haraka's launcher, for one, runs the server in a child).
 */
export function cpuMs(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = Number(statFields(Number(entry))?.[1]);
    if (!Number.isFinite(parent)) continue;
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  let ticks = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const f = statFields(p);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    stack.push(...(children.get(p) ?? []));
  }
  return (ticks * 1000) / 100;
}

/** A running contender. */
export interface Contender {
  name: string;
  port: number;
  pid: number;
  /** Messages it stored so far, where it can tell (mailplane: Maildir files). */
  delivered?: () => number;
  stop(): Promise<void>;
}

/**
 * Writes the benchmark tenancy into a SQLite store: the domain with a user, 1,000 aliases, allow and
 * block lists with 1,000 entries each, filter settings and a password policy — so every RCPT and
 * DATA runs the full policy against non-trivial maps.
 */
export async function seedTenancy(store: Store): Promise<void> {
  await store.putAccount({ id: "bench", spec: { name: "Bench" } }, sys);
  const put = (kind: string, id: string, spec: object) =>
    store.putObject(
      { accountId: "bench", kind, id, domain: DOMAIN, spec: spec as Record<string, unknown> },
      sys,
    );
  await put("Domain", DOMAIN, DomainSpec.parse({ name: DOMAIN, aliases: ["bench-alias.example"] }));
  await put("User", RECIPIENT, UserSpec.parse({ address: RECIPIENT }));
  for (let i = 0; i < 1000; i++) {
    const address = `alias${i}@${DOMAIN}`;
    await put("Alias", address, AliasSpec.parse({ address, action: { type: "forward", to: [RECIPIENT] } }));
  }
  const entries = (prefix: string) =>
    Array.from({ length: 1000 }, (_, i) => `${prefix}${i}@blocked${i % 50}.example`);
  await put(
    "SenderList",
    `${DOMAIN}/sender-lists/block-sender`,
    SenderListSpec.parse({ domain: DOMAIN, kind: "block", target: "sender", entries: entries("spammer") }),
  );
  await put(
    "SenderList",
    `${DOMAIN}/sender-lists/allow-sender`,
    SenderListSpec.parse({ domain: DOMAIN, kind: "allow", target: "sender", entries: entries("friend") }),
  );
  await put(
    "FilterSettings",
    `${DOMAIN}/filter-settings`,
    FilterSettingsSpec.parse({ scope: DOMAIN, sizeLimitMb: 10 }),
  );
  await put("PasswordPolicy", `${DOMAIN}/password-policy`, PasswordPolicySpec.parse({ scope: DOMAIN }));
}

/**
 * Starts `mailplane smtp` as its own process on a fresh SQLite store with {@link seedTenancy}:
 * full policy (lists, aliases, filter, SPF evaluated against a resolver without answers, content
 * scan), the fsynced journal, and delivery to the Maildir (held while a burst comes in, see
 * docs/smtp.md). `delivered()` counts the Maildir's files.
 */
export async function startMailplane(
  opts: {
    greetingDelayMs?: number;
    nodeFlags?: string[];
    /** Score every message with the rspamd normal worker at this URL (`--rspamd-url`, `unix:<path>` for its socket); default the built-in rules. */
    rspamdUrl?: string;
  } = {},
): Promise<Contender & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), "mp-bench-smtp-"));
  const store = await openSqliteStore({ path: join(dataDir, "mailplane.db") });
  await seedTenancy(store);
  await store.close();
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      // e.g. --cpu-prof --cpu-prof-dir=…: profile the engine under the benchmark's load.
      ...(opts.nodeFlags ?? []),
      join(ROOT, "cli", "mailplane.ts"),
      "smtp",
      "--data-dir",
      dataDir,
      "--smtp-listen",
      `127.0.0.1:${port}`,
      "--submission-listen",
      "off",
      "--smtp-hostname",
      "mx.bench.test",
      "--greeting-delay",
      String(opts.greetingDelayMs ?? 0),
      // SPF is evaluated for every message against a resolver without answers (the machine is offline).
      "--no-dns",
      // The bench's one domain is local without a DNS ownership check (the machine is offline).
      "--trust-all-domains",
      // The bench's rspamd runs the platform's generated config, so it knows the engine's settings ID.
      ...(opts.rspamdUrl
        ? ["--rspamd-url", opts.rspamdUrl, "--rspamd-settings-id", "mailplane-verified"]
        : []),
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        MAILPLANE_DATABASE_URL: "",
        // The throughput rows measure the engine with its built-in rules, not an rspamd it would start;
        // the full-filter row gives it the bench's rspamd (--rspamd off would ignore --rspamd-url).
        MAILPLANE_RSPAMD: opts.rspamdUrl ? "auto" : "off",
        MAILPLANE_RSPAMD_URL: "",
        UV_THREADPOOL_SIZE: "16",
      },
    },
  );
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.includes("SMTP engine listening")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`mailplane smtp exited with ${code}`)));
  });
  // The Maildir sits in a folder per lifetime of the domain (`<domain>@<generation>`, see maildirOf).
  const mailRoot = join(dataDir, "smtp", "mail");
  const delivered = () =>
    (existsSync(mailRoot) ? readdirSync(mailRoot) : [])
      .filter((name) => name === DOMAIN || name.startsWith(`${DOMAIN}@`))
      .map((name) => join(mailRoot, name, "sink", "new"))
      .reduce((sum, dir) => sum + (existsSync(dir) ? readdirSync(dir).length : 0), 0);
  return {
    name: "mailplane",
    port,
    pid: child.pid!,
    dataDir,
    delivered,
    stop: () => stopChild(child, () => rmSync(dataDir, { recursive: true, force: true })),
  };
}

async function stopChild(child: ChildProcess, after: () => void): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
  after();
}

/** Postfix's smtp-sink: accepts and discards, in C — the ceiling of what a server can answer. */
export async function startSmtpSink(): Promise<Contender> {
  const port = await freePort();
  const child = spawn("smtp-sink", ["-u", "nobody", "-c", `127.0.0.1:${port}`, "1000"], { stdio: "ignore" });
  await waitForPort(port, 600);
  return { name: "smtp-sink", port, pid: child.pid!, stop: () => stopChild(child, () => {}) };
}

/**
 * smtp-server with empty handlers (bench/smtp/bare-smtp-server.ts) in its own Node process: the
 * library mailplane's engine is built on, with nothing behind it — the ceiling for an engine on it.
 * Its fixed 100 ms greeting delay stays: only reused connections are meaningful for it.
 */
export async function startBareSmtpServer(): Promise<Contender> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(import.meta.dirname, "bare-smtp-server.ts"), String(port)], {
    stdio: "ignore",
  });
  await waitForPort(port, 600);
  return { name: "smtp-server (bare)", port, pid: child.pid!, stop: () => stopChild(child, () => {}) };
}

/** Installs Haraka into a cache folder outside the repository, once. */
export async function ensureHaraka(): Promise<string> {
  const dir = join(
    process.env.MAILPLANE_BENCH_CACHE ?? join(homedir(), ".cache", "mailplane-bench"),
    "haraka-pkg",
  );
  const bin = join(dir, "node_modules", ".bin", "haraka");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, "package.json")))
    writeFileSync(join(dir, "package.json"), '{"name":"haraka-bench","private":true}\n');
  process.stderr.write(`▸ installing Haraka@${HARAKA_VERSION} into ${dir} (one time)\n`);
  await new Promise<void>((resolve, reject) =>
    execFile(
      "npm",
      ["install", "--no-audit", "--no-fund", "--loglevel=error", `Haraka@${HARAKA_VERSION}`],
      { cwd: dir },
      (err) => (err ? reject(err) : resolve()),
    ),
  );
  return bin;
}

/**
 * Haraka, one process (no cluster, like mailplane). By default configured as favourably as it gets:
 * recipients checked against a host list, reverse DNS answered locally, and the queue hook
 * discarding the message (no disk, no policy). With `rspamdUrl` (the "full filter" row) its rspamd
 * plugin scores every message there (tagging, never refusing: mailplane's FilterSettings tag below
 * their quarantine threshold too) and bench/smtp/haraka-maildir-queue.cjs writes each message to a
 * Maildir with fdatasync, rename and a directory fsync before the 250; `delivered()` counts its
 * files. With `rspamdSocket` as well, the plugin reaches rspamd's normal worker through that Unix
 * socket (its `unix_socket` setting) instead of TCP. Logging at error level.
 */
export async function startHaraka(
  opts: { rspamdUrl?: string; rspamdSocket?: string } = {},
): Promise<Contender> {
  const bin = await ensureHaraka();
  const dir = join(mkdtempSync(join(tmpdir(), "mp-bench-haraka-")), "instance");
  const port = await freePort();
  // `haraka -i` scaffolds an instance with Haraka's default configuration; the files below override it.
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, [bin, "-i", dir], (err) => (err ? reject(err) : resolve())),
  );
  writeFileSync(join(dir, "config", "smtp.ini"), `listen=127.0.0.1:${port}\n`);
  writeFileSync(join(dir, "config", "log.ini"), "[main]\nlevel=error\ntimestamps=false\nformat=default\n");
  const maildir = join(dir, "..", "Maildir");
  if (opts.rspamdUrl) {
    const rspamd = new URL(opts.rspamdUrl);
    writeFileSync(
      join(dir, "config", "plugins"),
      "rdns_local\nrcpt_to.in_host_list\nrspamd\nmaildir_queue\n",
    );
    // The plugin skips local and private clients unless told (the load comes from 127.0.0.1); it
    // tags rather than refuses, like mailplane below its quarantine threshold.
    writeFileSync(
      join(dir, "config", "rspamd.ini"),
      [
        `host = ${rspamd.hostname}`,
        `port = ${rspamd.port}`,
        ...(opts.rspamdSocket ? [`unix_socket = ${opts.rspamdSocket}`] : []),
        "add_headers = always",
        "[check]",
        "private_ip = true",
        "local_ip = true",
        "[reject]",
        "spam = false",
        "[soft_reject]",
        "enabled = false",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "plugins", "maildir_queue.js"),
      readFileSync(join(import.meta.dirname, "haraka-maildir-queue.cjs")),
    );
  } else {
    writeFileSync(join(dir, "config", "plugins"), "rdns_local\nrcpt_to.in_host_list\nqueue/discard\n");
  }
  writeFileSync(join(dir, "config", "host_list"), `${DOMAIN}\n`);
  writeFileSync(join(dir, "config", "me"), "haraka.bench.test\n");
  writeFileSync(
    join(dir, "plugins", "rdns_local.js"),
    "// The bench machine has no DNS (mailplane skips reverse lookups too).\nexports.hook_lookup_rdns = (next) => next(OK, 'localhost');\n",
  );
  const child = spawn(process.execPath, [bin, "-c", dir], {
    stdio: "ignore",
    env: {
      ...process.env,
      YES_REALLY_DO_DISCARD: "1",
      MAILPLANE_BENCH_MAILDIR: maildir,
      UV_THREADPOOL_SIZE: "16",
    },
  });
  await waitForPort(port, 600);
  const newDir = join(maildir, "new");
  return {
    name: "Haraka",
    port,
    pid: child.pid!,
    ...(opts.rspamdUrl ? { delivered: () => (existsSync(newDir) ? readdirSync(newDir).length : 0) } : {}),
    stop: () => stopChild(child, () => rmSync(join(dir, ".."), { recursive: true, force: true })),
  };
}

/** One load run's result. */
export interface LoadResult {
  messages: number;
  seconds: number;
  perSecond: number;
  /** Server CPU per accepted message, µs. */
  cpuUsPerMessage: number;
}

/**
 * Drives `count` messages of `size` bytes over `sessions` parallel sessions with smtp-source: on
 * reused connections (`-d`: every message of a session over one connection) or a new connection per
 * message. Fails when smtp-source reports an error (a refused message is not a measurement).
 */
export async function smtpSource(
  target: Contender,
  opts: {
    sessions: number;
    count: number;
    size: number;
    reuse: boolean;
    /** Send this file (headers and body) as every message (`-F`) instead of a generated one of `size`. */
    file?: string;
  },
): Promise<LoadResult> {
  const args = [
    "-s",
    String(opts.sessions),
    "-m",
    String(opts.count),
    "-f",
    "load@outside.example",
    "-t",
    RECIPIENT,
    "-M",
    "bench.example",
  ];
  if (opts.reuse) args.push("-d");
  // A file replaces the generated message (and its length).
  if (opts.file) args.push("-F", opts.file);
  else args.push("-l", String(opts.size));
  args.push(`127.0.0.1:${target.port}`);
  const cpuBefore = cpuMs(target.pid);
  const started = performance.now();
  const stderr = await new Promise<string>((resolve, reject) => {
    execFile("smtp-source", args, { maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, errOut) => {
      if (err) return reject(new Error(`smtp-source against ${target.name}: ${errOut || err.message}`));
      resolve(errOut);
    });
  });
  const seconds = (performance.now() - started) / 1000;
  if (stderr.trim()) throw new Error(`smtp-source against ${target.name}: ${stderr.trim().split("\n")[0]}`);
  const cpu = cpuMs(target.pid) - cpuBefore;
  return {
    messages: opts.count,
    seconds,
    perSecond: opts.count / seconds,
    cpuUsPerMessage: (cpu * 1000) / opts.count,
  };
}

/** Median of numbers. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile (0–100) by nearest rank. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
