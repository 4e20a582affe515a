/**
 * A tenant that breaks mailplane's policy pack (policy/): a weak password policy and lax filter
 * settings. `pulumi preview --policy-pack ../../../../policy` must fail with both rules' messages.
 */
import * as mailplane from "mailplane";

const domain = new mailplane.Domain("example.org", { name: "example.org" });
const inDomain = { dependsOn: [domain] };

// minLength 8 and passwords that never expire: below the maximal-security baseline.
new mailplane.PasswordPolicy("weak-passwords", { scope: "example.org", minLength: 8 }, inDomain);

// Quarantine off, a threshold that quarantines almost nothing, and .exe attachments let through.
new mailplane.FilterSettings(
  "lax-filter",
  {
    scope: "example.org",
    quarantineEnabled: false,
    quarantineThreshold: 0.99,
    blockedExtensions: ["bat", "js"],
  },
  inDomain,
);
