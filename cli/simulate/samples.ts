/** The sample envelopes of `mailplane plan-summary --simulate`: a YAML file validated with zod, errors naming file, line and path. */
import { isMap, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { z } from "zod";

/** A mailbox `local@domain`; `""` (the null reverse-path of bounces, RFC 5321 §4.5.5) only where allowed. */
const Mailbox = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[^@\s<>]+@[^@\s<>]+$/, "must be an address local@domain");

const HeaderValue = z.union([z.string(), z.array(z.string())]);

/**
 * One sample envelope. `to` takes one address or several; each recipient is simulated in its own
 * transaction, so every recipient gets its own fate.
 */
export const Sample = z.strictObject({
  name: z
    .string()
    .min(1)
    .optional()
    .describe("A label for the sample in the output; default `mail from … to …`."),
  from: z
    .union([Mailbox, z.literal("")], {
      error: (issue) => (issue.input === undefined ? "required: the envelope sender" : undefined),
    })
    .describe('MAIL FROM: the envelope sender; `""` for the null sender of bounces.'),
  to: z
    .union([Mailbox, z.array(Mailbox).min(1, "needs at least one recipient")], {
      error: (issue) => (issue.input === undefined ? "required: one recipient address or a list" : undefined),
    })
    .transform((to) => (Array.isArray(to) ? to : [to]))
    .describe("RCPT TO: one address or a list."),
  clientIp: z
    .union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address" })
    .default("192.0.2.1")
    .describe("The client's IP; default 192.0.2.1."),
  helo: z.string().min(1).default("client.example").describe("The EHLO name; default client.example."),
  subject: z.string().optional().describe("Subject: (shown only: content is not scored)."),
  headers: z
    .record(z.string(), HeaderValue)
    .default(() => ({}))
    .describe("Header fields; `Received` (hop count) and `Delivered-To` (loops) are read."),
  attachments: z
    .array(z.string().min(1))
    .default(() => [])
    .describe("Attachment file names."),
  size: z
    .number()
    .int()
    .nonnegative()
    .default(2_048)
    .describe("The message size in bytes, also declared with MAIL FROM SIZE= (RFC 1870); default 2,048."),
});

/** A parsed sample, defaults applied. */
export type Sample = z.output<typeof Sample>;

/** The file: `samples:` with at least one sample. */
export const SampleFile = z.strictObject({
  samples: z.array(Sample).min(1, "needs at least one sample"),
});

/** An error in a samples file; `message` names the file, line and path of every issue. */
export class SampleFileError extends Error {
  override name = "SampleFileError";
  readonly issues: { line: number; path: string; message: string }[];
  constructor(file: string, issues: { line: number; path: string; message: string }[]) {
    super(issues.map((i) => `${file}:${i.line}: ${i.path ? `${i.path}: ` : ""}${i.message}`).join("\n"));
    this.issues = issues;
  }
}

/** `samples[0].to[1]` (zod's dotted path style). */
function dotPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, i) =>
      typeof segment === "number" ? `[${segment}]` : `${i === 0 ? "" : "."}${String(segment)}`,
    )
    .join("");
}

/** The deepest node on `path` that exists: a missing field is reported at the object that lacks it. */
function nodeAt(root: Node | null, path: readonly PropertyKey[]): Node | null {
  let node = root;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown })?.value) === String(segment));
      if (!pair) return node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment]) {
      node = node.items[segment] as Node;
    } else return node;
  }
  return node;
}

/**
 * Parses and validates a samples file. YAML syntax errors and every zod issue are reported at once,
 * each with its line.
 *
 * @param text the file's contents
 * @param file the name used in messages; default `samples.yaml`
 * @throws SampleFileError naming `file:line: path: message` per issue
 * @example
 * parseSamples("samples:\n  - from: offers@spam.example\n    to: linus@example.org\n")
 * // [{ from: "offers@spam.example", to: ["linus@example.org"], clientIp: "192.0.2.1", … }]
 */
export function parseSamples(text: string, file = "samples.yaml"): Sample[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new SampleFileError(
      file,
      doc.errors.map((e) => ({
        line: lines.linePos(e.pos[0]).line,
        path: "",
        message: e.message.split("\n")[0] ?? e.message,
      })),
    );
  }
  const parsed = SampleFile.safeParse(doc.toJS());
  if (parsed.success) return parsed.data.samples;
  throw new SampleFileError(
    file,
    parsed.error.issues.map((issue) => {
      const node = nodeAt(doc.contents, issue.path);
      return {
        line: node?.range ? lines.linePos(node.range[0]).line : 1,
        path: dotPath(issue.path),
        message: issue.message,
      };
    }),
  );
}
