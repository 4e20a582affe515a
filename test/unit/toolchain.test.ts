/** The toolchain runs every project command under Node 24 (Node 20 is end of life). */
import { describe, expect, it } from "vitest";

describe("toolchain", () => {
  it("runs the tests on Node 24", () => {
    expect(process.versions.node.split(".")[0]).toBe("24");
  });
});
