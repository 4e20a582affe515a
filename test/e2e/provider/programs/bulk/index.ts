/**
 * A tenancy in bulk mode: the Tenancy component reads the manifest at `e2e:manifest` (an absolute
 * path the test writes) and declares one DomainTenancy per domain, with the passwords from the
 * secret config object `e2e:passwords`. With `e2e:document` (a JSON document) it declares one
 * DomainTenancy directly instead (without the passwords input), so the resource's own `check` judges
 * the document and its own secret handling guards a password written in it.
 *
 * Run by test/e2e/provider/bulk.test.ts with the real Pulumi CLI against a control plane it starts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as mailplane from "mailplane";

const config = new pulumi.Config("e2e");
const passwords = config.getSecretObject<Record<string, string>>("passwords") ?? {};
const document = config.getObject<mailplane.DomainTenancyArgs["document"]>("document");
const adopt = config.getBoolean("adopt");
// Read as plain data on purpose: the resource itself must keep the connection secret in the state.
const connection = config.getObject<mailplane.ConnectionArgs>("connection");

if (document) {
  // No passwords input: a password written in the document itself must be made secret by the resource.
  new mailplane.DomainTenancy("direct", { document, ...(adopt === undefined ? {} : { adopt }) });
} else {
  new mailplane.Tenancy("acme", {
    file: config.require("manifest"),
    mode: "bulk",
    passwords,
    ...(connection === undefined ? {} : { connection }),
  });
}
