/** Outgoing SMTP sessions: opened to a checked address, TLS verified (CA chain and name, or a pin) where asked, kept for reuse per destination. */
import { createHash } from "node:crypto";
import type { TLSSocket } from "node:tls";
import SMTPConnection from "nodemailer/lib/smtp-connection";

/** How one session must be secured. */
export interface SessionTls {
  mode: "none" | "opportunistic" | "required";
  /** With `required`: SHA-256 pins of the server's key (`sha256/<base64 SPKI>`) or certificate (`AB:CD:…`). */
  pins?: string[] | undefined;
  /** With `required` and no pins: PEM CA certificates the chain must lead to, instead of the system's. */
  ca?: string | undefined;
}

/** Where one session goes: the checked address to connect to and the name to verify the certificate against. */
export interface SessionTarget {
  /** The address the egress policy checked: the connection goes here and nowhere else. */
  address: string;
  port: number;
  /** The host name for SNI and certificate verification; undefined when the host was an IP literal. */
  servername: string | undefined;
  tls: SessionTls;
}

/** Options of {@link SessionPool}; times in milliseconds. */
export interface SessionPoolOptions {
  /** Our EHLO name. */
  name: string;
  /** Sessions open at once per destination (address, port and TLS demands). Default 4. */
  perDestination?: number;
  /** An idle session is closed after this long. Default 15,000. */
  idleMs?: number;
  /** Connect and greeting timeout. Default 30,000. */
  connectTimeoutMs?: number;
  /** Idle socket timeout during a transaction. Default 120,000. */
  socketTimeoutMs?: number;
}

/** A failed TLS demand: the session was closed before anything about the message was sent. */
export class TlsDemandError extends Error {
  readonly code = "ETLSDEMAND";
}

/**
 * Why the server's certificate does not meet `tls`, or undefined when it does. With pins the key
 * or certificate must match one of them (the pin replaces CA and name checks, as a DANE-EE record
 * would, RFC 7672 §3.1.1); without pins the chain must lead to a trusted CA (`ca`, else the
 * system's) and name the host (RFC 6125; node checks both and reports `authorizationError`).
 */
export function certificateProblem(socket: TLSSocket, tls: SessionTls): string | undefined {
  const cert = socket.getPeerCertificate(false);
  if (!cert?.raw) return "the server presented no certificate";
  if (tls.pins && tls.pins.length > 0) {
    const spki = `sha256/${createHash("sha256").update(cert.pubkey!).digest("base64")}`;
    if (tls.pins.includes(spki) || tls.pins.includes(cert.fingerprint256)) return undefined;
    return `certificate matches none of the route's pins (key ${spki}, certificate ${cert.fingerprint256})`;
  }
  if (!socket.authorized) return `certificate not verified: ${String(socket.authorizationError)}`;
  return undefined;
}

interface Idle {
  conn: SMTPConnection;
  timer: NodeJS.Timeout;
}

interface Slot {
  key: string;
  active: number;
  idle: Idle[];
  waiting: (() => void)[];
}

/**
 * Sessions per destination: at most `perDestination` open at once (others wait), an idle one
 * reused for the next message to the same checked address with the same TLS demands. A session
 * whose TLS does not meet its demands is closed before MAIL FROM and reported as a
 * {@link TlsDemandError}.
 *
 * @example
 * const pool = new SessionPool({ name: "mx.example.test" });
 * const { conn } = await pool.acquire({ address: "192.0.2.10", port: 25, servername: "mx.example.net", tls: { mode: "required" } });
 */
export class SessionPool {
  readonly #opts: Required<SessionPoolOptions>;
  readonly #slots = new Map<string, Slot>();
  /** The slot an idle session waits in, so a server that ends it can take it out. */
  readonly #idleIn = new WeakMap<SMTPConnection, Slot>();
  #closed = false;

