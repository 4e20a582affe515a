/** Connect phase: admit or refuse a new client before the greeting (per-IP connection cap). */
import { normaliseIp } from "../policy/matchers.ts";
import { accept, defer, type PhaseResult } from "./result.ts";

/**
 * Counts open connections per client IP. One client may not hold every slot: beyond the cap the
 * connection is refused with 421 (RFC 5321 §3.8: the server closes the channel after a 421).
 *
 * @example
 * const gate = new ConnectionGate(50);
 * const verdict = connect(gate, "192.0.2.1"); // accept; call gate.release("192.0.2.1") on close
 */
export class ConnectionGate {
  readonly perIp: number;
  readonly #open = new Map<string, number>();

  /** @param perIp most simultaneous connections from one IP; default 100. */
  constructor(perIp = 100) {
    this.perIp = perIp;
  }

  /** Takes a slot; false when the IP already holds `perIp`. */
  take(ip: string): boolean {
    const key = normaliseIp(ip);
    const n = this.#open.get(key) ?? 0;
    if (n >= this.perIp) return false;
    this.#open.set(key, n + 1);
    return true;
  }

  release(ip: string): void {
    const key = normaliseIp(ip);
    const n = (this.#open.get(key) ?? 1) - 1;
    if (n <= 0) this.#open.delete(key);
    else this.#open.set(key, n);
  }
}

/** Admits the client or answers 421 4.7.0 (RFC 3463 X.7.0: other security status). */
export function connect(gate: ConnectionGate, remoteAddress: string): PhaseResult<undefined> {
  if (!gate.take(remoteAddress)) {
    return defer(421, "4.7.0", "Too many connections from your address, try again later");
  }
  return accept(undefined);
}
