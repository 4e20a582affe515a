/** `mailplane import`: reads a live tenant through the API and writes a YAML manifest or a TypeScript program with adopt. */
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { apiClient, describeApiError, readApiAccess } from "../api-access.ts";
import { type Command, type CommandIo, UsageError } from "../command.ts";
import { readTenant } from "../import/read-tenant.ts";
import { renderTypeScript } from "../import/render-typescript.ts";
import { renderYaml } from "../import/render-yaml.ts";
import { countsOf, passwordCommand } from "../import/summary.ts";
import { optionReader, parseFlags } from "../options.ts";

const usage = `usage: mailplane import [options]

Reads a live tenant through the control plane's API — domains, routes, aliases, sender lists, filter
settings, password policies and users — and writes it as code, so an existing estate can be brought
under Pulumi: a YAML tenancy manifest for the Tenancy component, or a TypeScript program. Every
object is adopted (\`adopt: true\`), so the first \`pulumi up\` takes the objects over and reports no
changes. Fields at their defaults are left out; filter settings and password policies are written
only when they differ from the defaults (--all-singletons writes them all).

Passwords are write-only and cannot be read: users are written without one and keep their current
password. Set one later in the stack config, encrypted; the next \`pulumi up\` applies it:
  ${passwordCommand("alice@example.com")}

  mailplane import --endpoint http://127.0.0.1:8080 --out tenancy.yaml
  mailplane import --format typescript --domain example.com --out index.ts

options:
  --endpoint <url>    the control plane                                  [$MAILPLANE_ENDPOINT]
  --token <token>     an API token (the variable is better: flags show in ps)  [$MAILPLANE_TOKEN]
  --account <slug>    the account to read, for platform-admin tokens      [$MAILPLANE_ACCOUNT]
  --domain <name>     only this domain and its objects (repeatable); the account-wide filter
                      settings and password policy are then left out (as for domain-admin tokens)
  --format <format>   yaml (a manifest for mailplane.Tenancy) or typescript (a program) [default yaml]
  --out <file>        where to write (default: standard output)
  --all-singletons    also write filter settings and password policies that are at their defaults
  -h, --help          this help

Progress goes to standard error. Exit codes: 0 written, 1 the API or the output failed, 2 usage.
`;

async function run(argv: string[], io: CommandIo): Promise<number> {
  const values = parseFlags(argv, {
    endpoint: { type: "string" },
    token: { type: "string" },
    account: { type: "string" },
    domain: { type: "string", multiple: true },
    format: { type: "string" },
    out: { type: "string" },
    "all-singletons": { type: "boolean" },
  });
  const opt = optionReader(values, io.env);
  const format = values.format ?? "yaml";
  const access = readApiAccess(opt);
  if (format !== "yaml" && format !== "typescript") {
    throw new UsageError(`--format must be yaml or typescript, got ${JSON.stringify(format)}`);
  }

  const client = apiClient(access, "mailplane-import");
  const progress = (line: string) => io.stderr(`mailplane import: ${line}\n`);
  let text: string;
  let summary: string;
  let users: number;
  try {
    const tenant = await readTenant(client, {
      ...(values.domain === undefined ? {} : { domains: values.domain }),
      allSingletons: values["all-singletons"] === true,
      progress,
    });
    const source = { endpoint: client.endpoint, account: tenant.account };
    text =
      format === "yaml"
        ? renderYaml(tenant.manifest, source, values.out === undefined ? undefined : basename(values.out))
        : renderTypeScript(tenant.manifest, source);
    summary = countsOf(tenant.manifest);
    users = tenant.manifest.users.length;
  } catch (err) {
    io.stderr(`mailplane import: ${describeApiError(err)}\n`);
    return 1;
  } finally {
    await client.close();
  }

  if (values.out === undefined) {
    io.stdout(text);
  } else {
    try {
      writeFileSync(values.out, text);
    } catch (err) {
      io.stderr(`mailplane import: cannot write ${values.out}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  progress(`wrote ${values.out ?? "standard output"} (${format}): ${summary}`);
  if (users > 0) {
    progress(
      `${users === 1 ? "1 user was" : `${users} users were`} written without a password (write-only, never returned by the API): ` +
        `they keep their current passwords. To set one from code: ${passwordCommand("<address>")}`,
    );
  }
  progress(
    format === "yaml"
      ? `next: new mailplane.Tenancy("imported", { file: "${values.out === undefined ? "tenancy.yaml" : basename(values.out)}", adopt: true }), then \`pulumi up\` (expect no changes)`
      : "next: put the program in a Pulumi project (see its header), then `pulumi up` (expect no changes)",
  );
  return 0;
}

/** The import command. */
export const command: Command = {
  name: "import",
  summary: "write a live tenant as a YAML manifest or a TypeScript program (adopt: true)",
  usage,
  run,
};
