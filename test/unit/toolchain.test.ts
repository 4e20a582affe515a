/** The toolchain (scripts/toolchain.sh): Node 24 for every project command, and its folder named by its physical path. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const script = join(import.meta.dirname, "..", "..", "scripts", "toolchain.sh");

describe("toolchain", () => {
  it("runs the tests on Node 24", () => {
    expect(process.versions.node.split(".")[0]).toBe("24");
  });

  it("puts the toolchain on PATH by its physical path when .toolchain is a symbolic link", () => {
    // The Pulumi CLI warns in every preview when the plugin on PATH and the one beside its own
    // (resolved) executable are spelled differently; a linked .toolchain must not cause that.
    const scratch = mkdtempSync(join(tmpdir(), "mp-toolchain-"));
    try {
      const real = join(scratch, "shared-toolchain");
      mkdirSync(real);
      const checkout = join(scratch, "checkout");
      mkdirSync(checkout);
      symlinkSync(real, join(checkout, ".toolchain"));
      const printed = execFileSync("bash", ["-c", `source "${script}" && printf %s "$TOOLCHAIN_DIR"`], {
        env: { ...process.env, MAILPLANE_ROOT: checkout },
        encoding: "utf8",
      });
      expect(printed).toBe(realpathSync(real));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
