/**
 * `mailplane plan-summary`: turns `pulumi preview --json` into Markdown for a pull request — counts per
 * operation, and per resource the changed fields old → new, replacements called out, secrets masked,
 * the serialized dynamic provider (`__provider`) stripped, policy pack results listed.
 */
import { type PolicyResults, policySection } from "./policy-results.ts";

/** The parts of Pulumi's preview JSON (`pulumi preview --json`) the summary reads. */
export interface PreviewJson {
  steps?: PreviewStep[];
  changeSummary?: Record<string, number>;
  diagnostics?: { message?: string; severity?: string; urn?: string }[];
  /** Policy pack results: only the streamed form of the preview JSON has them (cli/preview-events.ts). */
  policies?: PolicyResults;
}

/** One step of the preview (`steps[]`). */
export interface PreviewStep {
  op: string;
  urn: string;
  oldState?: StepState;
  newState?: StepState;
  replaceReasons?: string[];
  diffReasons?: string[];
}

/** A step's old or new state, as far as the summary reads it. */
export interface StepState {
  type?: string;
  inputs?: Record<string, unknown>;
  additionalSecretOutputs?: string[];
}

/** Input names that hold secrets whatever the state says (write-only credentials). */
const ALWAYS_SECRET = new Set(["password", "token", "apiToken"]);
/** The value Pulumi prints for a secret, and its wire signature for secret objects. */
const SECRET_TEXT = "[secret]";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** Engine-internal inputs never worth a reviewer's time. */
const HIDDEN_INPUTS = new Set(["__provider"]);

type Operation = "create" | "update" | "replace" | "delete" | "same" | "read" | "import" | "other";

const OPERATION_ORDER: Operation[] = ["create", "update", "replace", "delete", "import", "read", "other"];
const OPERATION_LABEL: Record<Operation, string> = {
  create: "create",
  update: "update",
  replace: "replace",
  delete: "delete",
  same: "unchanged",
  read: "read",
  import: "import",
  other: "other",
};
const OPERATION_MARK: Record<Operation, string> = {
  create: "➕",
  update: "✏️",
  replace: "♻️",
  delete: "➖",
  same: "",
  read: "🔎",
  import: "📥",
  other: "•",
};

function operationOf(op: string): Operation {
  switch (op) {
    case "create":
    case "update":
    case "delete":
    case "same":
    case "read":
    case "import":
      return op;
    // --show-replacement-steps splits a replace into these; the summary folds them back.
    case "replace":
    case "create-replacement":
    case "delete-replaced":
      return "replace";
    case "discard":
    case "discard-replaced":
      return "delete";
    default:
      return "other";
  }
}

/** `urn:pulumi:<stack>::<project>::<type>::<name>` → its parts. */
function parseUrn(urn: string): { stack: string; project: string; type: string; name: string } {
  const [head = "", project = "", type = "", ...rest] = urn.split("::");
  return { stack: head.replace(/^urn:pulumi:/, ""), project, type, name: rest.join("::") };
}

/** `pulumi-nodejs:mailplane:Domain` → `Domain`; nested types keep their last segment. */
function kindOf(type: string): string {
  const last = type.split("$").at(-1) ?? type;
  return last.split(":").at(-1) ?? last;
}

function isSecretValue(value: unknown): boolean {
  return (
    value === SECRET_TEXT ||
    (typeof value === "object" && value !== null && SECRET_SIG in (value as Record<string, unknown>))
  );
}

/** Flattens nested objects into dotted paths; arrays and scalars are leaves (shown whole). */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && !isSecretValue(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, {});
    for (const [key, inner] of entries) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

function visibleInputs(state: StepState | undefined): Map<string, unknown> {
  const inputs = Object.fromEntries(
    Object.entries(state?.inputs ?? {}).filter(([key]) => !HIDDEN_INPUTS.has(key)),
  );
  return flatten(inputs, "", new Map());
}

function secretKeys(step: PreviewStep): Set<string> {
  return new Set([
    ...ALWAYS_SECRET,
    ...(step.oldState?.additionalSecretOutputs ?? []),
    ...(step.newState?.additionalSecretOutputs ?? []),
  ]);
}

function isSecretPath(path: string, secrets: Set<string>): boolean {
  return path.split(".").some((segment) => secrets.has(segment));
}

/** Renders a value for a table cell: JSON in a code span, secrets masked, pipes escaped. */
function cell(value: unknown, secret: boolean): string {
  if (value === undefined) return "—";
  if (secret || isSecretValue(value)) return "`[secret]`";
  const text = JSON.stringify(value) ?? String(value);
  const fence = text.includes("`") ? "``" : "`";
  const spaced = fence === "``" ? ` ${text} ` : text;
  return `${fence}${spaced}${fence}`.replaceAll("|", "\\|").replaceAll("\n", " ");
}

interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
  secret: boolean;
}

