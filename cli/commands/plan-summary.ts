/** `mailplane plan-summary`: Markdown for a pull request from `pulumi preview --json` (one document or streamed events). */
import { readFileSync } from "node:fs";
import type { Command, CommandIo } from "../command.ts";
import { parseFlags } from "../options.ts";
import { type PreviewJson, summarizePlan } from "../plan-summary.ts";
import { isEventStream, previewFromEvents } from "../preview-events.ts";

const usage = `usage: mailplane plan-summary [--input <preview.json>] [--title <text>]

Reads the JSON of \`pulumi preview --json\` (from --input, or standard input) and writes Markdown
for a pull request: counts per operation; per resource the changed fields old → new; replacements
called out; secrets masked; the serialized dynamic provider stripped.

  pulumi preview --stack dev --json | mailplane plan-summary --title "Plan for dev" > plan.md

With a policy pack, stream the JSON (one engine event per line): only that form carries the
policy results, which the summary then lists (violations by level, rules that passed).

  PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true pulumi preview --stack dev --json \
    --policy-pack policy | mailplane plan-summary > plan.md

options:
  --input <file>   the preview JSON, either form (default: standard input)
  --title <text>   the heading (default: "Plan for stack \`<stack>\`")
  -h, --help       this help
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function run(argv: string[], io: CommandIo): Promise<number> {
  const values = parseFlags(argv, { input: { type: "string" }, title: { type: "string" } });
  const text = values.input ? readFileSync(values.input, "utf8") : await readStdin();
  let preview: PreviewJson;
  try {
    preview = isEventStream(text) ? previewFromEvents(text) : (JSON.parse(text) as PreviewJson);
  } catch (err) {
    io.stderr(
      `mailplane plan-summary: the input is not JSON (${(err as Error).message}); pass \`pulumi preview --json\`\n`,
    );
    return 1;
  }
  if (!Array.isArray(preview.steps) && !Array.isArray(preview.diagnostics)) {
    io.stderr("mailplane plan-summary: the input has no steps: pass the output of `pulumi preview --json`\n");
    return 1;
  }
  io.stdout(summarizePlan(preview, values.title === undefined ? {} : { title: values.title }));
  return 0;
}

export const command: Command = {
  name: "plan-summary",
  summary: "Markdown for a pull request from `pulumi preview --json`",
  usage,
  run,
};
