/**
 * The defaults of the stores, in one place. `options/options.ts` builds its own `DEFAULTS`
 * (the Redis URL and key prefix, the retentions) from these and re-exports them, so every
 * default of solo-session is found from there. Durations are in milliseconds.
 *
 * @module
 */

const HOUR = 3_600_000;

/**
 * What every store does when an option is not given.
 *
 * @example
 * ```ts
 * new RedisStore({ commandTimeout: STORE_DEFAULTS.redis.commandTimeout * 2 });
 * ```
 */
export const STORE_DEFAULTS = {
  /** Ended sessions are kept this long after their token expires. */
  tombstoneRetention: 24 * HOUR,
  /** Audit events (and, on Redis, the delivery states of notices) are kept this long. */
  auditRetention: 90 * 24 * HOUR,
  /**
   * The most audit events a store keeps, on every backend: the oldest go first. Memory drops
   * them on append; SQLite deletes them in the transaction of each batch of audit writes;
   * Redis trims its stream with `XADD MAXLEN ~` (approximately: a few more may stay).
   */
  auditMaxLength: 100_000,
  /** Page sizes of the listings (`listAllLive`, `queryAudit`): the default and the largest. */
  page: { live: 50, audit: 100, max: 500 },
  sqlite: {
    /** How long a writer waits for another process's lock before failing with `store_unavailable`. */
    busyTimeout: 5000,
    /** How often a worker thread checkpoints the WAL into the database file; 0 leaves it to SQLite. */
    checkpointInterval: 100,
  },
  redis: {
    url: "redis://127.0.0.1:6379",
    /** Prefix of every key and pub/sub channel. */
    keyPrefix: "solo",
    /** A command with no answer after this long fails with `store_unavailable`. */
    commandTimeout: 2000,
    /** How often a claim re-reads and re-decides after losing a race for the same user. */
    maxClaimAttempts: 100,
    /** Approximate cap on the ends stream, the ended sessions every node reads. */
    endsMaxLength: 10_000,
    /**
     * Replicas that must have a session write (`WAIT`) before it is acknowledged, by deployment:
     * none on one server, one with Redis Cluster or Sentinel (a failover then loses no
     * acknowledged claim or end); and how long a write waits for them before failing, in ms.
     */
    replicas: { wait: { server: 0, cluster: 1, sentinel: 1 }, timeout: 500 },
  },
  postgres: {
    /** The schema of the store's tables (created if missing). */
    schema: "public",
    /** Prefix of every table, index and notification channel of the store. */
    tablePrefix: "solo_",
    /**
     * The store's own connection pool: at most `max` connections per node; a call that waits
     * longer than `connectionTimeoutMillis` for one fails with `store_unavailable`; a
     * connection idle for `idleTimeoutMillis` is closed.
     */
    pool: { max: 10, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000 },
    /**
     * A statement with no answer after this long fails with `store_unavailable` (the server
     * cancels it: `statement_timeout`); a transaction idle this long is ended by the server.
     */
    queryTimeout: 5000,
    /** The ends table (every ended session, for every node to read) keeps at most this many rows... */
    endsMaxLength: 10_000,
    /** ...and none older than this. */
    endsRetention: HOUR,
    /** `application_name` of the store's connections (seen in `pg_stat_activity`). */
    applicationName: "solo-session",
  },
} as const;
