/** startControlPlane: what a failed start leaves behind (nothing running, the store as it was). */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startControlPlane } from "../../../platform/api/server.ts";
import { openSqliteStore } from "../../../platform/store/index.ts";

describe("startControlPlane", () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("closes the app it built when listening fails: no hourly idempotency purge keeps running", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mailplane-start-"));
    dirs.push(dataDir);
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    const store = await openSqliteStore({ path: ":memory:" });
    const purge = vi.spyOn(store, "purgeIdempotency");
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      await expect(
        startControlPlane({ dataDir, store, listen: `127.0.0.1:${port}`, masterKey: Buffer.alloc(32, 1) }),
      ).rejects.toThrow(/EADDRINUSE/);
      vi.advanceTimersByTime(2 * 3_600_000);
      expect(purge).not.toHaveBeenCalled();
    } finally {
      await new Promise((resolve) => taken.close(resolve));
      await store.close();
    }
  });
});
