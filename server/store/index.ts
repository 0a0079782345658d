/**
 * Opens the store the options name (`store: "sqlite" | "memory" | "redis" | "postgres"`), or
 * takes the app's own `SessionStore` as given.
 *
 * @module
 */

import { join } from "node:path";
import type pg from "pg";
import { MemoryStore } from "./memory/store.js";
import type { PoolSettings } from "./postgres/connection.js";
import { PostgresStore } from "./postgres/store.js";
import { RedisStore } from "./redis/store.js";
import { SqliteStore } from "./sqlite/store.js";
import type { SessionStore } from "./types.js";

/** What opening a store reads of the server's resolved options. */
export interface OpenStoreOptions {
  store: "sqlite" | "memory" | "redis" | "postgres" | SessionStore;
  dataDir: string;
  redis: { url: string; keyPrefix: string };
  /** With `store: "postgres"`: where the tables live and the pool (settings, or the app's own). */
  postgres: { url: string | null; pool: PoolSettings | pg.Pool; schema: string; tablePrefix: string };
  /** Names the PostgreSQL store's connections (`application_name`). */
  nodeId: string;
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
        url: options.redis.url,
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
    case "postgres":
      return openPostgres(options.postgres, options.nodeId);
    default:
      throw new TypeError(`createSoloServer: unknown store "${String(store)}"`);
  }
}

/** A PostgreSQL store, connected and migrated; its connections are named after the node. */
async function openPostgres(postgres: OpenStoreOptions["postgres"], nodeId: string): Promise<PostgresStore> {
  const store = new PostgresStore({
    ...(postgres.url === null ? {} : { url: postgres.url }),
    pool: postgres.pool,
    schema: postgres.schema,
    tablePrefix: postgres.tablePrefix,
    applicationName: `solo-session ${nodeId}`.slice(0, 63),
  });
  try {
    await store.ready();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
