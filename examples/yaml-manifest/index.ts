/**
 * A mail tenant from a YAML manifest.
 *
 *   pulumi config set mailplane:endpoint http://127.0.0.1:8080
 *   pulumi config set --secret mailplane:token "$(npx mailplane token create --account example)"
 *   pulumi config set --secret --path 'passwords["ada@example.com"]' 'Correct-Horse-42'
 *   pulumi up          # README.md has every step, from the account on
 *
 * The manifest is validated as a whole before anything is registered: a mistake stops the program
 * with `tenancy.yaml:LINE:COLUMN path: message` for every problem, and nothing is applied.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config();
const tenancy = new mailplane.Tenancy("example", {
  file: config.get("manifest") ?? "tenancy.yaml",
  passwords: config.getSecretObject<Record<string, string>>("passwords") ?? {},
});

export const domains = Object.keys(tenancy.domains);
export const dnsRecords = tenancy.domains["example.com"]?.dnsRecords;
