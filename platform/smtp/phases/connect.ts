/** Connect phase: admit or refuse a new client before the greeting (a cap on all connections and one per client IP). */
import { normaliseIp } from "../policy/matchers.ts";
import { accept, defer, type PhaseResult } from "./result.ts";

/**
 * Counts open connections, in all and per client IP, over every listener of the engine. One
 * client may not hold every slot, and all clients together may not exhaust the process's sockets
 * and memory: beyond either cap the connection is refused with 421 (RFC 5321 §3.8: the server
 * closes the channel after a 421).
 *
 * @example
 * const gate = new ConnectionGate(50, 1_000);
 * const verdict = connect(gate, "192.0.2.1"); // accept; call gate.release("192.0.2.1") on close
 */
export class ConnectionGate {
  readonly perIp: number;
  readonly total: number;
  readonly #open = new Map<string, number>();
  #count = 0;

  /**
   * @param perIp most simultaneous connections from one IP; default 100.
   * @param total most simultaneous connections in all; default 1,000.
   */
  constructor(perIp = 100, total = 1_000) {
    this.perIp = perIp;
    this.total = total;
  }

  /** Open connections in all. */
  get open(): number {
    return this.#count;
  }

  /** Takes a slot: "ok", or which cap is full. */
  take(ip: string): "ok" | "total" | "per-ip" {
    if (this.#count >= this.total) return "total";
    const key = normaliseIp(ip);
    const n = this.#open.get(key) ?? 0;
    if (n >= this.perIp) return "per-ip";
    this.#open.set(key, n + 1);
    this.#count++;
    return "ok";
  }

  release(ip: string): void {
    const key = normaliseIp(ip);
    const n = this.#open.get(key);
    if (n === undefined) return;
    this.#count--;
    if (n <= 1) this.#open.delete(key);
    else this.#open.set(key, n - 1);
  }
}

/** Admits the client or answers 421 4.7.0 (RFC 3463 X.7.0: other security status). */
export function connect(gate: ConnectionGate, remoteAddress: string): PhaseResult<undefined> {
  const taken = gate.take(remoteAddress);
  if (taken === "per-ip") {
    return defer(421, "4.7.0", "Too many connections from your address, try again later");
  }
  if (taken === "total") return defer(421, "4.7.0", "Too many connections, try again later");
  return accept(undefined);
}
