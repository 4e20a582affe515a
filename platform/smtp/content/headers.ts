/** Header edits on stored messages: prepended trace/verdict fields and the unsure subject notation. */
import type { HeaderEdits } from "../phases/data.ts";
import { authservIdOf } from "./auth.ts";

/**
 * Returns the message with `edits` applied: fields prepended in order (trace fields go on top,
 * RFC 5321 §4.4) and the subject prefixed once (an already-tagged subject is left alone, so a
 * message released from quarantine or looping back is not tagged twice). Line endings of the
 * prepended fields follow the message's own.
 *
 * @example applyEdits(raw, { prepend: ["X-Recommended-Action: accept"], subjectPrefix: "[SPAM?]" })
 */
export function applyEdits(message: Buffer, edits: HeaderEdits): Buffer {
  const parts = editedParts(message, edits);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** {@link applyEdits} as pieces, for vectored writes that do not copy the message. */
export function editedParts(message: Buffer, edits: HeaderEdits): Buffer[] {
  const crlf = message.indexOf("\r\n") >= 0 || message.length === 0;
  const eol = crlf ? "\r\n" : "\n";
  const parts: Buffer[] = [];
  if (edits.prepend.length > 0)
    parts.push(Buffer.from(edits.prepend.map((f) => f.replace(/\r?\n/g, eol) + eol).join("")));
  const stripped = edits.stripAuthResults ? stripAuthResults(message, edits.stripAuthResults) : message;
  parts.push(edits.subjectPrefix ? prefixSubject(stripped, edits.subjectPrefix) : stripped);
  return parts;
}

/**
 * Removes the top-level Authentication-Results fields (with their folded lines) whose authserv-id
 * is `authservId` (RFC 8601 §5); the message is returned as is when there are none.
 *
 * @example stripAuthResults(raw, "mx.example.com")
 */
export function stripAuthResults(message: Buffer, authservId: string): Buffer {
  const end = headerBlockEnd(message);
  const head = message.subarray(0, end).toString("latin1");
  // Each field with its continuation lines (RFC 5322 §2.2.3), line endings kept.
  const fields = head.match(/[^\r\n]*(?:\r?\n|$)(?:[ \t][^\r\n]*(?:\r?\n|$))*/g) ?? [];
  const wanted = authservId.toLowerCase();
  let removed = false;
  const kept = fields.filter((field) => {
    const match = /^authentication-results[ \t]*:/i.exec(field);
    if (!match || authservIdOf(field.slice(match[0].length).replace(/\r?\n[ \t]/g, " ")) !== wanted)
      return true;
    removed = true;
    return false;
  });
  if (!removed) return message;
  return Buffer.concat([Buffer.from(kept.join(""), "latin1"), message.subarray(end)]);
}

/** Prefixes the Subject: field of the top-level header block, adding one when there is none. */
export function prefixSubject(message: Buffer, prefix: string): Buffer {
  const end = headerBlockEnd(message);
  const head = message.subarray(0, end).toString("latin1");
  const match = /(^|\n)subject:[ \t]*/i.exec(head);
  if (!match) {
    const eol = head.includes("\r\n") ? "\r\n" : "\n";
    return Buffer.concat([Buffer.from(`Subject: ${prefix}${eol}`), message]);
  }
  const at = match.index + match[0].length;
  if (head.slice(at).startsWith(prefix)) return message;
  return Buffer.concat([message.subarray(0, at), Buffer.from(`${prefix} `), message.subarray(at)]);
}

/** Byte offset just after the top-level header block (the whole message if it has no body). */
export function headerBlockEnd(message: Buffer): number {
  const crlf = message.indexOf("\r\n\r\n");
  const lf = message.indexOf("\n\n");
  const candidates = [crlf >= 0 ? crlf + 2 : -1, lf >= 0 ? lf + 1 : -1].filter((n) => n >= 0);
  return candidates.length > 0 ? Math.min(...candidates) : message.length;
}

/** The top-level header block as text (for DSNs: RFC 3464's text/rfc822-headers part). */
export function headerBlock(message: Buffer): string {
  return message.subarray(0, headerBlockEnd(message)).toString("utf8");
}
