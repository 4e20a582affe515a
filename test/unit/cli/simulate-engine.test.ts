/**
 * plan-summary --simulate decides with the engine's code, not a copy: when an engine policy function
 * answers differently (here replaced through the module system), the simulated fate changes with it.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseSamples } from "../../../cli/simulate/samples.ts";
import { fatesOf, policyOf } from "../../../cli/simulate/simulate.ts";
import { TenancyManifest } from "../../../sdk/src/models/tenancy.ts";

const engine = vi.hoisted(() => ({ blockNothing: false, everyAttachmentIsExe: false }));

// The sender block list check rcptTo calls (platform/smtp/phases/mail-from.ts).
vi.mock("../../../platform/smtp/phases/mail-from.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../../platform/smtp/phases/mail-from.ts")>();
  return {
    ...actual,
    senderBlocked: vi.fn((...args: Parameters<typeof actual.senderBlocked>) =>
      engine.blockNothing ? undefined : actual.senderBlocked(...args),
    ),
  };
});
// The attachment-type reader dataVerdict matches blocked extensions with (platform/smtp/content/scan.ts).
vi.mock("../../../platform/smtp/content/scan.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../../platform/smtp/content/scan.ts")>();
  return {
    ...actual,
    extensionOf: vi.fn((name: string) => (engine.everyAttachmentIsExe ? "exe" : actual.extensionOf(name))),
  };
});

const { senderBlocked } = await import("../../../platform/smtp/phases/mail-from.ts");

const tenancy = {
  account: "acme",
  verified: "all" as const,
  manifest: TenancyManifest.parse({
    domains: [{ name: "example.org" }],
    users: [{ address: "linus@example.org" }],
    senderLists: [{ domain: "example.org", kind: "block", target: "sender", entries: ["*@spam.example"] }],
  }),
};
const samples = parseSamples(
  [
    "samples:",
    "  - from: offers@spam.example",
    "    to: linus@example.org",
    "  - from: grace@partner.example",
    "    to: linus@example.org",
    "    attachments: [report.pdf]",
    "",
  ].join("\n"),
);

describe("the simulation follows the engine's policy functions", () => {
  afterEach(() => {
    engine.blockNothing = false;
    engine.everyAttachmentIsExe = false;
    vi.clearAllMocks();
  });

  it("refuses a blocked sender at RCPT through the engine's senderBlocked, and delivers when it says not blocked", () => {
    const texts = () => fatesOf(policyOf(tenancy), samples).map((f) => f.fate.text);
    expect(texts()[0]).toBe(
      "550 5.7.1 refused at RCPT: Sender <offers@spam.example> is blocked by example.org",
    );
    expect(senderBlocked).toHaveBeenCalled();
    engine.blockNothing = true;
    expect(texts()[0]).toBe("delivered: mailbox linus@example.org");
  });

  it("quarantines by the engine's attachment-type reading at DATA", () => {
    const texts = () => fatesOf(policyOf(tenancy), samples).map((f) => f.fate.text);
    expect(texts()[1]).toBe("delivered: mailbox linus@example.org");
    engine.everyAttachmentIsExe = true;
    expect(texts()[1]).toBe("quarantined at DATA: blocked attachment type .exe (550 5.7.1 to the client)");
  });
});
