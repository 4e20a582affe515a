/**
 * The bulk floor: the same properties as a DomainTenancy of `programs/bulk` holds in the state —
 * keyed maps of aliases and users, each object one JSON text with every field the model fills in,
 * the passwords a map of secrets by address — on one plain dynamic resource whose provider does no
 * work at all (no validation, no HTTP). What `up`/`preview`/`refresh` cost here is Pulumi's own cost of moving a property tree of
 * that size; bench/provider/bulk.ts compares DomainTenancy with it.
 */
import * as pulumi from "@pulumi/pulumi";

// Captures nothing: serialized once and cached.
const noop: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    return { inputs: news };
  },
  async diff() {
    return {};
  },
  async create(inputs) {
    return { id: String(inputs.domain.name), outs: inputs };
  },
  async read(id, props) {
    return { id, props };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete() {},
};

class BulkNoop extends pulumi.dynamic.Resource {
  constructor(name: string, args: Record<string, unknown>) {
    super(noop, name, args, undefined, "bench", "BulkNoop");
  }
}

const config = new pulumi.Config("bench");
const count = config.requireNumber("count");
const withPassword = config.getNumber("passwords") ?? 100;
const step = config.get("step") ?? "base";
const domain = "bulk-floor.bench.test";
const aliases: Record<string, unknown> = {};
const users: Record<string, unknown> = {};
const passwords: Record<string, unknown> = {};
for (let i = 1; i < count; i++) {
  if (i % 2 === 0) {
    const address = `a${i}@${domain}`;
    aliases[address] = JSON.stringify({
      address,
      action: { type: "forward", to: [`x${i}@example.net`, `y${i}@example.net`] },
    });
  } else {
    const address = `u${i}@${domain}`;
    // The fields a DomainTenancy's check fills in (the model's defaults), so the trees match.
    const user: Record<string, unknown> = {
      address,
      addresses: [],
      enabled: true,
      externalAddress: null,
      firstName: `User ${i}`,
      forwardOnDelete: null,
      lastName: "",
      loginAlerts: { failed: true, successful: false },
      lostPasswordInstructions: null,
      quotaMb: step === "change" && i === 1 ? 2048 : 1024,
      role: "email-user",
    };
    if (Object.keys(passwords).length < withPassword) {
      passwords[address] = pulumi.secret(`Bench-${i}-Pass-Xy9`);
    }
    users[address] = JSON.stringify(user);
  }
}
new BulkNoop("bulk", {
  domain: {
    adminContact: null,
    aliases: [],
    catchAll: null,
    localRecipients: [],
    localRecipientsOnly: false,
    logInvalidRecipients: false,
    logRetentionDays: 28,
    maxBouncesPerHour: 100,
    maxRetryDays: 4,
    name: domain,
    notificationFrom: null,
    primaryContact: null,
    rejectedLocalPartChars: "",
    timezone: "UTC",
  },
  routes: {},
  aliases,
  senderLists: {},
  users,
  groups: {},
  passwords,
});
