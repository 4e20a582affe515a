/** `mailplane import` rendering on fixture objects: the YAML manifest and the TypeScript program mean exactly the tenant. */
import { readFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { minimalSpec } from "../../../../cli/import/minimise.ts";
import { renderTypeScript } from "../../../../cli/import/render-typescript.ts";
import { renderYaml } from "../../../../cli/import/render-yaml.ts";
import { parseManifest } from "../../../../provider/src/manifest/load-manifest.ts";
import {
  aliasKind,
  type KindDescriptor,
  passwordPolicyKind,
  routeKind,
  userKind,
} from "../../../../sdk/src/models/kinds.ts";
import { TenancyManifest } from "../../../../sdk/src/models/tenancy.ts";
import { fixtureManifest, SOURCE } from "./fixtures.ts";

const schema = JSON.parse(
  readFileSync(new URL("../../../../schema/tenancy.schema.json", import.meta.url), "utf8"),
) as object;

/** JSON's view (undefined fields gone), as a file would hold it. */
const canonical = (value: unknown) => JSON.parse(JSON.stringify(value));

describe("minimalSpec", () => {
  it("drops fields at their defaults but keeps key fields, even a defaulted port", () => {
    const spec = routeKind.spec.parse({ domain: "example.com", host: "mx1.example.net" });
    expect(minimalSpec(routeKind as unknown as KindDescriptor, spec as never)).toEqual({
      domain: "example.com",
      host: "mx1.example.net",
      port: 25,
    });
  });

  it("keeps only the nested fields that differ (lockout.failures), not the whole object", () => {
    const spec = passwordPolicyKind.spec.parse({ scope: "account", lockout: { failures: 3 } });
    expect(minimalSpec(passwordPolicyKind as unknown as KindDescriptor, spec as never)).toEqual({
      scope: "account",
      lockout: { failures: 3 },
    });
  });

  it("drops an auto-reply's defaulted copyTo and periodDays but keeps the discriminator", () => {
    const spec = aliasKind.spec.parse({
      address: "away@example.com",
      action: { type: "autoReply", subject: "Away", body: "Back soon" },
    });
    expect(minimalSpec(aliasKind as unknown as KindDescriptor, spec as never)).toEqual({
      address: "away@example.com",
      action: { type: "autoReply", subject: "Away", body: "Back soon" },
    });
  });

  it("keeps a field that differs from its default (enabled: false)", () => {
    const spec = userKind.spec.parse({ address: "joe@example.org", enabled: false });
    expect(minimalSpec(userKind as unknown as KindDescriptor, spec as never)).toEqual({
      address: "joe@example.org",
      enabled: false,
    });
  });
});

describe("renderYaml", () => {
  const manifest = fixtureManifest();
  const text = renderYaml(manifest, SOURCE);

  it("is valid against schema/tenancy.schema.json and parses back to exactly the tenant", () => {
    const data = parseManifest(text, "tenancy.yaml", { schema });
    expect(canonical(TenancyManifest.parse(data))).toEqual(canonical(manifest));
  });

  it("opens with a header that says how to adopt it and why there are no passwords", () => {
    const header = text.slice(0, text.indexOf("apiVersion:"));
    expect(header.split("\n").every((line) => line === "" || line.startsWith("#"))).toBe(true);
    expect(header).toContain('account "acme" at http://127.0.0.1:8080');
    expect(header).toContain("2 domains, 3 routes, 4 aliases, 1 sender list");
    expect(header).toContain('new mailplane.Tenancy("imported", {');
    expect(header).toContain("adopt: true");
    expect(header).toContain("Passwords are write-only and were not imported");
    expect(header).toContain(`pulumi config set --secret --path 'passwords["alice@example.com"]' <password>`);
  });

  it("names the file it is written to in the header's example", () => {
    expect(renderYaml(manifest, SOURCE, "prod.yaml")).toContain('#     file: "prod.yaml",\n');
    expect(text).toContain('#     file: "tenancy.yaml",\n');
  });

  it("leaves defaults out and writes no password", () => {
    const body = text.slice(text.indexOf("apiVersion:"));
    for (const defaulted of [
      "tls: opportunistic",
      "priority: 10",
      "enabled: true",
      "quarantineDays",
      "password:",
    ]) {
      expect(body).not.toContain(defaulted);
    }
    expect(body).toContain("tls: required");
    expect(body).toContain("enabled: false");
  });

  it("is deterministic and lists kinds in the model's order, key fields first", () => {
    expect(renderYaml(fixtureManifest(), SOURCE)).toBe(text);
    const sections = [...text.matchAll(/^([a-zA-Z]+):/gm)].map((m) => m[1]);
    expect(sections).toEqual([
      "apiVersion",
      "domains",
      "routes",
      "aliases",
      "senderLists",
      "filterSettings",
      "passwordPolicies",
      "users",
      "accessRules",
    ]);
    expect(text).toContain(
      "routes:\n  - domain: example.com\n    host: mx1.example.net\n    port: 25\n  - domain: example.com\n    host: 2001:db8::25\n    port: 2525\n    priority: 20\n    tls: required\n",
    );
  });

  it("writes an empty tenant as a valid manifest with nothing but apiVersion", () => {
    const empty = TenancyManifest.parse({});
    const out = renderYaml(empty, { endpoint: "http://127.0.0.1:8080", account: null });
    expect(out).toContain("from the token's account at http://127.0.0.1:8080:\n# no objects.");
    expect(out.endsWith("\napiVersion: mailplane/v1\n")).toBe(true);
    expect(canonical(TenancyManifest.parse(parseManifest(out, "t.yaml", { schema })))).toEqual(
      canonical(empty),
    );
  });
});

/** What the program did when run: each `new mailplane.<Kind>(name, args, opts)`, in order. */
interface Registered {
  kind: string;
  name: string;
  args: Record<string, unknown>;
  dependsOn: string[];
}

/**
 * Runs a generated program with recording stand-ins for `@pulumi/pulumi` and `mailplane`: types
 * stripped the way Node strips them (so the program is erasable TypeScript), imports replaced.
 */
function runProgram(source: string, passwords?: Record<string, string>): Registered[] {
  const js = stripTypeScriptTypes(source);
  const imports = 'import * as pulumi from "@pulumi/pulumi";\nimport * as mailplane from "mailplane";\n';
  expect(js).toContain(imports);
  const registered: Registered[] = [];
  const names = new Map<object, string>();
  const resource = (kind: string) =>
    class {
      constructor(name: string, args: Record<string, unknown>, opts?: { dependsOn?: object[] }) {
        names.set(this, name);
        const dependsOn = (opts?.dependsOn ?? []).map((r) => names.get(r)!);
        registered.push({ kind, name, args, dependsOn });
      }
    };
  const mailplane = Object.fromEntries(
    ["Domain", "Route", "Alias", "SenderList", "FilterSettings", "PasswordPolicy", "User", "AccessRule"].map(
      (k) => [k, resource(k)],
    ),
  );
  const pulumi = {
    Config: class {
      getBoolean = () => undefined;
      // An Output stand-in: `apply` runs at once; the value is what `pulumi up` would send.
      getSecretObject = () =>
        passwords === undefined
          ? undefined
          : { apply: (f: (all: Record<string, string>) => unknown) => f(passwords) };
    },
    runtime: { registerResourceTransform: () => {} },
  };
  new Function("pulumi", "mailplane", js.replace(imports, ""))(pulumi, mailplane);
  return registered;
}

describe("renderTypeScript", () => {
  const manifest = fixtureManifest();
  const text = renderTypeScript(manifest, SOURCE);

  it("declares exactly the tenant: one resource per object, each adopted, named by its ID", () => {
    const registered = runProgram(text);
    expect(registered.map((r) => `${r.kind} ${r.name}`)).toEqual([
      "Domain example.com",
      "Domain example.org",
      "PasswordPolicy account/password-policy",
      "PasswordPolicy example.com/password-policy",
      "FilterSettings example.com/filter-settings",
      "Route example.com/routes/mx1.example.net:25",
      "Route example.com/routes/[2001:db8::25]:2525",
      "Route example.org/routes/mx.example.org:25",
      "SenderList example.com/sender-lists/block-sender",
      "User alice@example.com",
      "User bob@example.com",
      "User joe@example.org",
      "Alias joe@example.com",
      "Alias sales@example.com",
      "Alias *@example.org",
      "Alias holiday@example.org",
      "AccessRule account/api",
      "AccessRule example.com/smtp-submission",
      "AccessRule alice@example.com/smtp-submission",
    ]);
    expect(registered.every((r) => r.args["adopt"] === true)).toBe(true);
    // Without stack config no user gets a password: adopting keeps the current ones.
    expect(registered.filter((r) => r.kind === "User").map((r) => r.args["password"])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    const byKind = (kind: string) =>
      registered
        .filter((r) => r.kind === kind)
        .map(({ args }) => {
          const { adopt: _adopt, password: _password, ...spec } = args;
          return spec;
        });
    const back = TenancyManifest.parse({
      domains: byKind("Domain"),
      routes: byKind("Route"),
      aliases: byKind("Alias"),
      senderLists: byKind("SenderList"),
      filterSettings: byKind("FilterSettings"),
      passwordPolicies: byKind("PasswordPolicy"),
      users: byKind("User"),
      accessRules: byKind("AccessRule"),
    });
    expect(isDeepStrictEqual(canonical(back), canonical(manifest))).toBe(true);
  });

  it("orders creation like the Tenancy component: domain first, policies before users, users before aliases", () => {
    const deps = Object.fromEntries(runProgram(text).map((r) => [r.name, r.dependsOn]));
    expect(deps["example.com/routes/mx1.example.net:25"]).toEqual(["example.com"]);
    expect(deps["alice@example.com"]).toEqual([
      "example.com",
      "account/password-policy",
      "example.com/password-policy",
    ]);
    expect(deps["joe@example.org"]).toEqual(["example.org", "account/password-policy"]);
    expect(deps["sales@example.com"]).toEqual(["example.com", "alice@example.com", "bob@example.com"]);
    expect(deps["account/password-policy"]).toEqual([]);
    expect(deps["account/api"]).toEqual([]);
    expect(deps["alice@example.com/smtp-submission"]).toEqual(["example.com", "alice@example.com"]);
  });

  it("takes a user's password from the stack config's passwords object when it is there", () => {
    const users = runProgram(text, { "bob@example.com": "Correct-Horse-7" }).filter((r) => r.kind === "User");
    expect(users.map((u) => u.args["password"])).toEqual([undefined, "Correct-Horse-7", undefined]);
  });

  it("uses readable, unique variable names and writes key fields first", () => {
    const variables = [...text.matchAll(/^const (\w+) = new mailplane\.(\w+)\(/gm)].map((m) => m[1]);
    expect(variables).toEqual([
      "exampleCom",
      "exampleOrg",
      "accountPasswordPolicy",
      "exampleComPasswordPolicy",
      "exampleComFilterSettings",
      "mx1ExampleNetRoute",
      "host2001Db825Port2525Route",
      "mxExampleOrgRoute",
      "blockSenderList",
      "alice",
      "bob",
      "joe",
      "joeAlias",
      "salesAlias",
      "catchAllAlias",
      "holidayAlias",
      "accountApiRule",
      "exampleComSmtpSubmissionRule",
      "aliceExampleComSmtpSubmissionRule",
    ]);
    expect(text).toContain(
      'const bob = new mailplane.User(\n  "bob@example.com",\n  { address: "bob@example.com", password: password("bob@example.com"), adopt: true },\n',
    );
  });

  it("qualifies a name with its domain when two objects would share it", () => {
    const twoAlices = TenancyManifest.parse({
      domains: [{ name: "example.com" }, { name: "example.org" }],
      users: [{ address: "alice@example.com" }, { address: "alice@example.org" }],
    });
    const variables = [...renderTypeScript(twoAlices, SOURCE).matchAll(/^const (\w+) = new mailplane/gm)].map(
      (m) => m[1],
    );
    expect(variables).toEqual(["exampleCom", "exampleOrg", "aliceExampleCom", "aliceExampleOrg"]);
  });

  it("says in its header how to run it, that passwords were not imported and how to set them", () => {
    const header = text.slice(0, text.indexOf("*/"));
    expect(header).toContain('account "acme" at http://127.0.0.1:8080');
    expect(header).toContain("`adopt: true`");
    expect(header).toContain("typescript: false");
    expect(header).toContain("Passwords are write-only and were not imported");
    expect(header).toContain(`pulumi config set --secret --path 'passwords["alice@example.com"]' <password>`);
    expect(text).toContain('if (config.getBoolean("retainOnDelete")) {');
  });

  it("is deterministic", () => {
    expect(renderTypeScript(fixtureManifest(), SOURCE)).toBe(text);
  });
});
