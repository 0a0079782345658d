/**
 * What the parts of the Redis store share: the connection with its scripts, the key scheme,
 * the settings, the session-to-user cache, and how ends reach the ends stream.
 *
 * @module
 */

import type { Redis } from "ioredis";
import { BoundedMap } from "../../util/bounded-map.js";
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
}

/** The state the session operations, the indexes and the audit trail of one store share. */
export class RedisContext {
  readonly client: Redis;
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
    parts: Pick<RedisContext, "client" | "scripts" | "keys" | "settings">,
    onError: ((error: Error) => void) | undefined,
  ) {
    this.client = parts.client;
    this.scripts = parts.scripts;
    this.keys = parts.keys;
    this.settings = parts.settings;
    this.onError = (error) => onError?.(error);
  }

  /** Redis TTL of a record: what is left of its token's lifetime, plus the tombstone retention. */
  ttl(expiresAt: number, now: number): number {
    return Math.max(MIN_TTL, Math.max(0, expiresAt - now) + this.settings.tombstoneRetention);
  }

  /** The scripts' ends-stream argument: its MAXLEN when they append to it, '0' when they do not. */
  endsArg(): string {
    return this.endsInScript ? String(this.settings.endsMaxLength) : "0";
  }
}
