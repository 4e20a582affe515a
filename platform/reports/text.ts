/** Making attacker-controlled text (senders, subjects) safe for the reports' HTML and one-line plain text. */

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML element content and quoted attribute values.
 * @example escapeHtml('<b onclick="x">') // "&lt;b onclick=&quot;x&quot;&gt;"
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * One line of at most `max` characters: CR, LF and every other control character (C0, DEL, C1, the
 * Unicode line and paragraph separators) become spaces, so a subject cannot start a new header or a
 * new line of a plain-text body.
 * @example oneLine("Hi\r\nBcc: x") // "Hi  Bcc: x"
 */
export function oneLine(text: string, max = 200): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