function changedFields(step: PreviewStep): FieldChange[] {
  const before = visibleInputs(step.oldState);
  const after = visibleInputs(step.newState);
  const secrets = secretKeys(step);
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changes: FieldChange[] = [];
  for (const path of paths) {
    const a = before.get(path);
    const b = after.get(path);
    const secret = isSecretPath(path, secrets) || isSecretValue(a) || isSecretValue(b);
    // Two secrets compare equal here: their values are hidden from the preview itself.
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    changes.push({ path, before: a, after: b, secret });
  }
  return changes;
}

function fieldTable(step: PreviewStep, operation: Operation): string[] {
  const secrets = secretKeys(step);
  if (operation === "create" || operation === "delete") {
    const fields = visibleInputs(operation === "create" ? step.newState : step.oldState);
    if (fields.size === 0) return [];
    const rows = [...fields].sort(([a], [b]) => a.localeCompare(b));
    return [
      "| field | value |",
      "|---|---|",
      ...rows.map(([path, value]) => `| \`${path}\` | ${cell(value, isSecretPath(path, secrets))} |`),
    ];
  }
  const changes = changedFields(step);
  if (changes.length === 0) return [];
  return [
    "| field | old | new |",
    "|---|---|---|",
    ...changes.map((c) => `| \`${c.path}\` | ${cell(c.before, c.secret)} | ${cell(c.after, c.secret)} |`),
  ];
}

export interface SummaryOptions {
  /** Heading text; defaults to "Plan for stack `<stack>`". */
  title?: string;
}

/**
 * Summarises a preview as Markdown.
 *
 * @example
 * const md = summarizePlan(JSON.parse(readFileSync("preview.json", "utf8")));
 */
export function summarizePlan(preview: PreviewJson, options: SummaryOptions = {}): string {
  const steps = (preview.steps ?? []).filter((s) => !s.urn.includes("::pulumi:providers:"));
  const stack = steps[0] ? parseUrn(steps[0].urn).stack : "";
  const byUrn = new Map<string, { step: PreviewStep; operation: Operation }>();
  for (const step of steps) {
    const operation = operationOf(step.op);
    const seen = byUrn.get(step.urn);
    // A replacement shown as several steps is one entry; keep the step that carries both states.
    if (!seen || (operation === "replace" && step.oldState && step.newState)) {
      byUrn.set(step.urn, { step, operation });
    }
  }
  const entries = [...byUrn.values()].filter((e) => parseUrn(e.step.urn).type !== "pulumi:pulumi:Stack");
  const counts = new Map<Operation, number>();
  for (const { operation } of entries) counts.set(operation, (counts.get(operation) ?? 0) + 1);
  const changeCount = entries.filter((e) => e.operation !== "same" && e.operation !== "read").length;

  const lines: string[] = [];
  lines.push(`## ${options.title ?? `Plan for stack \`${stack}\``}`, "");
  lines.push(
    changeCount === 0 ? "**No changes.**" : `**${changeCount} change${changeCount === 1 ? "" : "s"}**`,
  );
  lines.push("", "| operation | resources |", "|---|---:|");
  for (const op of [...OPERATION_ORDER, "same" as const]) {
    const n = counts.get(op);
    if (n) lines.push(`| ${[OPERATION_MARK[op], OPERATION_LABEL[op]].filter(Boolean).join(" ")} | ${n} |`);
  }

  const replacements = entries.filter((e) => e.operation === "replace");
  if (replacements.length > 0) {
    lines.push(
      "",
      `> [!WARNING]`,
      `> ${replacements.length} resource${replacements.length === 1 ? " is" : "s are"} replaced (deleted and created again):`,
    );
    for (const { step } of replacements) {
      const { name, type } = parseUrn(step.urn);
      const why = step.replaceReasons?.length ? ` — \`${step.replaceReasons.join("`, `")}\` changed` : "";
      lines.push(`> - ${kindOf(type)} \`${name}\`${why}`);
    }
  }

  if (preview.policies) lines.push("", ...policySection(preview.policies));

  const changed = entries
    .filter((e) => e.operation !== "same" && e.operation !== "read")
    .sort(
      (a, b) =>
        OPERATION_ORDER.indexOf(a.operation) - OPERATION_ORDER.indexOf(b.operation) ||
        a.step.urn.localeCompare(b.step.urn),
    );
  if (changed.length > 0) lines.push("", "### Changes");
  for (const { step, operation } of changed) {
    const { name, type } = parseUrn(step.urn);
    lines.push(
      "",
      `#### ${OPERATION_MARK[operation]} ${OPERATION_LABEL[operation]} ${kindOf(type)} \`${name}\``,
    );
    const table = fieldTable(step, operation);
    if (table.length > 0) lines.push("", ...table);
  }

  const diagnostics = (preview.diagnostics ?? []).filter(
    (d) => d.severity === "error" || d.severity === "warning",
  );
  if (diagnostics.length > 0) {
    lines.push("", "### Diagnostics", "");
    for (const d of diagnostics) {
      const where = d.urn ? ` (\`${parseUrn(d.urn).name}\`)` : "";
      lines.push(`- **${d.severity}**${where}: ${(d.message ?? "").trim().replaceAll("\n", " ")}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
