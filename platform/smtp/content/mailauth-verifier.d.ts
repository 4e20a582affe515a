/** Type declarations for mailauth's DKIM verifier class (no bundled types): the parts the inbound authenticator drives itself. */
declare module "mailauth/lib/dkim/dkim-verifier.js" {
  import { Writable } from "node:stream";
  import type { DKIMVerifyResult } from "mailauth";
  export class DkimVerifier extends Writable {
    constructor(options?: { resolver?: unknown; minBitLength?: number });
    headerFrom: DKIMVerifyResult["headerFrom"];
    fromFields: number;
    envelopeFrom: string | false;
    results: DKIMVerifyResult["results"];
    /** ARC data of the message (`chain` false when there is none). */
    arc: unknown;
    /** Parses `block` (the whole header block, its empty line included) and reads the signatures. */
    emitHeaders(block?: Buffer): Promise<void>;
    /** Verifies what the headers announced and records the results. */
    finalChunk(): Promise<void>;
  }
}
