/**
 * Scenario "propagation": the time from an API write's acknowledgement (PUT of an alias answered)
 * to the SMTP engine enforcing it (RCPT TO for the new alias answered 250), with the engine as its
 * own process sharing the store: the SQLite file, and PostgreSQL (LISTEN/NOTIFY).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { request } from "undici";
import { startControlPlane } from "../../../platform/api/server.ts";
import { freePort } from "../../../test/support/ports.ts";
import { DOMAIN, median, percentile, RECIPIENT, ROOT } from "../fixture.ts";

export interface PropagationRow {
  store: "sqlite" | "postgres";
  writes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** A tiny SMTP line client for probing RCPT TO in a tight loop. */
class Probe {
  readonly #socket = new Socket();
  #buffer = "";
  #waiters: ((line: string) => void)[] = [];

  async open(port: number): Promise<void> {
    this.#socket.setNoDelay(true);
    this.#socket.on("data", (d) => {
      this.#buffer += d.toString("latin1");
      let nl = this.#buffer.indexOf("\n");
      while (nl >= 0) {
        const line = this.#buffer.slice(0, nl).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(nl + 1);
        // Only final lines of multi-line replies complete a command.
        if (!/^\d{3}-/.test(line)) this.#waiters.shift()?.(line);
        nl = this.#buffer.indexOf("\n");
      }
    });
    const greeting = this.#next();
    this.#socket.connect(port, "127.0.0.1");
    await greeting;
    await this.command("EHLO probe.bench.test");
    await this.command("MAIL FROM:<probe@outside.example>");
  }

  #next(): Promise<string> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  command(line: string): Promise<string> {
    const reply = this.#next();
    this.#socket.write(`${line}\r\n`);
    return reply;
  }

  close(): void {
    this.#socket.end("QUIT\r\n");
  }
}

async function measure(
  store: "sqlite" | "postgres",
  writes: number,
  databaseUrl: string | undefined,
  log: (l: string) => void,
): Promise<PropagationRow> {
  const dataDir = mkdtempSync(join(tmpdir(), "mp-bench-prop-"));
  const cp = await startControlPlane({ dataDir, listen: "127.0.0.1:0", databaseUrl, rateLimit: false });
  const admin = readFileSync(cp.adminTokenPath!, "utf8").trim();
  const call = async (method: string, path: string, body?: object) => {
    const res = await request(`${cp.url}${path}`, {
      method: method as "PUT",
      headers: {
        authorization: `Bearer ${admin}`,
        "mailplane-account": "bench",
        "content-type": "application/json",
      },
      body: JSON.stringify(body ?? {}),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  };
  await call("PUT", "/v1/accounts/bench", { id: "bench", name: "Bench" });
  await call("PUT", `/v1/domains/${DOMAIN}`, { name: DOMAIN });
  await call("PUT", `/v1/domains/${DOMAIN}/users/${RECIPIENT}`, {
    address: RECIPIENT,
    password: "Bench-Password-1",
  });
  const port = await freePort();
  const engine = spawn(
    process.execPath,
    [
      join(ROOT, "cli", "mailplane.ts"),
      "smtp",
      "--data-dir",
      dataDir,
      "--smtp-listen",
      `127.0.0.1:${port}`,
      "--submission-listen",
      "off",
      "--no-dns",
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, MAILPLANE_DATABASE_URL: databaseUrl ?? "" },
    },
  );
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: engine.stdout! }).on(
      "line",
      (l) => l.includes("SMTP engine listening") && resolve(),
    );
    engine.once("exit", (code) => reject(new Error(`engine exited with ${code}`)));
  });
  const probe = new Probe();
  await probe.open(port);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < writes; i++) {
      const address = `new${i}@${DOMAIN}`;
      await call("PUT", `/v1/domains/${DOMAIN}/aliases/${address}`, {
        address,
        action: { type: "forward", to: [RECIPIENT] },
      });
      const acked = performance.now();
      for (;;) {
        const reply = await probe.command(`RCPT TO:<${address}>`);
        if (reply.startsWith("250")) break;
        if (performance.now() - acked > 30_000)
          throw new Error(`${address} not enforced after 30 s: ${reply}`);
      }
      latencies.push(performance.now() - acked);
    }
  } finally {
    probe.close();
    engine.kill("SIGTERM");
    await once(engine, "exit");
    await cp.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const row = {
    store,
    writes,
    p50Ms: median(latencies),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(...latencies),
  };
  log(
    `propagation on ${store}: p50 ${row.p50Ms.toFixed(1)} ms, p99 ${row.p99Ms.toFixed(1)} ms, max ${row.maxMs.toFixed(1)} ms over ${writes} writes`,
  );
  return row;
}

export async function run(opts: { writes: number; log: (line: string) => void }): Promise<PropagationRow[]> {
  const rows = [await measure("sqlite", opts.writes, undefined, opts.log)];
  const given = process.env.MAILPLANE_BENCH_POSTGRES_URL;
  const { startPostgres } = await import("../../../test/support/postgres.ts");
  const pg = given ? null : await startPostgres();
  try {
    rows.push(await measure("postgres", opts.writes, given ?? pg!.url, opts.log));
  } finally {
    pg?.stop();
  }
  return rows;
}
