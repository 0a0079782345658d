/**
 * The session registry on Redis, for several server nodes. Its parts: the key scheme
 * (`keys.ts`), the codec (`codec.ts`), the Lua scripts (`scripts.ts`), the deployment and its
 * connections (`connection.ts`), the session operations (`sessions.ts`), the global indexes
 * (`indexes.ts`) and the audit trail (`audit.ts`). The scale-out wiring that reads the ends
 * stream lives with the realtime side (`server/realtime/redis/`).
 *
 * @module
 */

import { SoloError } from "../../errors/solo-error.js";
import { STORE_DEFAULTS } from "../defaults.js";
import { storeClosed, toStoreError } from "../shared/errors.js";
import { clampLimit, liveAfter } from "../shared/paging.js";
import type {
  AuditEvent,
  AuditQuery,
  ClaimResult,
  Decide,
  DeliveryStatus,
  ListLiveQuery,
  LivePage,
  NewAuditEvent,
  SessionEnd,
  SessionRecord,
  SessionStore,
} from "../types.js";
import { RedisAudit } from "./audit.js";
import {
  isCluster,
  quit,
  type RedisClient,
  type RedisConnectionOptions,
  RedisConnections,
  type ReplicasOption,
  redisTarget,
  replicaAck,
  waitReady,
} from "./connection.js";
import { RedisContext } from "./context.js";
import { SessionIndexes } from "./indexes.js";
import { KeyScheme } from "./keys.js";
import { useOnce } from "./once.js";
import { defineScripts } from "./scripts.js";
import { SessionOps } from "./sessions.js";

/**
 * Options of {@link RedisStore}. Durations are in milliseconds. The deployment is one of `url`
 * (one server: the default), `cluster` (Redis Cluster) or `sentinels` with `name` (Sentinel).
 */
export interface RedisStoreOptions extends RedisConnectionOptions {
  /**
   * Replicas that must have each session write (a claim, an end) before it is acknowledged:
   * the commit is followed by `WAIT <wait> <timeout>`, and a write fewer replicas confirm in
   * time fails with `store_unavailable`. `false` waits for none. Redis replication is
   * asynchronous: without it a failover can lose acknowledged claims and ends (docs/redis.md).
   * @default `{ wait: 1, timeout: 500 }` with `cluster` or `sentinels`; none with `url`
   */
  replicas?: ReplicasOption;
  /** Prefix of every key: letters, digits, `_ . : -` (no braces: those are the hash tags). @default "solo" */
  keyPrefix?: string;
  /**
   * Ended sessions are kept this long after their token expires. A record's Redis TTL is
   * the token's remaining lifetime plus this. @default 24 hours
   */
  tombstoneRetention?: number;
  /** Delivery states of revocation notices are kept this long (the audit retention). @default 90 days */
  auditRetention?: number;
  /** Approximate cap on the audit stream (`XADD MAXLEN ~`), as on every backend. @default 100_000 */
  auditMaxLength?: number;
  /**
   * Approximate cap on the ends stream (`XADD MAXLEN ~`), the ended sessions every node reads
   * to tell its sockets. A node that falls further behind than this re-checks its sockets
   * against the store instead. @default 10_000
   */
  endsMaxLength?: number;
  /** A command with no answer after this long fails with `store_unavailable`. @default 2000 */
  commandTimeout?: number;
  /** How often a claim re-reads and re-decides after losing a race for the same user. @default 100 */
  maxClaimAttempts?: number;
  /** Connection errors (refused, reset) as they happen; the store keeps reconnecting. @default ignored */
  onError?: (error: Error) => void;
}

/**
 * The session registry on Redis, for several server nodes (`SOLO_STORE=redis`). The key
 * layout is in `keys.ts`; how a claim commits, in `sessions.ts`.
 *
 * Every script that ends sessions also appends them to the ends stream `P:{g}:ends` in the
 * same atomic step, so an end is announced even if this process dies right after the commit.
 * Where scripts may not reach a second slot (Redis Cluster, some proxies: probed by
 * {@link RedisStore.ready}), the entry is appended by a separate command right after the
 * commit's reply instead.
 *
 * While Redis is unreachable every method rejects at once with `SoloError("store_unavailable")`
 * (no offline queue, no silent retries); the connection keeps retrying and the store resumes
 * by itself.
 *
 * @example
 * ```ts
 * const store = new RedisStore({ url: "redis://127.0.0.1:6379" });
 * await store.ready();
 * const solo = await createSoloServer({ authenticate, store });
 * ```
 */
export class RedisStore implements SessionStore {
  /** The command connection (exposed for health checks and reconnect events). */
  readonly client: RedisClient;
  /** Opens the other connections to the same deployment (the scale-out's, the rate limiter's). */
  readonly connections: RedisConnections;
  readonly #ctx: RedisContext;
  readonly #sessions: SessionOps;
  readonly #indexes: SessionIndexes;
  readonly #audit: RedisAudit;
  #closed = false;

