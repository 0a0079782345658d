import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SqliteStore } from "../../server/store/sqlite/store.js";
import type { SessionRecord } from "../../server/store/types.js";
import { tempDir } from "../support/server.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function session(i: number): SessionRecord {
  const now = Date.now();
  return {
    id: `s-${i}-${"x".repeat(20)}`,
    userId: `user-${i}`,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 3600_000,
    device: { name: null, browser: "Chrome 131", os: "Linux", ip: "10.0.0.1" },
    presenceAt: null,
    ended: null,
  };
}

/** A store in a fresh temp directory with 400 sessions written; its file size after the burst. */
async function burst(checkpointInterval: number): Promise<{ store: SqliteStore; grew: () => boolean }> {
  const dir = tempDir("solo-ckpt-");
  dirs.push(dir);
  const filename = join(dir, "solo.db");
  const store = new SqliteStore({ filename, checkpointInterval });
  for (let i = 0; i < 400; i++) await store.claim(session(i), () => ({ kind: "admit", evict: [] }));
  const afterBurst = statSync(filename).size;
  // No commit from here on: only a checkpointer on another thread can move pages into the file.
  return { store, grew: () => statSync(filename).size > afterBurst };
}

describe("SQLite checkpoints", () => {
  it("are made by a worker thread, not by commits on the event loop; with checkpointInterval 0 they are left to the committing thread", async () => {
    const withWorker = await burst(100);
    const without = await burst(0);
    try {
      await vi.waitFor(() => expect(withWorker.grew()).toBe(true), { timeout: 5_000, interval: 20 });
      // The worker has checkpointed at least once (several intervals have passed): a store
      // without a worker has had the same idle time and its file has not grown.
      expect(without.grew()).toBe(false);
    } finally {
      await withWorker.store.close(); // and the worker stops with the store
      await without.store.close();
    }
  });
});
