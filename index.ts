/**
 * The root program: the demo tenancy of a small company, declared in tenancy/<stack>.yaml.
 * `make demo` starts the platform, sets this stack's endpoint, token and passwords, and runs it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config();
const tenancy = new mailplane.Tenancy("acme", {
  file: config.get("manifest") ?? `tenancy/${pulumi.getStack()}.yaml`,
  passwords: config.getSecretObject<Record<string, string>>("passwords") ?? {},
});

export const domains = Object.keys(tenancy.domains);
export const users = Object.keys(tenancy.users);
/** What to publish in DNS for acme.example. */
export const dnsRecords = tenancy.domains["acme.example"]?.dnsRecords;