  constructor(options: RedisStoreOptions = {}) {
    const defaults = STORE_DEFAULTS.redis;
    const keys = new KeyScheme(options.keyPrefix ?? defaults.keyPrefix);
    const endsMaxLength = options.endsMaxLength ?? defaults.endsMaxLength;
    if (!Number.isInteger(endsMaxLength) || endsMaxLength < 1) {
      throw new TypeError(`RedisStore: endsMaxLength must be a positive integer, got ${String(endsMaxLength)}`);
    }
    const target = redisTarget(options, "RedisStore: ", defaults.url);
    const replicas = replicaAck(options.replicas, target, "RedisStore: replicas", defaults.replicas);
    this.connections = new RedisConnections(target, {
      commandTimeout: options.commandTimeout ?? defaults.commandTimeout,
      prefix: keys.prefix,
    });
    this.client = this.connections.open("store");
    const onError = options.onError;
    this.client.on("error", (error: Error) => onError?.(error));
    const settings = {
      tombstoneRetention: options.tombstoneRetention ?? STORE_DEFAULTS.tombstoneRetention,
      auditRetention: options.auditRetention ?? STORE_DEFAULTS.auditRetention,
      auditMaxLength: options.auditMaxLength ?? STORE_DEFAULTS.auditMaxLength,
      endsMaxLength,
      maxClaimAttempts: options.maxClaimAttempts ?? defaults.maxClaimAttempts,
      replicas,
    };
    this.#ctx = new RedisContext(
      { client: this.client, clustered: isCluster(this.client), scripts: defineScripts(this.client), keys, settings },
      onError,
    );
    this.#indexes = new SessionIndexes(this.#ctx);
    this.#sessions = new SessionOps(this.#ctx, this.#indexes);
    this.#audit = new RedisAudit(this.#ctx);
  }

  /**
   * Resolves once connected; rejects with `store_unavailable` if Redis cannot be reached
   * within `timeout` ms (the client keeps trying in the background until `close()`). Also
   * probes whether a script may touch keys in two slots (refused on Redis Cluster and by
   * some proxies): if so, ends are appended to the ends stream inside their commit, else
   * right after it (see {@link RedisStore.endsInScript}). On a cluster the probe's first key
   * and the ends stream are in two slots of different shards, or of one.
   */
  async ready(timeout = 10_000): Promise<void> {
    await waitReady(this.client, timeout);
    try {
      await this.client.eval("return 1", 2, this.#ctx.keys.probe(), this.endsKey);
      this.#ctx.endsInScript = true;
    } catch (error) {
      const mapped = toStoreError(error);
      if (mapped instanceof SoloError) throw mapped;
      this.#ctx.endsInScript = false;
    }
  }

  /** Replicas each session write waits for (`WAIT`) before it is acknowledged; 0 for none. */
  get replicasWaitedFor(): number {
    return this.#ctx.settings.replicas?.wait ?? 0;
  }

  /** The stream every end is appended to (`P:{g}:ends`), read by every node. */
  get endsKey(): string {
    return this.#ctx.keys.ends;
  }

  /**
   * True when ends reach the ends stream inside the commit itself (one Redis server, or a
   * Sentinel primary); false where scripts may not touch a second slot, and the entry follows
   * the commit as a separate command (lost if this process dies in between). Known after
   * {@link RedisStore.ready}.
   */
  get endsInScript(): boolean {
    return this.#ctx.endsInScript;
  }

  claim(session: SessionRecord, decide: Decide): Promise<ClaimResult> {
    return this.#run(() => this.#sessions.claim(session, decide));
  }

  get(id: string): Promise<SessionRecord | null> {
    return this.#run(() => this.#sessions.get(id));
  }

  listLive(userId: string): Promise<SessionRecord[]> {
    return this.#run(() => this.#sessions.listLive(userId));
  }

  listAllLive(query: ListLiveQuery): Promise<LivePage> {
    return this.#run(() => {
      const limit = clampLimit(query.limit, STORE_DEFAULTS.page.live);
      const after = liveAfter(query.cursor);
      return query.userId !== undefined
        ? this.#sessions.pageOfUser(query.userId, after, limit)
        : this.#indexes.listAll(after, limit);
    });
  }

  end(id: string, end: SessionEnd): Promise<SessionRecord | null> {
    return this.#run(() => this.#sessions.end(id, end));
  }

  endAll(userId: string, end: SessionEnd): Promise<SessionRecord[]> {
    return this.#run(() => this.#sessions.endAll(userId, end));
  }

  touch(id: string, at: number): Promise<void> {
    return this.#run(() => this.#sessions.touch(id, at));
  }

  markPresence(ids: readonly string[], at: number): Promise<void> {
    return this.#run(() => this.#sessions.markPresence(ids, at));
  }

  findStale(now: number, idleBefore: number, limit: number): Promise<SessionRecord[]> {
    return this.#run(() => this.#indexes.findStale(now, idleBefore, limit));
  }

  purge(sessionsBefore: number, auditBefore: number): Promise<number> {
    return this.#run(async () => {
      const purged = await this.#indexes.purge(sessionsBefore);
      await this.#audit.purge(auditBefore);
      return purged;
    });
  }

  countLive(): Promise<number> {
    return this.#run(() => this.#indexes.countLive());
  }

  useOnce(key: string, until: number): Promise<boolean> {
    return this.#run(() => useOnce(this.#ctx, key, until));
  }

  appendAudit(event: NewAuditEvent): Promise<string> {
    return this.#run(() => this.#audit.append(event));
  }

  updateDelivery(sessionId: string, status: DeliveryStatus): Promise<void> {
    return this.#run(() => this.#audit.updateDelivery(sessionId, status));
  }

  queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    return this.#run(() => this.#audit.query(query));
  }

  async ping(): Promise<void> {
    await this.#run(() => this.client.ping());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await quit(this.client);
  }

  /** Runs a store operation; connection failures become `store_unavailable`. */
  async #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) throw storeClosed();
    try {
      return await operation();
    } catch (error) {
      throw toStoreError(error);
    }
  }
}
