/** `mailplane token create|list|revoke`: API tokens of an account; a new token's value is printed once, alone on standard output. */
import { type ApiToken, ApiTokenSpec, TOKEN_ROLES } from "../../sdk/src/models/api-token.ts";
import { apiClient, describeApiError, readApiAccess } from "../api-access.ts";
import { type Command, type CommandIo, UsageError } from "../command.ts";
import { expectPositionals, parseSubcommand } from "../onboarding/subcommand.ts";
import { optionReader } from "../options.ts";

const usage = `usage: mailplane token create [--role <role>] [--domain <name>…] [--description <text>] [--expires-at <time>] [options]
       mailplane token list [--json] [options]
       mailplane token revoke <token id> [options]

API tokens of one account: the calling token's own account, or — for a platform-admin token — the
account named by --account. \`create\` prints the new token's value alone on standard output, once:
it is never shown again (the control plane keeps only its hash), so capture it where it goes:
  pulumi config set --secret mailplane:token "$(mailplane token create --account acme)"
What the token is (its ID, role, expiry) goes to standard error. \`list\` shows IDs, never values;
\`revoke\` takes an ID from the list and stops that token at once.

Roles: account-admin (the whole account: what a tenant's Pulumi stack holds), domain-admin (only its
--domain names), read-only, platform-admin (every account; only a platform-admin may create one).

options:
  --role <role>         ${TOKEN_ROLES.join(" | ")}     [default account-admin]
  --domain <name>       a domain of a domain-admin token (repeatable; required for that role)
  --description <text>  what the token is for (shown in lists and the audit log)
  --expires-at <time>   when it stops working, e.g. 2027-01-01T00:00:00Z   [default never]
  --json                list: one JSON document instead of the table
  --endpoint <url>      the control plane                                  [$MAILPLANE_ENDPOINT]
  --token <token>       the calling token (the variable is better: flags show in ps) [$MAILPLANE_TOKEN]
  --account <slug>      the account, for platform-admin tokens             [$MAILPLANE_ACCOUNT]
  -h, --help            this help

Exit codes: 0 done, 1 the API failed, 2 usage.
`;

/** The flag each token field is given with, for errors that name what to fix. */
const FLAG_OF: Record<string, string> = {
  role: "--role",
  domains: "--domain",
  description: "--description",
  expiresAt: "--expires-at",
};

function describeToken(t: ApiToken): string {
  const scope = t.role === "domain-admin" ? ` for ${t.domains.join(", ")}` : "";
  const owner = t.account === "" ? "the platform" : `account ${t.account}`;
  return `${t.id} (${t.role}${scope} of ${owner}, ${t.expiresAt === null ? "never expires" : `expires ${t.expiresAt}`})`;
}

function renderTable(tokens: ApiToken[]): string {
  const rows = [
    ["ID", "ROLE", "DOMAINS", "EXPIRES", "REVOKED", "DESCRIPTION"],
    ...tokens.map((t) => [
      t.id,
      t.role,
      t.domains.join(",") || "-",
      t.expiresAt ?? "never",
      t.revokedAt ?? "-",
      t.description || "-",
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
  return `${lines.join("\n")}\n`;
}

async function run(argv: string[], io: CommandIo): Promise<number> {
  const { subcommand, positionals, values } = parseSubcommand(argv, ["create", "list", "revoke"], {
    role: { type: "string" },
    domain: { type: "string", multiple: true },
    description: { type: "string" },
    "expires-at": { type: "string" },
    json: { type: "boolean" },
    endpoint: { type: "string" },
    token: { type: "string" },
    account: { type: "string" },
  });
  const onlyFor: Record<string, string[]> = {
    create: ["role", "domain", "description", "expires-at"],
    list: ["json"],
  };
  for (const [sub, flags] of Object.entries(onlyFor)) {
    const stray = flags.find((f) => values[f as keyof typeof values] !== undefined);
    if (sub !== subcommand && stray) throw new UsageError(`--${stray} belongs to token ${sub}`);
  }
  const [tokenId] = expectPositionals(subcommand, positionals, subcommand === "revoke" ? ["<token id>"] : []);
  const access = readApiAccess(optionReader(values, io.env));

  let spec: ApiTokenSpec | undefined;
  if (subcommand === "create") {
    const parsed = ApiTokenSpec.safeParse({
      role: values.role ?? "account-admin",
      domains: values.domain ?? [],
      description: values.description ?? "",
      ...(values["expires-at"] === undefined ? {} : { expiresAt: values["expires-at"] }),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new UsageError(`${FLAG_OF[String(issue.path[0])] ?? String(issue.path[0])} ${issue.message}`);
    }
    spec = parsed.data;
  }

  const client = apiClient(access, "mailplane-token");
  try {
    if (spec) {
      const created = await client.tokens.create(spec);
      // The value alone on stdout, so `$(mailplane token create)` captures it; nothing else repeats it.
      io.stdout(`${created.token}\n`);
      io.stderr(
        `mailplane token: created ${describeToken(created)}; its value is printed above only this once: store it now\n`,
      );
    } else if (subcommand === "list") {
      const tokens: ApiToken[] = [];
      let cursor: string | null | undefined;
      do {
        const page = await client.tokens.list({ limit: 500, ...(cursor ? { cursor } : {}) });
        tokens.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      io.stdout(values.json ? `${JSON.stringify(tokens, null, 2)}\n` : renderTable(tokens));
    } else {
      await client.tokens.revoke(tokenId!);
      io.stdout(`revoked ${tokenId}\n`);
    }
    return 0;
  } catch (err) {
    io.stderr(`mailplane token: ${describeApiError(err)}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

/** The token command. */
export const command: Command = {
  name: "token",
  summary: "create, list and revoke API tokens (a new token's value is printed once)",
  usage,
  run,
};
