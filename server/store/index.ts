/**
 * Opens the store the options name (`store: "sqlite" | "memory" | "redis"`), or takes the
 * app's own `SessionStore` as given.
 *
 * @module
 */

import { join } from "node:path";
import { MemoryStore } from "./memory/store.js";
import { RedisStore } from "./redis/store.js";
import { SqliteStore } from "./sqlite/store.js";
import type { SessionStore } from "./types.js";

/** What opening a store reads of the server's resolved options. */
export interface OpenStoreOptions {
  store: "sqlite" | "memory" | "redis" | SessionStore;
  dataDir: string;
  redis: { url: string; keyPrefix: string };
  tombstoneRetention: number;
  auditRetention: number;
}

/** The SQLite file inside the data directory. */
export const SQLITE_FILE = "solo.db";

/**
 * Opens the configured store, at once; a store that must connect first says when it can serve
 * through its `ready()`. A SessionStore instance is used as given.
 *
 * @example
 * ```ts
 * const store = openStore(resolveOptions({ authenticate, store: "redis" }));
 * await store.ready?.();
 * ```
 */
export function openStore(options: OpenStoreOptions): SessionStore {
  const store = options.store;
  if (typeof store !== "string") return store;
  switch (store) {
    case "sqlite":
      return new SqliteStore({ filename: join(options.dataDir, SQLITE_FILE) });
    case "memory":
      return new MemoryStore();
    case "redis":
      return new RedisStore({
        url: options.redis.url,
        keyPrefix: options.redis.keyPrefix,
        tombstoneRetention: options.tombstoneRetention,
        auditRetention: options.auditRetention,
      });
    default:
      throw new TypeError(`createSoloServer: unknown store "${String(store)}"`);
  }
}
