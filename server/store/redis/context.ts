/**
 * What the parts of the Redis store share: the connection with its scripts, the key scheme,
 * the settings, the session-to-user cache, how ends reach the ends stream, and what a write
 * waits for before it is acknowledged (`WAIT`).
 *
 * @module
 */

import { SoloError } from "../../errors/solo-error.js";
import { BoundedMap } from "../../util/bounded-map.js";
import type { Pipeline, RedisClient, ReplicaAck } from "./connection.js";
import type { KeyScheme } from "./keys.js";
import type { Scripts } from "./scripts.js";

/** The shortest Redis TTL given to a record (a record is never born expired). */
const MIN_TTL = 60_000;
/** Sessions looked up by id remember their user here (ids never change user). */
const USER_CACHE_SIZE = 10_000;

/** The resolved settings of a Redis store (see `RedisStoreOptions`). */
export interface RedisSettings {
  tombstoneRetention: number;
  auditRetention: number;
  auditMaxLength: number;
  endsMaxLength: number;
  maxClaimAttempts: number;
  /** Replicas a session write waits for (`WAIT`) before it is acknowledged; null for none. */
  replicas: ReplicaAck | null;
}

/** The state the session operations, the indexes and the audit trail of one store share. */
export class RedisContext {
  readonly client: RedisClient;
  /**
   * True on Redis Cluster: the user's slot, the global indexes' and each lookup key's may be
   * on different servers, so commands on different slots are never in one pipeline and keep
   * no order among themselves.
   */
  readonly clustered: boolean;
  readonly scripts: Scripts;
  readonly keys: KeyScheme;
  readonly settings: RedisSettings;
  /** Session id → user id, for the operations by id. */
  readonly userOf = new BoundedMap<string, string>(USER_CACHE_SIZE);
  /** Reports failures of work nobody awaits (the ends appended after a commit). */
  readonly onError: (error: Error) => void;
  /**
   * True when scripts append ends to the ends stream inside their commit; false where a
   * script may not reach a second slot. Set by `RedisStore.ready`.
   */
  endsInScript = true;

  constructor(
    parts: Pick<RedisContext, "client" | "clustered" | "scripts" | "keys" | "settings">,
    onError: ((error: Error) => void) | undefined,
  ) {
    this.client = parts.client;
    this.clustered = parts.clustered;
    this.scripts = parts.scripts;
    this.keys = parts.keys;
    this.settings = parts.settings;
    this.onError = (error) => onError?.(error);
  }

  /** Redis TTL of a record: what is left of its token's lifetime, plus the tombstone retention. */
  ttl(expiresAt: number, now: number): number {
    return Math.max(MIN_TTL, Math.max(0, expiresAt - now) + this.settings.tombstoneRetention);
  }

  /**
   * Adds `WAIT <replicas> <timeout>` to a pipeline of writes when writes wait for replicas: the
   * reply then says how many replicas have every write this connection made so far (on a
   * cluster, to that pipeline's server).
   */
  waitFor(pipeline: Pipeline): Pipeline {
    const replicas = this.settings.replicas;
    return replicas ? pipeline.wait(replicas.wait, replicas.timeout) : pipeline;
  }

  /**
   * Throws `store_unavailable` when fewer replicas than required confirmed the writes (`count`:
   * the reply of the `WAIT` that {@link waitFor} added). The writes are in the primary then, but
   * a failover could lose them, so they are not acknowledged.
   */
  confirm(count: unknown): void {
    const replicas = this.settings.replicas;
    if (replicas && !(typeof count === "number" && count >= replicas.wait)) {
      throw new SoloError(
        "store_unavailable",
        { retryAfter: 1 },
        `Redis: ${String(count)} of ${replicas.wait} replicas confirmed the write within ${replicas.timeout} ms.`,
      );
    }
  }

  /** The scripts' ends-stream argument: its MAXLEN when they append to it, '0' when they do not. */
  endsArg(): string {
    return this.endsInScript ? String(this.settings.endsMaxLength) : "0";
  }
}
