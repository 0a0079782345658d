/**
 * Opens the store the options name (`store: "sqlite" | "memory" | "redis"`), or takes the
 * app's own `SessionStore` as given.
 *
 * @module
 */

import { join } from "node:path";
import { MemoryStore } from "./memory/store.js";
import { connectionOptions, type RedisTarget, type ReplicaAck } from "./redis/connection.js";
import { RedisStore } from "./redis/store.js";
import { SqliteStore } from "./sqlite/store.js";
import type { SessionStore } from "./types.js";

/** What opening a store reads of the server's resolved options. */
export interface OpenStoreOptions {
  store: "sqlite" | "memory" | "redis" | SessionStore;
  dataDir: string;
  /** The Redis deployment, what session writes wait for (`WAIT`), and the key prefix. */
  redis: { target: RedisTarget; replicas: ReplicaAck | null; keyPrefix: string };
  tombstoneRetention: number;
  auditRetention: number;
}

/** The SQLite file inside the data directory. */
export const SQLITE_FILE = "solo.db";

/** Opens the configured store. A SessionStore instance is used as given. */
export async function openStore(options: OpenStoreOptions): Promise<SessionStore> {
  const store = options.store;
  if (typeof store !== "string") return store;
  switch (store) {
    case "sqlite":
      return new SqliteStore({ filename: join(options.dataDir, SQLITE_FILE) });
    case "memory":
      return new MemoryStore();
    case "redis": {
      const redis = new RedisStore({
        ...connectionOptions(options.redis.target),
        replicas: options.redis.replicas ?? false,
        keyPrefix: options.redis.keyPrefix,
        tombstoneRetention: options.tombstoneRetention,
        auditRetention: options.auditRetention,
      });
      try {
        await redis.ready();
      } catch (error) {
        await redis.close();
        throw error;
      }
      return redis;
    }
    default:
      throw new TypeError(`createSoloServer: unknown store "${String(store)}"`);
  }
}
