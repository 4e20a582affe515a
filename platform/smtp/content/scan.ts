/** Streaming message scan for DATA: headers, longest line, attachment names (mailsplit) and the GTUBE string. */
import libmime from "libmime";
import { Splitter } from "mailsplit";
import addressparser from "nodemailer/lib/addressparser";
import { authservIdOf } from "./auth.ts";

/** The GTUBE test string (SpamAssassin's Generic Test for Unsolicited Bulk Email). */
export const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
const GTUBE_BYTES = Buffer.from(GTUBE);
/** RFC 5322 §2.1.1: lines MUST be no more than 998 characters, excluding the CRLF. */
export const MAX_LINE_LENGTH = 998;
const LF = 0x0a;
const CR = 0x0d;
/** One empty buffer for every scanner's initial state (never written to). */
const EMPTY = Buffer.alloc(0);
/** Header block cap: beyond this the rest is body as far as the scan is concerned. */
const MAX_HEADER_BYTES = 256 * 1024;
/** Decoded text scanned per encoded part for GTUBE. */
const MAX_DECODED_SCAN = 1024 * 1024;

/** The message's top-level header fields the policy reads (names lower-cased, values unfolded). */
export interface ScannedHeaders {
  /** Subject: with RFC 2047 encoded words decoded. */
  subject: string | undefined;
  /**
   * The author's address, lower-cased: the one mailbox of the one From: field (RFC 5322 §3.6.2);
   * undefined when there are several, since no single author can be allow-listed then.
   */
  from: string | undefined;
  messageId: string | undefined;
  date: string | undefined;
  autoSubmitted: string | undefined;
  precedence: string | undefined;
  /** True when any List-* field (RFC 2369/2919) is present. */
  list: boolean;
  /** Number of Received: fields: the hop count of RFC 5321 §6.3 loop detection. */
  received: number;
  deliveredTo: string[];
  /** The authserv-ids of the Authentication-Results fields present (RFC 8601 §2.2), lower-cased. */
  authservIds: string[];
}

/** What DATA learned about the message. */
export interface ScanResult {
  size: number;
  headers: ScannedHeaders;
  /**
   * The longest line over {@link MAX_LINE_LENGTH} characters (without its CRLF), or 0 when every
   * line fits: lines that fit are stepped over, not measured.
   */
  overlongLine: number;
  /** File names of attachments and inline parts that carry one. */
  attachments: string[];
  gtube: boolean;
}

/**
 * Parses a header block into name → values (names lower-cased, values unfolded per RFC 5322
 * §2.2.3, not word-decoded: each field has its own rules). The bytes are read as UTF-8 (RFC 6532).
 *
 * @example parseHeaderBlock("Subject: hi\r\n").get("subject") // ["hi"]
 */
export function parseHeaderBlock(block: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const [name, values] of Object.entries(libmime.decodeHeaders(block))) {
    if (name) fields.set(name, values);
  }
  return fields;
}

/**
 * The author of a message: the single mailbox of its From: field(s), parsed as an address list
 * (RFC 5322 §3.4, groups included), so quoted or encoded display names never count as addresses:
 * `"x <boss@trusted>" <a@evil>` → `a@evil`. Undefined with no mailbox or more than one.
 *
 * @example headerAddress(['Bob <bob@example.net>']) // "bob@example.net"
 */
export function headerAddress(values: string[] | undefined): string | undefined {
  const only = values?.length === 1 ? values[0] : undefined;
  if (only === undefined) return undefined;
  const mailboxes = addressparser(only, { flatten: true }).filter((a) => a.address);
  return mailboxes.length === 1 ? mailboxes[0]!.address.toLowerCase() : undefined;
}

