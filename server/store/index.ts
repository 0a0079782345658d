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
import { connectionOptions, type RedisTarget, type ReplicaAck } from "./redis/connection.js";
import { RedisStore } from "./redis/store.js";
import { SqliteStore } from "./sqlite/store.js";
import type { SessionStore } from "./types.js";

/** What opening a store reads of the server's resolved options. */
export interface OpenStoreOptions {
  store: "sqlite" | "memory" | "redis" | "postgres" | SessionStore;
  dataDir: string;
  /** The Redis deployment, what session writes wait for (`WAIT`), and the key prefix. */
  redis: { target: RedisTarget; replicas: ReplicaAck | null; keyPrefix: string };
  /** With `store: "postgres"`: where the tables live and the pool (settings, or the app's own). */
  postgres: { url: string | null; pool: PoolSettings | pg.Pool; schema: string; tablePrefix: string };
  /** Names the PostgreSQL store's connections (`application_name`). */
  nodeId: string;
  tombstoneRetention: number;
  auditRetention: number;
  /** The receivers of session events (ids): a store opened with any keeps an outbox for them. */
  receivers: readonly { id: string }[];
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
  const ids = options.receivers.map((r) => r.id);
  switch (store) {
    case "sqlite":
      return new SqliteStore({ filename: join(options.dataDir, SQLITE_FILE), receivers: ids });
    case "memory":
      return new MemoryStore({ receivers: ids });
    case "redis":
      return new RedisStore({
        ...connectionOptions(options.redis.target),
        replicas: options.redis.replicas ?? false,
        keyPrefix: options.redis.keyPrefix,
        tombstoneRetention: options.tombstoneRetention,
        auditRetention: options.auditRetention,
      });
    case "postgres":
      return new PostgresStore({
        ...(options.postgres.url === null ? {} : { url: options.postgres.url }),
        pool: options.postgres.pool,
        schema: options.postgres.schema,
        tablePrefix: options.postgres.tablePrefix,
        applicationName: `solo-session ${options.nodeId}`.slice(0, 63),
      });
    default:
      throw new TypeError(`createSoloServer: unknown store "${String(store)}"`);
  }
}
