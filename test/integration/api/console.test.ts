/** The web console's files as the control plane serves them: security headers, the fixed file set, no path escapes. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_CSP } from "../../../platform/console/serve.ts";
import { type Harness, startHarness } from "./harness.ts";

describe("the control plane's /console/", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ name: "sqlite" });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("serves index.html, the style sheet and the modules with their types and the console's CSP", async () => {
    for (const [path, type] of [
      ["/console/", "text/html"],
      ["/console/console.css", "text/css"],
      ["/console/app.js", "text/javascript"],
      ["/console/dom.js", "text/javascript"],
    ] as const) {
      const res = await h.call("GET", path);
      expect(res.status, path).toBe(200);
      expect(String(res.headers["content-type"]), path).toContain(type);
      expect(res.headers["content-security-policy"], path).toBe(CONSOLE_CSP);
      expect(res.headers["x-frame-options"], path).toBe("DENY");
      expect(res.headers["x-content-type-options"], path).toBe("nosniff");
      expect(res.headers["referrer-policy"], path).toBe("no-referrer");
    }
  });

  it("redirects /console to /console/ (relative module URLs resolve under it)", async () => {
    const res = await h.call("GET", "/console");
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe("/console/");
  });

  it("answers 404 for any other name, encoded path escapes included, and never reads outside its files", async () => {
    for (const path of [
      "/console/nothing.js",
      "/console/..%2Fserve.ts",
      "/console/..%2F..%2F..%2Fpackage.json",
      "/console/%2e%2e%2fserve.ts",
      "/console/serve.ts",
    ]) {
      const res = await h.call("GET", path);
      expect(res.status, path).toBe(404);
      expect(res.text, path).not.toContain("consoleRoutes");
      expect(res.text, path).not.toContain('"name": "mailplane"');
    }
  });

  it("uses no inline script or style in index.html (the CSP would refuse them)", async () => {
    const html = (await h.call("GET", "/console/")).text;
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });
});
