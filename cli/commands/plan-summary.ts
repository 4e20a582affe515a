/** `mailplane plan-summary`: Markdown for a pull request from `pulumi preview --json` (one document or streamed events). */
import { readFileSync } from "node:fs";
import { describeApiError, readApiAccess } from "../api-access.ts";
import type { Command, CommandIo } from "../command.ts";
import { optionReader, parseFlags } from "../options.ts";
import { type PreviewJson, summarizePlan } from "../plan-summary.ts";
import { isEventStream, previewFromEvents } from "../preview-events.ts";
import { simulationSection } from "../simulate/run.ts";
import { SampleFileError } from "../simulate/samples.ts";

const usage = `usage: mailplane plan-summary [--input <preview.json>] [--title <text>] [--simulate <samples.yaml>]

Reads the JSON of \`pulumi preview --json\` (from --input, or standard input) and writes Markdown
for a pull request: counts per operation; per resource the changed fields old → new; replacements
called out; secrets masked; the serialized dynamic provider stripped.

  pulumi preview --stack dev --json | mailplane plan-summary --title "Plan for dev" > plan.md

With a policy pack, stream the JSON (one engine event per line): only that form carries the
policy results, which the summary then lists (violations by level, rules that passed).

  PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true pulumi preview --stack dev --json \\
    --policy-pack policy | mailplane plan-summary > plan.md

With --simulate, sample envelopes (a YAML file: samples: [{from, to, clientIp?, helo?, subject?,
headers?, attachments?, size?}]) are run through the SMTP engine's own policy code against the live
tenancy (read through the API) and against the live tenancy with the preview's changes applied, and
a "Mail-flow simulation" section lists the fates that change:
  mail from offers@spam.example to linus@example.org | 550 5.7.1 refused at RCPT: … | delivered: …
Content scoring (rspamd, built-in rules), SPF, DMARC and virus scanning are not simulated.

options:
  --input <file>        the preview JSON, either form (default: standard input)
  --title <text>        the heading (default: "Plan for stack \`<stack>\`")
  --simulate <file>     also simulate the samples in this YAML file (needs the API access below)
  --endpoint <url>      the control plane                                [$MAILPLANE_ENDPOINT]
  --token <token>       an API token that can read the tenant                [$MAILPLANE_TOKEN]
  --account <slug>      the account, for platform-admin tokens            [$MAILPLANE_ACCOUNT]
  --trust-all-domains   treat every domain name as verified, as a platform run with
                        \`mailplane serve --trust-all-domains\` does (default: only verified names
                        take mail, as the platform reports them)
  -h, --help            this help

Exit codes: 0 written, 1 bad input, a bad samples file or an API failure, 2 usage.
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function run(argv: string[], io: CommandIo): Promise<number> {
  const values = parseFlags(argv, {
    input: { type: "string" },
    title: { type: "string" },
    simulate: { type: "string" },
    endpoint: { type: "string" },
    token: { type: "string" },
    account: { type: "string" },
    "trust-all-domains": { type: "boolean" },
  });
  // API access is checked before any input is read: a usage error should not wait on standard input.
  const access = values.simulate === undefined ? undefined : readApiAccess(optionReader(values, io.env));
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
  let markdown = summarizePlan(preview, values.title === undefined ? {} : { title: values.title });
  if (values.simulate !== undefined && access !== undefined) {
    try {
      const section = await simulationSection(preview, {
        samplesFile: values.simulate,
        access,
        trustAllDomains: values["trust-all-domains"] === true,
      });
      markdown += `\n${section}`;
    } catch (err) {
      const why =
        err instanceof SampleFileError
          ? `the samples file has errors:\n${err.message}`
          : (err as { code?: unknown }).code === "ENOENT"
            ? `cannot read the samples file: ${(err as Error).message}`
            : describeApiError(err);
      io.stderr(`mailplane plan-summary: ${why}\n`);
      return 1;
    }
  }
  io.stdout(markdown);
  return 0;
}

export const command: Command = {
  name: "plan-summary",
  summary: "Markdown for a pull request from `pulumi preview --json`",
  usage,
  run,
};
