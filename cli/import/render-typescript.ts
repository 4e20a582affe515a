/** Renders an imported tenant as a Pulumi TypeScript program: one mailplane resource per object, each with `adopt: true`. */
import { routeId } from "../../sdk/src/models/route.ts";
import type { TenancyManifest } from "../../sdk/src/models/tenancy.ts";
import { manifestDocument } from "./minimise.ts";
import { countsOf, exampleAddress, type ImportSource, passwordCommand, sourceOf } from "./summary.ts";

type Json = Record<string, unknown>;

/** Code written as is (an expression), as opposed to a value rendered as a literal. */
class Code {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** Lines longer than this are broken, the way a formatter would (the project's own width is 110). */
const WIDTH = 100;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Words a variable may not be called: JavaScript's reserved words and the program's own names. */
const RESERVED = new Set([
  ..."break case catch class const continue debugger default delete do else enum export extends false finally for function if implements import in instanceof interface let new null package private protected public return static super switch this throw true try typeof var void while with yield await arguments eval undefined NaN Infinity".split(
    " ",
  ),
  "pulumi",
  "mailplane",
  "config",
  "passwords",
  "password",
  "process",
  "console",
]);

/** A value as a TypeScript literal; objects and arrays break over lines when they do not fit. */
function literal(value: unknown, indent: string, column: number): string {
  if (value instanceof Code) return value.text;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const items = value.map((v) => literal(v, inner, 0));
    const flat = `[${items.join(", ")}]`;
    if (!flat.includes("\n") && column + flat.length <= WIDTH) return flat;
    return `[\n${value.map((v) => `${inner}${literal(v, inner, inner.length)},`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Json);
  const key = (k: string) => (IDENTIFIER.test(k) ? k : JSON.stringify(k));
  const flatItems = entries.map(([k, v]) => `${key(k)}: ${literal(v, inner, 0)}`);
  const flat = entries.length === 0 ? "{}" : `{ ${flatItems.join(", ")} }`;
  if (!flat.includes("\n") && column + flat.length <= WIDTH) return flat;
  return `{\n${entries
    .map(([k, v]) => {
      const head = `${inner}${key(k)}: `;
      return `${head}${literal(v, inner, head.length)},`;
    })
    .join("\n")}\n${indent}}`;
}

/** `mx1.example.net` → `mx1ExampleNet`; `*` → `catchAll`. */
function camel(...parts: string[]): string {
  const words = parts
    .map((p) => (p === "*" ? "catch all" : p))
    .join(" ")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return words
    .map((w, i) =>
      i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1),
    )
    .join("");
}

/** One resource to write: its class, Pulumi name, arguments and dependencies. */
interface Statement {
  kind: string;
  /** The Pulumi resource name: the object's ID, as the Tenancy component names its children. */
  name: string;
  /** Variable name candidates: short first, then qualified by the domain. */
  names: [string, string];
  args: Json;
  /** IDs of the objects this one depends on. */
  dependsOn: string[];
}

const local = (address: string) => address.slice(0, address.lastIndexOf("@"));
const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1);

/** The resources of a manifest in creation order (as the Tenancy component creates them). */
function statements(manifest: TenancyManifest): Statement[] {
  const doc = manifestDocument(manifest) as Record<string, Json[] | undefined>;
  const out: Statement[] = [];
  const domains = new Set(manifest.domains.map((d) => d.name));
  const domainDep = (domain: string) => (domains.has(domain) ? [domain] : []);
  const policyIds = new Set(manifest.passwordPolicies.map((p) => `${p.scope}/password-policy`));
  const userIds = new Set(manifest.users.map((u) => u.address));

  for (const d of doc["domains"] ?? []) {
    const name = String(d["name"]);
    out.push({ kind: "Domain", name, names: [camel(name), camel(name, "domain")], args: d, dependsOn: [] });
  }
  for (const p of doc["passwordPolicies"] ?? []) {
    const scope = String(p["scope"]);
    const n = camel(scope, "password policy");
    const deps = scope === "account" ? [] : domainDep(scope);
    out.push({
      kind: "PasswordPolicy",
      name: `${scope}/password-policy`,
      names: [n, n],
      args: p,
      dependsOn: deps,
    });
  }
  for (const f of doc["filterSettings"] ?? []) {
    const scope = String(f["scope"]);
    const n = camel(scope, "filter settings");
    const deps = scope === "account" ? [] : domainDep(scope);
    out.push({
      kind: "FilterSettings",
      name: `${scope}/filter-settings`,
      names: [n, n],
      args: f,
      dependsOn: deps,
    });
  }
  for (const r of doc["reportSettings"] ?? []) {
    const scope = String(r["scope"]);
    const n = camel(scope, "report settings");
    const deps = scope === "account" ? [] : domainDep(scope);
    out.push({
      kind: "ReportSettings",
      name: `${scope}/report-settings`,
      names: [n, n],
      args: r,
      dependsOn: deps,
    });
  }
  for (const [r, spec] of (doc["routes"] ?? []).map((r, i) => [r, manifest.routes[i]!] as const)) {
    const host = spec.host;
    const port = spec.port === 25 ? "" : `port ${spec.port}`;
    out.push({
      kind: "Route",
      name: routeId(spec),
      names: [camel(host, port, "route"), camel(spec.domain, host, port, "route")],
      args: r,
      dependsOn: domainDep(spec.domain),
    });
  }
  for (const l of doc["senderLists"] ?? []) {
    const domain = String(l["domain"]);
    const list = `${String(l["kind"])}-${String(l["target"])}`;
    out.push({
      kind: "SenderList",
      name: `${domain}/sender-lists/${list}`,
      names: [camel(list, "list"), camel(domain, list, "list")],
      args: l,
      dependsOn: domainDep(domain),
    });
  }
  for (const u of doc["users"] ?? []) {
    const address = String(u["address"]);
    const domain = domainOf(address);
    // A password is checked against the policy in force when it is set: the domain's, else the account's.
    const policies = [`account/password-policy`, `${domain}/password-policy`].filter((id) =>
      policyIds.has(id),
    );
    out.push({
      kind: "User",
      name: address,
      names: [camel(local(address)), camel(local(address), domain)],
      args: { ...u, password: new Code(`password(${JSON.stringify(address)})`) },
      dependsOn: [...domainDep(domain), ...policies],
    });
  }
  for (const [a, spec] of (doc["aliases"] ?? []).map((a, i) => [a, manifest.aliases[i]!] as const)) {
    const address = spec.address;
    const domain = domainOf(address);
    // Aliases forward to the program's users: create them after, delete them first.
    const targets =
      spec.action.type === "forward"
        ? spec.action.to
        : spec.action.type === "autoReply"
          ? spec.action.copyTo
          : [];
    out.push({
      kind: "Alias",
      name: address,
      names: [camel(local(address), "alias"), camel(local(address), domain, "alias")],
      args: a,
      dependsOn: [...domainDep(domain), ...targets.filter((t) => userIds.has(t))],
    });
  }
  for (const [g, spec] of (doc["groups"] ?? []).map((g, i) => [g, manifest.groups[i]!] as const)) {
    const address = spec.address;
    const domain = domainOf(address);
    out.push({
      kind: "Group",
      name: address,
      names: [camel(local(address), "group"), camel(local(address), domain, "group")],
      args: g,
      // Members are usually the program's users: create the group after them, delete it first.
      dependsOn: [...domainDep(domain), ...spec.members.filter((m) => userIds.has(m))],
    });
  }
  for (const [r, spec] of (doc["accessRules"] ?? []).map((r, i) => [r, manifest.accessRules[i]!] as const)) {
    const scope = spec.scope;
    const domain = scope === "account" ? "" : domainOf(scope);
    out.push({
      kind: "AccessRule",
      name: `${scope}/${spec.service}`,
      names: [camel(scope, spec.service, "rule"), camel(scope, spec.service, "rule")],
      args: r,
      // After the domain and the user it names, as the Tenancy component creates it.
      dependsOn: [...domainDep(domain), ...(userIds.has(scope) ? [scope] : [])],
    });
  }
  return out;
}

/** Picks each statement's variable: the short name when it is unique, else the qualified one, else numbered. */
function variableNames(list: Statement[]): string[] {
  // A name may not start with a digit (`2001:db8::25`, `1und1.de`): prefix a word that says what it is.
  const lead: Record<string, string> = {
    Route: "host",
    Domain: "domain",
    User: "user",
    Alias: "address",
    Group: "group",
  };
  const valid = (n: string, kind: string) => {
    const id = /^[0-9]/.test(n) ? camel(lead[kind] ?? kind, n) : n;
    return RESERVED.has(id) || id === "" ? camel(id || "object", kind) : id;
  };
  const shortCounts = new Map<string, number>();
  for (const s of list) {
    const n = valid(s.names[0], s.kind);
    shortCounts.set(n, (shortCounts.get(n) ?? 0) + 1);
  }
  const taken = new Set<string>();
  return list.map((s) => {
    const short = valid(s.names[0], s.kind);
    let name = shortCounts.get(short) === 1 ? short : valid(s.names[1], s.kind);
    if (taken.has(name)) {
      let i = 2;
      while (taken.has(`${name}${i}`)) i++;
      name = `${name}${i}`;
    }
    taken.add(name);
    return name;
  });
}

function header(manifest: TenancyManifest, source: ImportSource): string {
  const lines = [
    `The mail tenancy of ${sourceOf(source)}, written by \`mailplane import\`:`,
    `${countsOf(manifest)}.`,
    "",
    "Every resource has `adopt: true`: the first `pulumi up` takes the existing objects over instead of",
    "creating them; it should report no changes. Run it as a Pulumi project: Pulumi.yaml with",
    "`runtime: { name: nodejs, options: { typescript: false } }` and `main: index.ts`, a package.json",
    'with `"type": "module"`, `npm install mailplane @pulumi/pulumi`, and the control plane in the',
    "stack config: `pulumi config set mailplane:endpoint <url>` and",
    "`pulumi config set --secret mailplane:token <token>`.",
    "",
    "Passwords are write-only and were not imported: every user keeps the current password. To set",
    "one from code, keep it (encrypted) in the stack config; the next `pulumi up` sets it:",
    `  ${passwordCommand(exampleAddress(manifest))}`,
    "",
    "Fields at their defaults are left out, and so are filter settings and password policies that are",
    "at their defaults (add one to manage it). Resource names are the objects' IDs.",
  ];
  return `/**\n${lines.map((l) => (l === "" ? " *" : ` * ${l}`)).join("\n")}\n */`;
}

const PRELUDE = `import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config();

// \`pulumi config set retainOnDelete true\` keeps every object on the platform when it leaves this
// program or the stack is destroyed (run \`pulumi up\` once after setting it, so the state records it).
if (config.getBoolean("retainOnDelete")) {
  pulumi.runtime.registerResourceTransform((args) => ({
    props: args.props,
    opts: { ...args.opts, retainOnDelete: true },
  }));
}

// User passwords by address, from the stack config (secret); a user without one keeps the current password.
const passwords = config.getSecretObject<Record<string, string>>("passwords");
const password = (address: string) => passwords?.apply((all) => all[address]);
`;

const SECTION: Record<string, string> = {
  Domain: "Domains",
  PasswordPolicy: "Password policies (before the users: a password is checked when it is set)",
  FilterSettings: "Filter settings",
  ReportSettings: "Report settings",
  Route: "Routes, in the order they are tried",
  SenderList: "Sender and recipient allow/block lists",
  User: "Users",
  Alias: "Aliases (after the users they forward to)",
  Group: "Groups (after their member users)",
};

/**
 * The program as TypeScript (erasable syntax, so Node runs it without a compiler): a header that says
 * how to use it, the retainOnDelete switch and the passwords lookup, then one `new mailplane.<Kind>`
 * per object in creation order, each assigned to a readable variable (`exampleCom`, `alice`,
 * `salesAlias`), key fields first, defaults left out, `adopt: true`, and `dependsOn` on its domain
 * (users also on their password policy, aliases on the users they forward to). Deterministic.
 * @example writeFileSync("index.ts", renderTypeScript(manifest, { endpoint, account: "acme" }));
 */
export function renderTypeScript(manifest: TenancyManifest, source: ImportSource): string {
  const list = statements(manifest);
  const names = variableNames(list);
  const variableOf = new Map(list.map((s, i) => [s.name, names[i]!]));
  const blocks: string[] = [];
  let section = "";
  list.forEach((s, i) => {
    const variable = names[i]!;
    const args = { ...s.args, adopt: true };
    const deps = s.dependsOn.map((id) => variableOf.get(id)).filter((v): v is string => v !== undefined);
    const head = `const ${variable} = new mailplane.${s.kind}(`;
    let text: string;
    if (deps.length === 0) {
      const flat = `${head}${JSON.stringify(s.name)}, ${literal(args, "", 0)});`;
      text =
        !flat.includes("\n") && flat.length <= WIDTH
          ? flat
          : `${head}${JSON.stringify(s.name)}, ${literal(args, "", WIDTH)});`;
    } else {
      const opts = literal({ dependsOn: deps.map((d) => new Code(d)) }, "  ", 2);
      const flat = `${head}${JSON.stringify(s.name)}, ${literal(args, "", 0)}, ${opts});`;
      text =
        !flat.includes("\n") && flat.length <= WIDTH
          ? flat
          : `${head}\n  ${JSON.stringify(s.name)},\n  ${literal(args, "  ", 2)},\n  ${opts},\n);`;
    }
    if (s.kind !== section) {
      section = s.kind;
      blocks.push(`\n// ${SECTION[s.kind] ?? s.kind}`);
    }
    blocks.push(text);
  });
  return `${header(manifest, source)}\n${PRELUDE}${blocks.join("\n")}\n`;
}
