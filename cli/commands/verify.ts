/** `mailplane verify`: probes a live tenant over SMTP and reports where the platform does not do what is declared. */
import { randomBytes } from "node:crypto";
import { apiClient, describeApiError, readApiAccess } from "../api-access.ts";
import { type Command, type CommandIo, UsageError } from "../command.ts";
import { optionReader, parseFlags } from "../options.ts";
import { DEFAULT_SENDER, deriveProbes } from "../verify/probes.ts";
import { type RunContext, renderJson, renderPlan, renderTable, summarise } from "../verify/report.ts";
import { runProbes } from "../verify/run.ts";
import { readVerifyTenant } from "../verify/tenant.ts";

const usage = `usage: mailplane verify --smtp <host:port> [options]

Reads a live tenant through the control plane's API, derives probes from what it declares and sends
them over SMTP to the inbound (MX) listener, then compares each probe's answer — and, for the few
probes that send a whole message, its fate in the message log or the quarantine — with what the
declaration says. Probes, each only when the tenant declares the thing:

  user receives            250, then the message log shows it delivered (one message per domain)
  disabled user            550 at RCPT
  unknown local part       550 — or what catch-all, local-recipients-only or routes make of it
  reject alias             550 with the alias's own text
  forward / auto-reply     250 at RCPT (--deliver: a whole message, the log shows it delivered)
  domain alias             250 for an existing local part at the alias domain
  blocked sender           550 at MAIL/RCPT (a made-up local part for a whole blocked domain)
  blocked recipient        550 at RCPT
  spam (GTUBE)             quarantined: 550 or 250 per the quarantine response; then deleted again

Only those marked "message" in --dry-run deliver anything; the others stop after RCPT TO and reset.
Probe messages carry the header X-Mailplane-Probe and a subject starting "[mailplane verify". The
user-receives message stays in that user's mailbox (the API cannot delete mail from mailboxes).

  mailplane verify --endpoint http://127.0.0.1:8080 --smtp 127.0.0.1:2525
  mailplane verify --domain example.com --dry-run
  mailplane verify --json > verify.json

options:
  --endpoint <url>      the control plane                                   [$MAILPLANE_ENDPOINT]
  --token <token>       an API token (the variable is better: flags show in ps)  [$MAILPLANE_TOKEN]
  --account <slug>      the account to verify, for platform-admin tokens    [$MAILPLANE_ACCOUNT]
  --smtp <host:port>    the inbound (MX) listener; required unless --dry-run    [$MAILPLANE_SMTP]
  --domain <name>       only this domain (repeatable)
  --from <address>      envelope sender of the probes           [default ${DEFAULT_SENDER}]
  --helo <name>         our EHLO name                           [default verify.mailplane.invalid]
  --max-per-kind <n>    most probes of one kind per domain (aliases, list entries…); 0: all [default 5]
  --deliver             send forward aliases a whole message and check it is delivered
  --wait <seconds>      how long to wait for the log and quarantine to show a message [default 30]
  --timeout <seconds>   how long to wait for each SMTP reply                [default 30]
  --keep                leave quarantined probe messages in the quarantine
  --dry-run             list the probes and send nothing
  --json                write one JSON document instead of the table
  -h, --help            this help

Progress goes to standard error. Exit codes: 0 every probe as declared, 1 a probe differs (or the
API or the SMTP listener failed), 2 usage.
`;

/**
 * Parses `host:port` or `[v6]:port`.
 * @example parseHostPort("127.0.0.1:2525") // { host: "127.0.0.1", port: 2525 }
 */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65_535) {
    throw new UsageError(`--smtp must be host:port such as 127.0.0.1:2525, got ${JSON.stringify(value)}`);
  }
  return { host: m[1] ?? m[2]!, port };
}

function seconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a number of seconds above 0`);
  return n * 1000;
}

async function run(argv: string[], io: CommandIo): Promise<number> {
  const values = parseFlags(argv, {
    endpoint: { type: "string" },
    token: { type: "string" },
    account: { type: "string" },
    smtp: { type: "string" },
    domain: { type: "string", multiple: true },
    from: { type: "string" },
    helo: { type: "string" },
    "max-per-kind": { type: "string" },
    deliver: { type: "boolean" },
    wait: { type: "string" },
    timeout: { type: "string" },
    keep: { type: "boolean" },
    "dry-run": { type: "boolean" },
    json: { type: "boolean" },
  });
  const opt = optionReader(values, io.env);
  const smtpText = opt("smtp", "MAILPLANE_SMTP");
  const dryRun = values["dry-run"] === true;
  const access = readApiAccess(opt);
  if (smtpText === undefined && !dryRun) {
    throw new UsageError("name the inbound SMTP listener with --smtp host:port or MAILPLANE_SMTP");
  }
  const smtp = smtpText === undefined ? undefined : parseHostPort(smtpText);
  const maxPerKind = Number(values["max-per-kind"] ?? 5);
  if (!Number.isInteger(maxPerKind) || maxPerKind < 0) {
    throw new UsageError("--max-per-kind must be a whole number, 0 for no limit");
  }
  const from = values.from?.trim().toLowerCase();
  if (from !== undefined && !/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/.test(from)) {
    throw new UsageError(`--from must be an address such as probe@example.net, got ${JSON.stringify(from)}`);
  }
  const waitMs = seconds("wait", values.wait, 30_000);
  const timeoutMs = seconds("timeout", values.timeout, 30_000);

  const progress = (line: string) => io.stderr(`mailplane verify: ${line}\n`);
  const client = apiClient(access, "mailplane-verify");
  try {
    // Short, random and [a-z0-9]: it goes into made-up local parts and every probe's token.
    const runId = randomBytes(4).readUInt32BE().toString(36).padStart(6, "0").slice(-6);
    let tenant: Awaited<ReturnType<typeof readVerifyTenant>>;
    try {
      tenant = await readVerifyTenant(client, {
        ...(values.domain === undefined ? {} : { domains: values.domain }),
        progress,
      });
    } catch (err) {
      io.stderr(`mailplane verify: ${describeApiError(err)}\n`);
      return 1;
    }
    const { probes, skipped } = deriveProbes(tenant, {
      runId,
      ...(from === undefined ? {} : { sender: from }),
      maxPerKind,
      deliver: values.deliver === true,
    });
    const ctx: RunContext = {
      runId,
      endpoint: client.endpoint,
      account: tenant.account,
      smtp: smtp ? `${smtp.host.includes(":") ? `[${smtp.host}]` : smtp.host}:${smtp.port}` : "(no --smtp)",
    };
    const messages = probes.filter((p) => p.send === "message").length;
    progress(
      `${probes.length} probe${probes.length === 1 ? "" : "s"} (${messages} with a message), ${skipped.length} not probed`,
    );
    if (dryRun) {
      io.stdout(values.json ? renderJson(probes, null, skipped, ctx) : renderPlan(probes, skipped, ctx));
      return 0;
    }
    if (probes.length === 0) progress("the tenant declares nothing to probe");
    const outcomes = await runProbes(probes, {
      client,
      smtp: smtp!,
      waitMs,
      timeoutMs,
      cleanup: values.keep !== true,
      progress,
      ...(values.helo === undefined ? {} : { helo: values.helo }),
    });
    io.stdout(values.json ? renderJson(probes, outcomes, skipped, ctx) : renderTable(outcomes, skipped, ctx));
    const summary = summarise(outcomes);
    if (summary.errors > 0 && summary.errors === summary.probes) {
      progress(`no probe got an answer from ${ctx.smtp}: is the inbound listener there?`);
    }
    return summary.matched === summary.probes ? 0 : 1;
  } finally {
    await client.close();
  }
}

/** The verify command. */
export const command: Command = {
  name: "verify",
  summary: "send probe messages to a live tenant and report where the platform differs from the declaration",
  usage,
  run,
};
