/** Virus scanning by ClamAV: a message is streamed to clamd with INSTREAM and its answer read (`stream: OK` / `stream: <name> FOUND`). */
import { connect, type Socket } from "node:net";

/** Where clamd listens: a Unix socket path, or a TCP host and port. */
export type ClamdAddress = { path: string } | { host: string; port: number };

/**
 * Reads `--clamd`: an absolute socket path (`/run/clamav/clamd.ctl`) or `host:port`
 * (`127.0.0.1:3310`, `[::1]:3310`).
 * @throws Error naming the value when it is neither
 * @example clamdAddress("127.0.0.1:3310") // { host: "127.0.0.1", port: 3310 }
 */
export function clamdAddress(value: string): ClamdAddress {
  if (value.startsWith("/")) return { path: value };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65_535) {
    throw new Error(`--clamd must be a socket path (/…) or host:port, got ${JSON.stringify(value)}`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

/** The verdict on one message: the signature name when infected, else null. */
export interface VirusVerdict {
  virus: string | null;
}

/** Options of {@link ClamdScanner}. */
export interface ClamdScannerOptions {
  /** Where clamd listens (see {@link clamdAddress}). */
  address: ClamdAddress;
  /** Give up on one scan after this long; default 30,000 ms. */
  timeoutMs?: number;
  /** Bytes per INSTREAM chunk; default 65,536 (below clamd's StreamMaxLength granularity). */
  chunkSize?: number;
}

/**
 * Asks clamd whether a message carries a virus. Unlike the spam scorer, {@link scan} throws when
 * clamd cannot be reached or answers an error: the caller answers 451 4.7.1 so the client retries
 * later (fail closed: no unscanned message is accepted while the scanner is down, and nothing
 * accepted is ever dropped).
 *
 * @example
 * const clamd = new ClamdScanner({ address: clamdAddress("/run/clamav/clamd.ctl") });
 * (await clamd.scan([Buffer.from(raw)])).virus // "Eicar-Signature" or null
 */
export class ClamdScanner {
  readonly address: ClamdAddress;
  readonly #timeoutMs: number;
  readonly #chunkSize: number;

  constructor(opts: ClamdScannerOptions) {
    this.address = opts.address;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#chunkSize = opts.chunkSize ?? 65_536;
  }

  /** How the address reads in logs and start-up output. */
  get description(): string {
    const a = this.address;
    return "path" in a ? a.path : `${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;
  }

  /**
   * Streams the message (its bytes in order) and returns clamd's verdict.
   * @throws Error when clamd is unreachable, times out, or answers anything but OK / FOUND
   */
  scan(message: Buffer[]): Promise<VirusVerdict> {
    return new Promise((resolve, reject) => {
      const socket: Socket = connect(this.address);
      const replies: Buffer[] = [];
      let settled = false;
      const finish = (err: Error | null, verdict?: VirusVerdict) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        if (err) reject(err);
        else resolve(verdict!);
      };
      socket.setTimeout(this.#timeoutMs, () =>
        finish(new Error(`clamd did not answer in ${this.#timeoutMs} ms`)),
      );
      socket.once("error", (err) => finish(new Error(`clamd at ${this.description}: ${err.message}`)));
      socket.on("data", (chunk: Buffer) => replies.push(chunk));
      socket.once("end", () => {
        const reply = Buffer.concat(replies).toString("utf8").replace(/\0/g, "").trim();
        const verdict = verdictOf(reply);
        if (verdict) finish(null, verdict);
        else
          finish(new Error(`clamd at ${this.description} answered ${JSON.stringify(reply.slice(0, 200))}`));
      });
      socket.once("connect", () => {
        // clamd's INSTREAM: the z-prefixed command ends with NUL; each chunk is preceded by its
        // length as 4 bytes in network order, and a zero length ends the stream.
        socket.write("zINSTREAM\0");
        for (const buffer of message) {
          for (let at = 0; at < buffer.length; at += this.#chunkSize) {
            const chunk = buffer.subarray(at, at + this.#chunkSize);
            const length = Buffer.alloc(4);
            length.writeUInt32BE(chunk.length);
            socket.write(length);
            socket.write(chunk);
          }
        }
        socket.write(Buffer.alloc(4));
      });
    });
  }
}

/**
 * Reads clamd's answer to INSTREAM: `stream: OK` → clean, `stream: <name> FOUND` → infected, anything
 * else (`INSTREAM size limit exceeded. ERROR`, an empty reply) → null.
 * @example verdictOf("stream: Eicar-Signature FOUND") // { virus: "Eicar-Signature" }
 */
export function verdictOf(reply: string): VirusVerdict | null {
  if (reply === "stream: OK") return { virus: null };
  const found = /^stream: (.+) FOUND$/.exec(reply);
  return found ? { virus: found[1]! } : null;
}
