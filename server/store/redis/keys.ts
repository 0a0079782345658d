/**
 * The Redis key scheme: every key the store reads or writes is named here.
 *
 * Key layout (prefix `P`, default `solo`); the `{…}` part is the Redis Cluster hash tag, so
 * all keys of one user live in one slot and every script touches that slot only:
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | `P:{u:<userId>}:s:<sessionId>` | hash | the session record; TTL = token lifetime left + tombstone retention |
 * | `P:{u:<userId>}:live` | sorted set | the user's live session ids, by `createdAt` |
 * | `P:{u:<userId>}:v` | string | the user's version, bumped by every change to the live set |
 * | `P:{u:<userId>}:replaced` | sorted set | the user's `replaced` tombstones (global-index members), by `ended.at`; capped |
 * | `P:sid:<sessionId>` | string | the session's user id (lookup by id); same TTL as the record |
 * | `P:{g}:created` `:exp` `:seen` | sorted sets | global indexes of live sessions (listing, sweeping, counting) |
 * | `P:{g}:ended` | sorted set | ended sessions by `expiresAt`, for `purge` |
 * | `P:{g}:audit` | stream | the audit trail, `MAXLEN ~ auditMaxLength` |
 * | `P:{g}:ends` | stream | ended sessions (`s` id, `e` the record's `ended`), `MAXLEN ~ endsMaxLength`, read by every node |
 * | `P:dlv:<sessionId>` | string | delivery state of the session's revocation notice; TTL = audit retention |
 * | `P:once:<key>` | string | a single-use marker (`useOnce`, e.g. a spent dispute capability); `SET NX`, TTL = until − now, at least a minute |
 *
 * The members of the global indexes (and of `replaced`) are written by `codec.ts` (`member`):
 * each names its record's key without another lookup.
 *
 * @module
 */

/** What a key prefix may contain (it also names the connections, which allow no spaces). */
export const KEY_PREFIX = /^[\w.:-]{1,64}$/;

/** The names of the store's keys under one prefix (see the table above). */
export class KeyScheme {
  readonly prefix: string;
  /** Global index: live sessions by (createdAt, id), for listing and counting. */
  readonly created: string;
  /** Global index: live sessions by `expiresAt`, for the sweep. */
  readonly exp: string;
  /** Global index: live sessions by `lastSeenAt`, for the sweep. */
  readonly seen: string;
  /** Ended sessions by `expiresAt`, for `purge`. */
  readonly ended: string;
  /** The audit trail (a stream). */
  readonly audit: string;
  /** The ends stream every node reads. */
  readonly ends: string;

  /** Throws a TypeError for a prefix that does not match {@link KEY_PREFIX}. */
  constructor(prefix: string) {
    if (typeof prefix !== "string" || !KEY_PREFIX.test(prefix)) {
      throw new TypeError(
        `RedisStore: keyPrefix must match ${KEY_PREFIX} (no braces: they are hash tags), got "${String(prefix)}"`,
      );
    }
    this.prefix = prefix;
    this.created = this.#global("created");
    this.exp = this.#global("exp");
    this.seen = this.#global("seen");
    this.ended = this.#global("ended");
    this.audit = this.#global("audit");
    this.ends = this.#global("ends");
  }

  /** A session's record (hash). */
  record(userId: string, sessionId: string): string {
    return this.#user(userId, `s:${sessionId}`);
  }

  /** The user's live session ids (sorted set). */
  live(userId: string): string {
    return this.#user(userId, "live");
  }

  /** The user's version (string). */
  version(userId: string): string {
    return this.#user(userId, "v");
  }

  /** The user's `replaced` tombstones (sorted set). */
  replaced(userId: string): string {
    return this.#user(userId, "replaced");
  }

  /** A key in a user's slot that the store never writes: for probing what scripts may touch. */
  probe(): string {
    return this.#user("probe", "x");
  }

  /** A session's user id (string). */
  sid(sessionId: string): string {
    return `${this.prefix}:sid:${sessionId}`;
  }

  /** The delivery state of a session's revocation notice (string). */
  delivery(sessionId: string): string {
    return `${this.prefix}:dlv:${sessionId}`;
  }

  /** A single-use marker (string): see `once.ts`. */
  once(key: string): string {
    return `${this.prefix}:once:${key}`;
  }

  #user(userId: string, suffix: string): string {
    return `${this.prefix}:{u:${userId}}:${suffix}`;
  }

  #global(name: string): string {
    return `${this.prefix}:{g}:${name}`;
  }
}
