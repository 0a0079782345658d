import { rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { ReplyError } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { SoloError } from "../../server/errors/solo-error.js";
import { toStoreError } from "../../server/store/shared/errors.js";
import { SqliteStore } from "../../server/store/sqlite/store.js";
import type { Decide } from "../../server/store/types.js";
import { record } from "../../server/testing/contract/fixtures.js";
import { tempDir } from "../support/server.js";

const admit: Decide = () => ({ kind: "admit", evict: [] });
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const undo of cleanup.splice(0).reverse()) await undo();
});

function codeOf(error: unknown): string | null {
  return error instanceof SoloError ? error.code : null;
}

describe("one error mapping for every store", () => {
  it("SQLite: a write lock held by another connection past busyTimeout is store_unavailable (503), and the store resumes", async () => {
    const dir = tempDir("solo-busy-");
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const filename = join(dir, "solo.db");
    const store = new SqliteStore({ filename, busyTimeout: 20, checkpointInterval: 0 });
    cleanup.push(() => store.close());
    const other = new Database(filename);
    cleanup.push(() => other.close());
    other.exec("BEGIN IMMEDIATE");

    const claim = await store.claim(record("alice"), admit).catch((e: unknown) => e);
    expect(codeOf(claim)).toBe("store_unavailable");
    expect((claim as SoloError).status).toBe(503);
    const appended = await store
      .appendAudit({
        kind: "login",
        at: 1,
        userId: "alice",
        sessionId: null,
        device: null,
        node: "n",
        by: null,
        delivery: null,
        detail: null,
      })
      .catch((e: unknown) => e);
    expect(codeOf(appended)).toBe("store_unavailable");
    // Reads do not wait for the writer (WAL).
    expect(await store.countLive()).toBe(0);

    other.exec("ROLLBACK");
    const s = record("alice");
    expect((await store.claim(s, admit)).kind).toBe("admitted");
    expect(await store.get(s.id)).toEqual(s);
  });

  it("maps SQLite's busy and locked codes (with their extended forms) and nothing else", () => {
    for (const code of ["SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED", "SQLITE_LOCKED_SHAREDCACHE"]) {
      expect(codeOf(toStoreError(new Database.SqliteError("locked", code))), code).toBe("store_unavailable");
    }
    for (const code of ["SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_FULL", "SQLITE_CORRUPT", "SQLITE_BUSYNESS"]) {
      const error = new Database.SqliteError("other", code);
      expect(toStoreError(error), code).toBe(error);
    }
  });

  it("maps Redis Cluster and Sentinel failover replies and client failures to store_unavailable, and nothing else", () => {
    for (const message of [
      "CLUSTERDOWN The cluster is down",
      "MOVED 3999 127.0.0.1:7002",
      "ASK 3999 127.0.0.1:7002",
      "TRYAGAIN Multiple keys request during rehashing of slot",
      "READONLY You can't write against a read only replica.",
      "NOREPLICAS Not enough good replicas to write.",
      "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    ]) {
      expect(codeOf(toStoreError(new ReplyError(message))), message).toBe("store_unavailable");
    }
    // A transaction that did not run because its commands met a failover: transient. One that
    // met a bug: passed through.
    const aborted = Object.assign(new ReplyError("EXECABORT Transaction discarded because of previous errors."), {
      previousErrors: [new ReplyError("MOVED 3999 127.0.0.1:7002")],
    });
    expect(codeOf(toStoreError(aborted))).toBe("store_unavailable");
    const buggy = Object.assign(new ReplyError("EXECABORT Transaction discarded because of previous errors."), {
      previousErrors: [new ReplyError("ERR wrong number of arguments for 'zadd' command")],
    });
    expect(toStoreError(buggy)).toBe(buggy);
    for (const message of ["Cluster isn't ready", "Failed to refresh slots cache.", "All sentinels are unreachable."]) {
      expect(codeOf(toStoreError(new Error(message))), message).toBe("store_unavailable");
    }
    const notTransient = new ReplyError("CROSSSLOT Keys in request don't hash to the same slot");
    expect(toStoreError(notTransient)).toBe(notTransient);
  });

  it("passes a SoloError, a bug and a non-error through unchanged", () => {
    const solo = new SoloError("invalid_request");
    const bug = new TypeError("undefined is not a function");
    expect(toStoreError(solo)).toBe(solo);
    expect(toStoreError(bug)).toBe(bug);
    expect(toStoreError("text")).toBe("text");
  });
});
