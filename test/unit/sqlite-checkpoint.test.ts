import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
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

async function writeAndWatch(checkpointInterval: number): Promise<{ grewWhileIdle: boolean; store: SqliteStore }> {
  const dir = tempDir("solo-ckpt-");
  dirs.push(dir);
  const filename = join(dir, "solo.db");
  const store = new SqliteStore({ filename, checkpointInterval });
  for (let i = 0; i < 400; i++) await store.claim(session(i), () => ({ kind: "admit", evict: [] }));
  const afterBurst = statSync(filename).size;
  // No commit from here on: only a checkpointer on another thread can move pages into the file.
  await new Promise((resolve) => setTimeout(resolve, 5 * Math.max(checkpointInterval, 100)));
  return { grewWhileIdle: statSync(filename).size > afterBurst, store };
}

describe("SQLite checkpoints", () => {
  it("are made by a worker thread, not by commits on the event loop", async () => {
    const { grewWhileIdle, store } = await writeAndWatch(100);
    expect(grewWhileIdle).toBe(true);
    await store.close(); // and the worker stops with the store
  });

  it("are left to the committing thread with checkpointInterval 0", async () => {
    const { grewWhileIdle, store } = await writeAndWatch(0);
    expect(grewWhileIdle).toBe(false);
    await store.close();
  });
});