function decodeQuotedPrintable(text: string): Buffer {
  const joined = text.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined.charCodeAt(i);
    if (c === 0x3d && /^[0-9a-f]{2}$/i.test(joined.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes);
}

interface MimeNodeLike {
  type: "node" | "data" | "body";
  value?: Buffer;
  filename?: string | false;
  contentType?: string | false;
  encoding?: string | false;
}

/**
 * Feeds on DATA chunks as they arrive and keeps only small state: the header block, the current
 * line length and a GTUBE-sized tail. MIME structure is only parsed (with mailsplit) when the
 * message is multipart, encoded or names a file, so plain messages cost one pass over the bytes.
 *
 * @example
 * const scan = new MessageScanner();
 * stream.on("data", (c) => scan.write(c));
 * const result = await scan.end();
 */
export class MessageScanner {
  #size = 0;
  /** Bytes of the current line seen so far (it began in an earlier chunk). */
  #lineLength = 0;
  /** Whether the last byte seen was a CR (a CRLF may straddle chunks). */
  #lastWasCr = false;
  #overlong = 0;
  #headerBytes = 0;
  /** The last bytes of the header block so far: the empty line that ends it may straddle chunks. */
  #headerTail = EMPTY;
  #headersDone = false;
  #headers: Map<string, string[]> = new Map();
  #tail = EMPTY;
  #gtube = false;
  #splitter: Splitter | null = null;
  #splitterDone: Promise<void> | null = null;
  #attachments: string[] = [];
  #pending: Buffer[] = [];
  #decodeNode: { encoding: string; chunks: Buffer[]; bytes: number } | null = null;

  write(chunk: Buffer): void {
    this.#size += chunk.length;
    this.#measureLines(chunk);
    this.#searchGtube(chunk);
    if (!this.#headersDone) {
      // Search the new chunk (and the seam with the previous one) rather than the whole block again:
      // a message usually arrives in one or two chunks, and copying them per chunk showed at 100 KB.
      const before = this.#headerBytes;
      this.#headerBytes += chunk.length;
      this.#pending.push(chunk);
      let end = headerEnd(chunk);
      if (end >= 0) end += before;
      if (this.#headerTail.length > 0) {
        const seam = Buffer.concat([this.#headerTail, chunk.subarray(0, 3)]);
        const at = headerEnd(seam);
        if (at >= 0 && at < this.#headerTail.length) end = before - this.#headerTail.length + at;
      }
      if (end < 0) {
        const tail = chunk.length >= 3 ? chunk : Buffer.concat([this.#headerTail, chunk]);
        this.#headerTail = Buffer.from(tail.subarray(Math.max(0, tail.length - 3)));
      }
      if (end >= 0 || this.#headerBytes > MAX_HEADER_BYTES) {
        this.#headersDone = true;
        const block = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending);
        this.#headers = parseHeaderBlock(block.subarray(0, end >= 0 ? end : block.length).toString("utf8"));
        this.#headerTail = EMPTY;
        if (this.#needsMime()) this.#startSplitter();
        for (const c of this.#pending) this.#splitter?.write(c);
        this.#pending = [];
      }
      return;
    }
    this.#splitter?.write(chunk);
  }

  async end(): Promise<ScanResult> {
    if (!this.#headersDone) {
      this.#headersDone = true;
      this.#headers = parseHeaderBlock(Buffer.concat(this.#pending).toString("utf8"));
      if (this.#needsMime()) this.#startSplitter();
      for (const c of this.#pending) this.#splitter?.write(c);
      this.#pending = [];
    }
    if (this.#lineLength > MAX_LINE_LENGTH) this.#overlong = Math.max(this.#overlong, this.#lineLength);
    if (this.#splitter) {
      this.#splitter.end();
      await this.#splitterDone;
    }
    const h = this.#headers;
    const first = (name: string) => h.get(name)?.[0];
    return {
      size: this.#size,
      headers: {
        subject: decodeSubject(first("subject")),
        from: headerAddress(h.get("from")),
        messageId: first("message-id"),
        date: first("date"),
        autoSubmitted: first("auto-submitted"),
        precedence: first("precedence"),
        list: [...h.keys()].some((k) => k.startsWith("list-")),
        received: h.get("received")?.length ?? 0,
        deliveredTo: (h.get("delivered-to") ?? []).map((v) => v.toLowerCase()),
        authservIds: (h.get("authentication-results") ?? []).map(authservIdOf),
      },
      overlongLine: this.#overlong,
      attachments: this.#attachments,
      gtube: this.#gtube,
    };
  }

  /**
   * Finds lines over {@link MAX_LINE_LENGTH} without visiting every line: from a line's start, the
   * last LF within the next MAX_LINE_LENGTH bytes ends every line before it, and all of those fit;
   * only when that stretch holds no LF is the line measured. About one native search per KB instead
   * of one per line (a 100 KB message of 80-character lines has 1,300).
   */
  #measureLines(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      // The current line began #lineLength bytes before `start`; a fitting line's LF is at most
      // MAX_LINE_LENGTH bytes after its beginning.
      const reach = start + MAX_LINE_LENGTH - this.#lineLength;
      if (reach >= start) {
        const last = chunk.lastIndexOf(LF, Math.min(reach, chunk.length - 1));
        if (last >= start) {
          this.#lineLength = 0;
          start = last + 1;
          continue;
        }
        if (reach >= chunk.length - 1) break;
      }
      // No LF in reach: this line is (most likely) too long; measure it to its end.
      const nl = chunk.indexOf(LF, Math.max(start, reach + 1));
      if (nl < 0) break;
      const cr = nl > start ? chunk[nl - 1] === CR : this.#lastWasCr;
      const length = this.#lineLength + (nl - start) - (cr ? 1 : 0);
      if (length > MAX_LINE_LENGTH) this.#overlong = Math.max(this.#overlong, length);
      this.#lineLength = 0;
      start = nl + 1;
    }
    this.#lineLength += chunk.length - start;
    if (chunk.length > 0) this.#lastWasCr = chunk[chunk.length - 1] === CR;
  }

  #searchGtube(chunk: Buffer): void {
    if (this.#gtube) return;
    const keep = GTUBE_BYTES.length - 1;
    // The string may straddle chunks: search the small seam (previous tail + this chunk's start),
    // then the chunk itself, without copying the chunk.
    const seam = this.#tail.length > 0 ? Buffer.concat([this.#tail, chunk.subarray(0, keep)]) : null;
    if ((seam && seam.indexOf(GTUBE_BYTES) >= 0) || chunk.indexOf(GTUBE_BYTES) >= 0) {
      this.#gtube = true;
      return;
    }
    const source = chunk.length >= keep ? chunk : Buffer.concat([this.#tail, chunk]);
    this.#tail = Buffer.from(source.subarray(Math.max(0, source.length - keep)));
  }

  #needsMime(): boolean {
    const type = this.#headers.get("content-type")?.[0]?.toLowerCase() ?? "";
    const encoding = this.#headers.get("content-transfer-encoding")?.[0]?.toLowerCase() ?? "";
    const disposition = this.#headers.get("content-disposition")?.[0] ?? "";
    return (
      type.startsWith("multipart/") ||
      type.startsWith("message/") ||
      /name\s*\*?=/i.test(type) ||
      /filename/i.test(disposition) ||
      encoding.includes("base64") ||
      encoding.includes("quoted-printable")
    );
  }

  #startSplitter(): void {
    const splitter = new Splitter({ maxHeadSize: MAX_HEADER_BYTES });
    this.#splitter = splitter;
    this.#splitterDone = new Promise((resolve) => {
      splitter.on("data", (part: MimeNodeLike) => this.#onPart(part));
      splitter.on("end", () => {
        this.#finishDecode();
        resolve();
      });
      // A malformed MIME structure is not a reason to lose the scan of what was seen.
      splitter.on("error", () => resolve());
    });
  }

  #onPart(part: MimeNodeLike): void {
    if (part.type === "node") {
      this.#finishDecode();
      if (part.filename) this.#attachments.push(String(part.filename));
      const encoding = String(part.encoding || "").toLowerCase();
      const isText = String(part.contentType || "text/plain").startsWith("text/");
      if (isText && (encoding === "base64" || encoding === "quoted-printable")) {
        this.#decodeNode = { encoding, chunks: [], bytes: 0 };
      }
    } else if (part.type === "body" && this.#decodeNode && part.value) {
      if (this.#decodeNode.bytes < MAX_DECODED_SCAN * 2) {
        this.#decodeNode.chunks.push(part.value);
        this.#decodeNode.bytes += part.value.length;
      }
    } else if (part.type === "data") {
      this.#finishDecode();
    }
  }

  #finishDecode(): void {
    const node = this.#decodeNode;
    this.#decodeNode = null;
    if (!node || this.#gtube) return;
    const raw = Buffer.concat(node.chunks).toString("latin1");
    const decoded =
      node.encoding === "base64"
        ? Buffer.from(raw.replace(/\s+/g, ""), "base64")
        : decodeQuotedPrintable(raw);
    if (decoded.subarray(0, MAX_DECODED_SCAN).indexOf(GTUBE_BYTES) >= 0) this.#gtube = true;
  }
}

/**
 * RFC 2047 words decoded; a malformed word is left as written rather than losing the subject.
 * Line breaks and NULs an encoded word may carry become spaces: the subject is one line wherever it
 * is shown or written again (log, quarantine, notifications).
 */
function decodeSubject(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let decoded = value;
  try {
    decoded = libmime.decodeWords(value);
  } catch {}
  return decoded.replace(/[\r\n\0]+/g, " ");
}

/** Offset of the empty line ending the header block, or -1. */
function headerEnd(block: Buffer): number {
  const crlf = block.indexOf("\r\n\r\n");
  const lf = block.indexOf("\n\n");
  if (crlf < 0) return lf;
  if (lf < 0) return crlf;
  return Math.min(crlf, lf);
}

/** Lower-cased extension of a file name, without the dot ("" when none). */
export function extensionOf(filename: string): string {
  const clean = filename.trim().replace(/["']/g, "");
  const dot = clean.lastIndexOf(".");
  return dot >= 0 ? clean.slice(dot + 1).toLowerCase() : "";
}
