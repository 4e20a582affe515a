/** `mailplane account create`: a platform admin opens a tenant account on the control plane. */
import { AccountSpec } from "../../sdk/src/models/account.ts";
import { apiClient, describeApiError, readApiAccess } from "../api-access.ts";
import { type Command, type CommandIo, UsageError } from "../command.ts";
import { expectPositionals, parseSubcommand } from "../onboarding/subcommand.ts";
import { optionReader } from "../options.ts";

const usage = `usage: mailplane account create <id> [--name <display name>] [--contact <address>] [options]

Creates a tenant account on the control plane: everything a Pulumi program declares (domains,
users, routes…) belongs to one account. Needs a platform-admin token — \`mailplane serve\` writes
the first one to <data dir>/admin-token. An account that already exists is left as it is (exit 1).
Then give the account its own token, which is what its Pulumi stacks hold:
  mailplane token create --account <id> --role account-admin

  mailplane account create acme --name "ACME Corp" --contact it@acme.example

options:
  --name <text>         the display name                                   [default: the id]
  --contact <address>   where postmaster@ and abuse@ of the account's domains go unless
                        declared (RFC 5321 §4.5.1, RFC 2142)               [default: none]
  --endpoint <url>      the control plane                                  [$MAILPLANE_ENDPOINT]
  --token <token>       a platform-admin token (the variable is better: flags show in ps) [$MAILPLANE_TOKEN]
  -h, --help            this help

Exit codes: 0 created, 1 it exists already or the API failed, 2 usage.
`;

async function run(argv: string[], io: CommandIo): Promise<number> {
  const { positionals, values } = parseSubcommand(argv, ["create"], {
    name: { type: "string" },
    contact: { type: "string" },
    endpoint: { type: "string" },
    token: { type: "string" },
  });
  const [rawId] = expectPositionals("create", positionals, ["<id>"]);
  const opt = optionReader(values, io.env);
  // The account is the path itself here, so MAILPLANE_ACCOUNT (meant for account-scoped calls) is not read.
  const access = readApiAccess((flag, variable) => (flag === "account" ? undefined : opt(flag, variable)));
  const parsed = AccountSpec.safeParse({
    id: rawId,
    name: values.name ?? rawId,
    ...(values.contact !== undefined ? { contact: values.contact } : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const given = {
      id: ["<id>", rawId],
      name: ["--name", values.name],
      contact: ["--contact", values.contact],
    };
    const [field, value] = given[issue.path[0] as keyof typeof given] ?? ["<id>", rawId];
    throw new UsageError(`${field} ${issue.message}, got ${JSON.stringify(value)}`);
  }
  const spec = parsed.data;

  const client = apiClient(access, "mailplane-account");
  try {
    // PUT replaces; `create` must not rename someone's account, so it looks first.
    const existing = await client.accounts.get(spec.id).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === "MP_NOT_FOUND") return undefined;
      throw err;
    });
    if (existing) {
      io.stderr(
        `mailplane account: account ${existing.id} already exists (name ${JSON.stringify(existing.name)}); nothing changed\n`,
      );
      return 1;
    }
    const account = await client.accounts.put(spec);
    io.stdout(`created account ${account.id} (name ${JSON.stringify(account.name)})\n`);
    io.stderr(
      `mailplane account: next, a token for its Pulumi stacks: mailplane token create --account ${account.id} --role account-admin\n`,
    );
    return 0;
  } catch (err) {
    io.stderr(`mailplane account: ${describeApiError(err)}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

/** The account command. */
export const command: Command = {
  name: "account",
  summary: "create a tenant account (platform admins)",
  usage,
  run,
};
