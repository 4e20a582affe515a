/**
 * GitOps: one program, one stack per environment, one manifest per stack (tenancy/<stack>.yaml).
 * Pull requests preview every stack and post the plan; merging rolls out dev → staging → prod
 * (.github/workflows/). Each stack's Pulumi.<stack>.yaml holds its endpoint; its token and user
 * passwords are secrets in CI.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config();
const tenancy = new mailplane.Tenancy(pulumi.getStack(), {
  file: `tenancy/${pulumi.getStack()}.yaml`,
  passwords: config.getSecretObject<Record<string, string>>("passwords") ?? {},
});

export const domains = Object.keys(tenancy.domains);
export const users = Object.keys(tenancy.users);