  constructor(opts: SessionPoolOptions) {
    this.#opts = {
      perDestination: 4,
      idleMs: 15_000,
      connectTimeoutMs: 30_000,
      socketTimeoutMs: 120_000,
      ...opts,
    };
  }

  static key(t: SessionTarget): string {
    return JSON.stringify([
      t.address,
      t.port,
      t.servername ?? "",
      t.tls.mode,
      t.tls.pins ?? [],
      t.tls.ca ?? "",
    ]);
  }

  #slot(key: string): Slot {
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { key, active: 0, idle: [], waiting: [] };
      this.#slots.set(key, slot);
    }
    return slot;
  }

  /** A session to `target`: an idle one (`reused`) or a new one, once a slot is free. */
  async acquire(target: SessionTarget): Promise<{ conn: SMTPConnection; reused: boolean }> {
    const key = SessionPool.key(target);
    const slot = this.#slot(key);
    for (;;) {
      if (this.#closed) throw new Error("relay closed");
      const idle = slot.idle.pop();
      if (idle) {
        clearTimeout(idle.timer);
        this.#idleIn.delete(idle.conn);
        slot.active++;
        return { conn: idle.conn, reused: true };
      }
      if (slot.active < this.#opts.perDestination) break;
      await new Promise<void>((resolve) => slot.waiting.push(resolve));
    }
    slot.active++;
    try {
      return { conn: await this.#open(target), reused: false };
    } catch (err) {
      this.#free(key, slot);
      throw err;
    }
  }

  /** Gives a session back: kept for reuse when `reusable` (a finished or reset transaction), else closed. */
  release(target: SessionTarget, conn: SMTPConnection, reusable: boolean): void {
    const key = SessionPool.key(target);
    const slot = this.#slot(key);
    const alive = conn._socket && !conn._socket.destroyed;
    if (reusable && alive && !this.#closed) {
      const entry: Idle = {
        conn,
        timer: setTimeout(() => {
          this.#forget(conn);
          conn.quit();
        }, this.#opts.idleMs).unref(),
      };
      slot.idle.push(entry);
      this.#idleIn.set(conn, slot);
    } else {
      conn.close();
    }
    this.#free(key, slot);
  }

  /** Takes an idle session out of its slot (closed by the server, or idle too long). */
  #forget(conn: SMTPConnection): void {
    const slot = this.#idleIn.get(conn);
    if (!slot) return;
    this.#idleIn.delete(conn);
    const at = slot.idle.findIndex((i) => i.conn === conn);
    if (at >= 0) clearTimeout(slot.idle.splice(at, 1)[0]!.timer);
    if (slot.active === 0 && slot.idle.length === 0 && slot.waiting.length === 0)
      this.#slots.delete(slot.key);
  }

  #free(key: string, slot: Slot): void {
    slot.active--;
    const next = slot.waiting.shift();
    if (next) next();
    else if (slot.active === 0 && slot.idle.length === 0) this.#slots.delete(key);
  }

  #open(target: SessionTarget): Promise<SMTPConnection> {
    const { mode } = target.tls;
    const conn = new SMTPConnection({
      host: target.address,
      port: target.port,
      ...(target.servername ? { servername: target.servername } : {}),
      name: this.#opts.name,
      secure: false,
      ignoreTLS: mode === "none",
      requireTLS: mode === "required",
      // Verification is ours (certificateProblem), after the handshake: a pin must be able to
      // accept a certificate no CA signed, and opportunistic TLS takes any certificate.
      tls: { rejectUnauthorized: false, ...(target.tls.ca ? { ca: target.tls.ca } : {}) },
      connectionTimeout: this.#opts.connectTimeoutMs,
      greetingTimeout: this.#opts.connectTimeoutMs,
      socketTimeout: this.#opts.socketTimeoutMs,
      logger: false,
      debug: false,
    });
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        conn.close();
        reject(err);
      };
      conn.on("error", fail);
      conn.once("end", () => fail(Object.assign(new Error("connection closed"), { code: "ECONNECTION" })));
      conn.connect((err) => {
        if (err) return fail(err);
        if (settled) return;
        if (mode === "required") {
          const problem = certificateProblem(conn._socket as TLSSocket, target.tls);
          if (problem) {
            settled = true;
            conn.quit();
            return reject(new TlsDemandError(problem));
          }
        }
        settled = true;
        // Later errors belong to the transaction in flight (send's callback reports them).
        conn.removeListener("error", fail);
        conn.on("error", () => {});
        conn.once("end", () => this.#forget(conn));
        resolve(conn);
      });
    });
  }

  /** Closes every idle session; sessions in use close when released. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots.values()) {
      for (const idle of slot.idle.splice(0)) {
        clearTimeout(idle.timer);
        idle.conn.close();
      }
      for (const wake of slot.waiting.splice(0)) wake();
    }
  }
}
