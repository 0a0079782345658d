import { Redis } from "ioredis";
import { SoloError } from "../errors.js";
import type { RevocationReason } from "../protocol.js";
import { applyDecision, clampLimit, decodeCursor, encodeCursor, isStale } from "./shared.js";
import {
  type AuditEvent,
  type AuditQuery,
  type ClaimResult,
  DELIVERY_RANK,
  type Decide,
  type DeliveryStatus,
  type DeviceInfo,
  ENDING_KINDS,
  type EndedBy,
  type ListLiveQuery,
  type LivePage,
  type NewAuditEvent,
  REPLACED_TOMBSTONES_PER_USER,
  type SessionEnd,
  type SessionRecord,
  type SessionStore,
} from "./types.js";

/** Options of {@link RedisStore}. Durations are in milliseconds. */
export interface RedisStoreOptions {
  /** Connection URL (`redis://`, `rediss://`, with password or db number). @default "redis://127.0.0.1:6379" */
  url?: string;
  /** Prefix of every key: letters, digits, `_ . : -` (no braces: those are the hash tags). @default "solo" */
  keyPrefix?: string;
  /**
   * Ended sessions are kept this long after their token expires. A record's Redis TTL is
   * the token's remaining lifetime plus this. @default 24 hours
   */
  tombstoneRetention?: number;
  /** Delivery states of revocation notices are kept this long (the audit retention). @default 90 days */
  auditRetention?: number;
  /** Approximate cap on the audit stream (`XADD MAXLEN ~`). @default 100_000 */
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

const HOUR = 3_600_000;
const DEFAULTS = {
  url: "redis://127.0.0.1:6379",
  keyPrefix: "solo",
  tombstoneRetention: 24 * HOUR,
  auditRetention: 90 * 24 * HOUR,
  auditMaxLength: 100_000,
  endsMaxLength: 10_000,
  commandTimeout: 2000,
  maxClaimAttempts: 100,
} as const;

/** What a key prefix may contain (it also names the connections, which allow no spaces). */
export const KEY_PREFIX = /^[\w.:-]{1,64}$/;
/** The shortest Redis TTL given to a record (a record is never born expired). */
const MIN_TTL = 60_000;
/** Sessions looked up by id remember their user here (ids never change user). */
const USER_CACHE_SIZE = 10_000;
/** Redis error replies that mean "not available right now" rather than "wrong command". */
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|NOREPLICAS|MISCONF)\b/;
/** Client-side failures of a command that never got (or lost) its answer. */
const TRANSIENT_CLIENT =
  /Connection is closed|Stream isn't writeable|Command timed out|Command aborted|max retries|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN/i;

// All scripts touch the keys of ONE user (one hash slot), plus the ends stream when the
// deployment allows a script to reach another slot (see RedisStore.ready); every key they use is in KEYS.

/**
 * Shared by the scripts that end sessions: appends an ended session to the ends stream (the
 * last key) in the same atomic step as the end itself. `maxlen` is '0' when the stream is
 * written outside the script (the deployment refuses scripts across slots); it is then not a key.
 */
const ANNOUNCE_LUA = `
local function announce(maxlen, id, ended)
  if maxlen ~= '0' then redis.call('XADD', KEYS[#KEYS], 'MAXLEN', '~', maxlen, '*', 's', id, 'e', ended) end
end
`;

/** Claim commit. KEYS: version, live, new record, evicted records, [ends stream]. ARGV: expected
 * version, new id, createdAt, ttl, ended JSON, ends MAXLEN ('0': no stream key), evicted ids,
 * then the new record's field/value pairs.
 * Returns 1 when written, 0 when the version moved (another writer won), -1 for a duplicate id. */
const CLAIM_LUA = `${ANNOUNCE_LUA}
local n = #KEYS - 3 - (ARGV[6] ~= '0' and 1 or 0)
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
for i = 1, n do
  if redis.call('EXISTS', KEYS[3 + i]) == 1 then redis.call('HSET', KEYS[3 + i], 'ended', ARGV[5]) end
  redis.call('ZREM', KEYS[2], ARGV[6 + i])
end
local fields = {}
for i = 7 + n, #ARGV do fields[#fields + 1] = ARGV[i] end
local ttl = tonumber(ARGV[4])
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('INCR', KEYS[1])
for i = 1, 2 do
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
for i = 1, n do announce(ARGV[6], ARGV[6 + i], ARGV[5]) end
return 1
`;

/** Ends several live sessions of one user if the version is unchanged. KEYS: version, live,
 * records, [ends stream]. ARGV: expected version, ended JSON, ends MAXLEN ('0': no stream key), ids.
 * Returns 1, or 0 on a version conflict. */
const END_MANY_LUA = `${ANNOUNCE_LUA}
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
local last = #KEYS - (ARGV[3] ~= '0' and 1 or 0)
local ttl = 1000
for i = 3, last do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[i], 'ended', ARGV[2])
    ttl = math.max(ttl, redis.call('PTTL', KEYS[i]))
  end
  redis.call('ZREM', KEYS[2], ARGV[i + 1])
  announce(ARGV[3], ARGV[i + 1], ARGV[2])
end
if last > 2 then
  redis.call('INCR', KEYS[1])
  if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return 1
`;

/** Ends one session if live. KEYS: version, live, record, [ends stream]. ARGV: ended JSON, id,
 * ends MAXLEN ('0': no stream key). Returns the record or nil. */
const END_ONE_LUA = `${ANNOUNCE_LUA}
if redis.call('EXISTS', KEYS[3]) == 0 or redis.call('HEXISTS', KEYS[3], 'ended') == 1 then return nil end
redis.call('HSET', KEYS[3], 'ended', ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], math.max(redis.call('PTTL', KEYS[3]), 1000)) end
announce(ARGV[3], ARGV[2], ARGV[1])
return redis.call('HGETALL', KEYS[3])
`;

/** Moves a time field of a live record forward. KEYS: record. ARGV: field, at.
 * Returns the record's createdAt if it moved, nil otherwise. */
const ADVANCE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'ended') == 1 then return false end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and tonumber(cur) >= tonumber(ARGV[2]) then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], 'createdAt')
`;

/** Deletes an ended record whose token expired before a time. KEYS: record, live. ARGV: id, before. */
const PURGE_ONE_LUA = `
if redis.call('HEXISTS', KEYS[1], 'ended') == 0 then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'expiresAt')) >= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

/** Moves a delivery state forward only. KEYS: delivery key. ARGV: status, ttl. */
const DELIVERY_LUA = `
local rank = { pending = 0, delivered = 1, acknowledged = 2 }
local cur = redis.call('GET', KEYS[1])
if cur and rank[cur] and rank[cur] >= rank[ARGV[1]] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

type Arg = string | number;

/** One entry of the ends stream: a session that ended, and how (the record's `ended`). */
export interface EndEntry {
  /** Stream id (`<ms>-<seq>`), increasing. */
  id: string;
  sessionId: string;
  ended: SessionEnd;
}

/** Reads an entry of the ends stream; null for anything malformed (it is skipped). */
export function parseEndEntry(id: string, fields: readonly string[]): EndEntry | null {
  const pairs = pairsToObject(fields);
  if (pairs.s === undefined || pairs.e === undefined) return null;
  try {
    const e = JSON.parse(pairs.e) as Partial<SessionEnd> | null;
    if (!e || typeof e.at !== "number" || typeof e.reason !== "string") return null;
    return { id, sessionId: pairs.s, ended: { at: e.at, reason: e.reason, by: e.by ?? null } };
  } catch {
    return null;
  }
}

/** The scripts, as ioredis defines them (EVALSHA with a transparent EVAL fallback after a restart). */
interface Scripts {
  soloClaim(numKeys: number, ...args: Arg[]): Promise<number>;
  soloEndMany(numKeys: number, ...args: Arg[]): Promise<number>;
  soloEndOne(numKeys: number, ...args: Arg[]): Promise<string[] | null>;
  soloAdvance(numKeys: number, ...args: Arg[]): Promise<string | null>;
  soloPurgeOne(numKeys: number, ...args: Arg[]): Promise<number>;
  soloDelivery(numKeys: number, ...args: Arg[]): Promise<number>;
}

/** A global index entry: enough to find the record (and every index entry) without another lookup. */
interface Ref {
  id: string;
  userId: string;
  createdAt: number;
}

/**
 * The session registry on Redis, for several server nodes (`SOLO_STORE=redis`).
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
 *
 * `claim` is optimistic and atomic: it reads the user's version and live sessions, runs the
 * policy's pure `decide` in JS, then commits with one Lua script that checks the version is
 * unchanged and writes the new session and ends the evicted ones (as `replaced`, with `by`) in
 * one step. On a conflict it re-reads and re-decides after a jittered backoff. The global
 * indexes are separate commands (they are in another slot): an entry is added before its
 * session becomes live and removed after it ends, so they hold a superset of the live sessions
 * and every reader checks the record itself. `claim`, `end` and `endAll` return as soon as the
 * commit is in (the caller pushes the notice then); the index removals follow on the same
 * connection without being awaited.
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
  readonly client: Redis;
  readonly #prefix: string;
  readonly #retention: number;
  readonly #auditRetention: number;
  readonly #auditMaxLength: number;
  readonly #endsMaxLength: number;
  readonly #maxAttempts: number;
  readonly #onError: ((error: Error) => void) | undefined;
  #endsInScript = true;
  readonly #scripts: Scripts;
  readonly #userOf = new Map<string, string>();
  #closed = false;

  constructor(options: RedisStoreOptions = {}) {
    const prefix = options.keyPrefix ?? DEFAULTS.keyPrefix;
    if (typeof prefix !== "string" || !KEY_PREFIX.test(prefix)) {
      throw new TypeError(
        `RedisStore: keyPrefix must match ${KEY_PREFIX} (no braces: they are hash tags), got "${String(prefix)}"`,
      );
    }
    this.#prefix = prefix;
    this.#retention = options.tombstoneRetention ?? DEFAULTS.tombstoneRetention;
    this.#auditRetention = options.auditRetention ?? DEFAULTS.auditRetention;
    this.#auditMaxLength = options.auditMaxLength ?? DEFAULTS.auditMaxLength;
    const endsMaxLength = options.endsMaxLength ?? DEFAULTS.endsMaxLength;
    if (!Number.isInteger(endsMaxLength) || endsMaxLength < 1) {
      throw new TypeError(`RedisStore: endsMaxLength must be a positive integer, got ${String(endsMaxLength)}`);
    }
    this.#endsMaxLength = endsMaxLength;
    this.#maxAttempts = options.maxClaimAttempts ?? DEFAULTS.maxClaimAttempts;
    this.client = new Redis(options.url ?? DEFAULTS.url, {
      ...clientOptions(options.commandTimeout ?? DEFAULTS.commandTimeout),
      connectionName: `${prefix}:store`,
    });
    const onError = options.onError;
    this.#onError = onError;
    this.client.on("error", (error: Error) => onError?.(error));
    for (const [name, lua] of Object.entries({
      soloClaim: CLAIM_LUA,
      soloEndMany: END_MANY_LUA,
      soloEndOne: END_ONE_LUA,
      soloAdvance: ADVANCE_LUA,
      soloPurgeOne: PURGE_ONE_LUA,
      soloDelivery: DELIVERY_LUA,
    })) {
      this.client.defineCommand(name, { lua });
    }
    this.#scripts = this.client as unknown as Scripts;
  }

  /**
   * Resolves once connected; rejects with `store_unavailable` if Redis cannot be reached
   * within `timeout` ms (the client keeps trying in the background until `close()`). Also
   * probes whether a script may touch keys in two slots (refused on Redis Cluster and by
   * some proxies): if so, ends are appended to the ends stream inside their commit, else
   * right after it (see {@link RedisStore.endsInScript}).
   */
  async ready(timeout = 10_000): Promise<void> {
    await waitReady(this.client, timeout);
    try {
      await this.client.eval("return 1", 2, this.#k("probe", "x"), this.endsKey);
      this.#endsInScript = true;
    } catch (error) {
      const mapped = toStoreError(error);
      if (mapped instanceof SoloError) throw mapped;
      this.#endsInScript = false;
    }
  }

  /** The stream every end is appended to (`P:{g}:ends`), read by every node. */
  get endsKey(): string {
    return this.#g("ends");
  }

  /**
   * True when ends reach the ends stream inside the commit itself (one Redis server, or a
   * Sentinel primary); false where scripts may not touch a second slot, and the entry follows
   * the commit as a separate command (lost if this process dies in between). Known after
   * {@link RedisStore.ready}.
   */
  get endsInScript(): boolean {
    return this.#endsInScript;
  }

  async claim(session: SessionRecord, decide: Decide): Promise<ClaimResult> {
    return this.#run(async () => {
      const userId = session.userId;
      const ttl = this.#ttl(session.expiresAt, session.createdAt);
      const ref: Ref = { id: session.id, userId, createdAt: session.createdAt };
      let indexed = false;
      for (let attempt = 1; ; attempt++) {
        const { version, live } = await this.#readLive(userId);
        const outcome = applyDecision(session, live, decide);
        if (outcome.kind === "refused") {
          if (indexed) await this.#unindexNew(ref);
          return outcome;
        }
        const ended = JSON.stringify(outcome.evicted[0]?.ended ?? null);
        const keys = [this.#k(userId, "v"), this.#k(userId, "live"), this.#rec(userId, session.id)];
        const args: Arg[] = [version, session.id, session.createdAt, ttl, ended, this.#endsArg()];
        for (const e of outcome.evicted) keys.push(this.#rec(userId, e.id));
        if (this.#endsInScript) keys.push(this.endsKey);
        for (const e of outcome.evicted) args.push(e.id);
        args.push(...toFields(session));
        // The indexes learn of the session before it can be live (see the class comment).
        const pipeline = this.client.pipeline();
        if (!indexed) {
          pipeline.set(this.#sid(session.id), userId, "PX", ttl);
          this.#indexLive(pipeline, ref, session);
        }
        (pipeline as unknown as Scripts).soloClaim(keys.length, ...keys, ...args);
        const results = await execPipeline(pipeline);
        indexed = true;
        const written = results[results.length - 1] as number;
        if (written === -1) throw new Error(`RedisStore: session id ${session.id} already exists`);
        if (written === 1) {
          this.#remember(session.id, userId);
          // Return now: the caller pushes the notice; the bookkeeping follows on this connection.
          this.#announce(
            outcome.evicted.map((e) => e.id),
            ended,
          );
          void this.#afterEnd(outcome.evicted);
          return outcome;
        }
        if (attempt >= this.#maxAttempts) {
          await this.#unindexNew(ref);
          throw new SoloError(
            "store_unavailable",
            { retryAfter: 1 },
            "Too many simultaneous sign-ins for this account. Try again.",
          );
        }
        await backoff(attempt);
      }
    });
  }

  async get(id: string): Promise<SessionRecord | null> {
    return this.#run(async () => {
      const userId = await this.#lookupUser(id);
      if (userId === null) return null;
      return fromHash(await this.client.hgetall(this.#rec(userId, id)));
    });
  }

  async listLive(userId: string): Promise<SessionRecord[]> {
    return this.#run(async () => (await this.#readLive(userId)).live);
  }

  async listAllLive(query: ListLiveQuery): Promise<LivePage> {
    return this.#run(async () => {
      const limit = clampLimit(query.limit, 50);
      const after = decodeCursor(query.cursor);
      if (query.userId !== undefined) {
        let all = (await this.#readLive(query.userId)).live;
        all.sort((a, b) => b.createdAt - a.createdAt || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0));
        if (after)
          all = all.filter(
            (s) => s.createdAt < after.createdAt || (s.createdAt === after.createdAt && s.id < after.id),
          );
        const page = all.slice(0, limit);
        const last = page[page.length - 1];
        return { sessions: page, next: all.length > limit && last ? encodeCursor(last) : null };
      }
      const out: SessionRecord[] = [];
      // Members sort by (createdAt, id) as bytes: the cursor is a member prefix, exclusive.
      let max = after ? `(${memberPrefix(after.createdAt, after.id)}` : "+";
      while (out.length <= limit) {
        const batch = limit + 1 - out.length + 16;
        const members = (await this.client.call(
          "ZRANGE",
          this.#g("created"),
          max,
          "-",
          "BYLEX",
          "REV",
          "LIMIT",
          0,
          batch,
        )) as string[];
        const refs = members.map(parseMember);
        const records = await this.#fetch(refs);
        const dead: Ref[] = [];
        records.forEach((r, i) => {
          // A missing record may be a claim in flight (indexed first): skip it, keep its entry.
          if (r && r.ended === null) out.push(r);
          else if (r) dead.push(refs[i] as Ref);
        });
        await this.#unindex(dead);
        if (members.length < batch) break;
        max = `(${members[members.length - 1]}`;
      }
      const page = out.slice(0, limit);
      const last = page[page.length - 1];
      return { sessions: page, next: out.length > limit && last ? encodeCursor(last) : null };
    });
  }

  async end(id: string, end: SessionEnd): Promise<SessionRecord | null> {
    return this.#run(async () => {
      const userId = await this.#lookupUser(id);
      if (userId === null) return null;
      const keys = [this.#k(userId, "v"), this.#k(userId, "live"), this.#rec(userId, id)];
      if (this.#endsInScript) keys.push(this.endsKey);
      const json = JSON.stringify(end);
      const hash = await this.#scripts.soloEndOne(keys.length, ...keys, json, id, this.#endsArg());
      if (!hash) return null;
      const ended = fromHash(pairsToObject(hash));
      this.#announce([id], json);
      if (ended) void this.#afterEnd([ended]);
      return ended;
    });
  }

  async endAll(userId: string, end: SessionEnd): Promise<SessionRecord[]> {
    return this.#run(async () => {
      for (let attempt = 1; ; attempt++) {
        const { version, live } = await this.#readLive(userId);
        if (live.length === 0) return [];
        const keys = [this.#k(userId, "v"), this.#k(userId, "live"), ...live.map((s) => this.#rec(userId, s.id))];
        if (this.#endsInScript) keys.push(this.endsKey);
        const json = JSON.stringify(end);
        const ids = live.map((s) => s.id);
        const ok = await this.#scripts.soloEndMany(keys.length, ...keys, version, json, this.#endsArg(), ...ids);
        if (ok === 1) {
          const ended = live.map((s) => ({ ...s, ended: end }));
          this.#announce(ids, json);
          void this.#afterEnd(ended);
          return ended;
        }
        if (attempt >= this.#maxAttempts) throw new SoloError("store_unavailable", { retryAfter: 1 });
        await backoff(attempt);
      }
    });
  }

  async touch(id: string, at: number): Promise<void> {
    await this.#run(async () => {
      const userId = await this.#lookupUser(id);
      if (userId === null) return;
      const createdAt = await this.#scripts.soloAdvance(1, this.#rec(userId, id), "lastSeenAt", at);
      if (createdAt !== null) {
        await this.client.zadd(this.#g("seen"), "XX", "GT", at, member({ id, userId, createdAt: Number(createdAt) }));
      }
    });
  }

  async markPresence(ids: readonly string[], at: number): Promise<void> {
    if (ids.length === 0) return;
    await this.#run(async () => {
      const users = await Promise.all(ids.map((id) => this.#lookupUser(id)));
      const pipeline = this.client.pipeline();
      ids.forEach((id, i) => {
        const userId = users[i];
        if (userId) (pipeline as unknown as Scripts).soloAdvance(1, this.#rec(userId, id), "presenceAt", at);
      });
      await execPipeline(pipeline);
    });
  }

  async findStale(now: number, idleBefore: number, limit: number): Promise<SessionRecord[]> {
    return this.#run(async () => {
      const n = Math.max(1, Math.trunc(limit));
      for (let round = 0; ; round++) {
        const [expired, idle] = await Promise.all([
          this.client.zrangebyscore(this.#g("exp"), "-inf", now, "LIMIT", 0, n),
          this.client.zrangebyscore(this.#g("seen"), "-inf", idleBefore, "LIMIT", 0, n),
        ]);
        const members = [...new Set([...expired, ...idle])];
        const refs = members.map(parseMember);
        const records = await this.#fetch(refs);
        const out: SessionRecord[] = [];
        const dead: Ref[] = [];
        const fix = this.client.pipeline();
        let fixes = 0;
        records.forEach((r, i) => {
          const ref = refs[i] as Ref;
          // A missing record here is old (past expiry or idle): never a claim in flight.
          if (!r || r.ended !== null) dead.push(ref);
          else if (isStale(r, now, idleBefore)) out.push(r);
          else {
            fix.zadd(this.#g("seen"), "GT", r.lastSeenAt, members[i] as string);
            fixes++;
          }
        });
        await this.#unindex(dead);
        if (fixes > 0) await execPipeline(fix);
        if (out.length >= n || dead.length + fixes === 0 || round >= 4) return out.slice(0, n);
      }
    });
  }

  async purge(sessionsBefore: number, auditBefore: number): Promise<number> {
    return this.#run(async () => {
      let purged = 0;
      for (;;) {
        const members = await this.client.zrangebyscore(
          this.#g("ended"),
          "-inf",
          `(${sessionsBefore}`,
          "LIMIT",
          0,
          500,
        );
        if (members.length === 0) break;
        const pipeline = this.client.pipeline();
        const refs = members.map(parseMember);
        for (const ref of refs) {
          (pipeline as unknown as Scripts).soloPurgeOne(
            2,
            this.#rec(ref.userId, ref.id),
            this.#k(ref.userId, "live"),
            ref.id,
            sessionsBefore,
          );
        }
        const results = await execPipeline(pipeline);
        const cleanup = this.client.pipeline();
        cleanup.zrem(this.#g("ended"), ...members);
        refs.forEach((ref, i) => {
          if (results[i] === 1) {
            purged++;
            cleanup.del(this.#sid(ref.id));
            this.#userOf.delete(ref.id);
          }
        });
        await execPipeline(cleanup);
        if (members.length < 500) break;
      }
      await this.#purgeAudit(auditBefore);
      return purged;
    });
  }

  async countLive(): Promise<number> {
    return this.#run(() => this.client.zcard(this.#g("created")));
  }

  async appendAudit(event: NewAuditEvent): Promise<string> {
    return this.#run(async () => {
      const id = await this.client.xadd(
        this.#g("audit"),
        "MAXLEN",
        "~",
        this.#auditMaxLength,
        "*",
        "e",
        JSON.stringify(event),
      );
      if (typeof id !== "string") throw new Error("RedisStore: XADD returned no id");
      return id;
    });
  }

  async updateDelivery(sessionId: string, status: DeliveryStatus): Promise<void> {
    await this.#run(() => this.#scripts.soloDelivery(1, this.#dlv(sessionId), status, this.#auditRetention));
  }

  async queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    return this.#run(async () => {
      const limit = clampLimit(query.limit, 100);
      if (query.before !== undefined && !/^\d+-\d+$/.test(query.before)) return [];
      let max = query.before !== undefined ? `(${query.before}` : "+";
      const out: AuditEvent[] = [];
      const batch = Math.max(200, limit * 2);
      while (out.length < limit) {
        const entries = await this.client.xrevrange(this.#g("audit"), max, "-", "COUNT", batch);
        for (const [id, fields] of entries) {
          const e = parseAudit(id, fields);
          if (!e) continue;
          if (query.userId !== undefined && e.userId !== query.userId) continue;
          if (query.sessionId !== undefined && e.sessionId !== query.sessionId) continue;
          if (query.since !== undefined && e.at < query.since) continue;
          if (query.until !== undefined && e.at >= query.until) continue;
          out.push(e);
          if (out.length >= limit) break;
        }
        const last = entries[entries.length - 1];
        if (entries.length < batch || !last) break;
        max = `(${last[0]}`;
      }
      // Delivery moves forward after the event was written: merge the latest state.
      const ending = out.filter((e) => e.sessionId !== null && ENDING_KINDS.includes(e.kind));
      if (ending.length > 0) {
        const states = await this.client.mget(...ending.map((e) => this.#dlv(e.sessionId as string)));
        ending.forEach((e, i) => {
          const state = states[i] as DeliveryStatus | null | undefined;
          if (
            state &&
            state in DELIVERY_RANK &&
            (e.delivery === null || DELIVERY_RANK[state] > DELIVERY_RANK[e.delivery])
          )
            e.delivery = state;
        });
      }
      return out;
    });
  }

  async ping(): Promise<void> {
    await this.#run(() => this.client.ping());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await quit(this.client);
  }

  // --- internals ---

  /** Runs a store operation; connection failures become `store_unavailable`. */
  async #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error("RedisStore is closed");
    try {
      return await operation();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  #k(userId: string, suffix: string): string {
    return `${this.#prefix}:{u:${userId}}:${suffix}`;
  }

  #rec(userId: string, id: string): string {
    return this.#k(userId, `s:${id}`);
  }

  #sid(id: string): string {
    return `${this.#prefix}:sid:${id}`;
  }

  #dlv(id: string): string {
    return `${this.#prefix}:dlv:${id}`;
  }

  #g(name: string): string {
    return `${this.#prefix}:{g}:${name}`;
  }

  /** The scripts' ends-stream argument: its MAXLEN when they append to it, '0' when they do not. */
  #endsArg(): string {
    return this.#endsInScript ? String(this.#endsMaxLength) : "0";
  }

  /**
   * Where scripts may not append to the ends stream themselves, appends the ended sessions
   * now, right after the commit's reply, without waiting. Lost if the process dies or the
   * connection drops in between: the nodes' reconcile pass is then what catches it.
   */
  #announce(ids: readonly string[], ended: string): void {
    if (this.#endsInScript || ids.length === 0) return;
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.xadd(this.endsKey, "MAXLEN", "~", this.#endsMaxLength, "*", "s", id, "e", ended);
    execPipeline(pipeline).catch((error: unknown) =>
      this.#onError?.(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** Redis TTL of a record: what is left of its token's lifetime, plus the tombstone retention. */
  #ttl(expiresAt: number, now: number): number {
    return Math.max(MIN_TTL, Math.max(0, expiresAt - now) + this.#retention);
  }

  /** The user's version and live sessions (oldest first), read in two round trips. */
  async #readLive(userId: string): Promise<{ version: string; live: SessionRecord[] }> {
    const head = await execPipeline(
      this.client.multi().get(this.#k(userId, "v")).zrange(this.#k(userId, "live"), 0, -1),
    );
    const version = (head[0] as string | null) ?? "0";
    const ids = head[1] as string[];
    if (ids.length === 0) return { version, live: [] };
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.hgetall(this.#rec(userId, id));
    const hashes = await execPipeline(pipeline);
    const live: SessionRecord[] = [];
    const gone: string[] = [];
    hashes.forEach((h, i) => {
      const record = fromHash(h as Record<string, string>);
      if (record && record.ended === null) live.push(record);
      else if (!record) gone.push(ids[i] as string);
    });
    // A live id whose record expired (its TTL ran out before anyone ended it) is forgotten.
    if (gone.length > 0) await this.client.zrem(this.#k(userId, "live"), ...gone);
    return { version, live };
  }

  async #lookupUser(id: string): Promise<string | null> {
    const cached = this.#userOf.get(id);
    if (cached !== undefined) return cached;
    const userId = await this.client.get(this.#sid(id));
    if (userId !== null) this.#remember(id, userId);
    return userId;
  }

  #remember(id: string, userId: string): void {
    if (this.#userOf.size >= USER_CACHE_SIZE) {
      const oldest = this.#userOf.keys().next();
      if (!oldest.done) this.#userOf.delete(oldest.value);
    }
    this.#userOf.set(id, userId);
  }

  async #fetch(refs: readonly Ref[]): Promise<(SessionRecord | null)[]> {
    if (refs.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const ref of refs) pipeline.hgetall(this.#rec(ref.userId, ref.id));
    const hashes = await execPipeline(pipeline);
    return hashes.map((h) => fromHash(h as Record<string, string>));
  }

  #indexLive(pipeline: ReturnType<Redis["pipeline"]>, ref: Ref, s: SessionRecord): void {
    const m = member(ref);
    pipeline.zadd(this.#g("created"), 0, m).zadd(this.#g("exp"), s.expiresAt, m).zadd(this.#g("seen"), s.lastSeenAt, m);
  }

  /** Undoes the index entries of a claim that did not happen. */
  async #unindexNew(ref: Ref): Promise<void> {
    const pipeline = this.client.pipeline();
    this.#dropLive(pipeline, ref);
    await execPipeline(pipeline.del(this.#sid(ref.id)));
  }

  /** Removes ended (or long-gone) sessions from the live indexes. */
  async #unindex(refs: readonly Ref[]): Promise<void> {
    if (refs.length === 0) return;
    const pipeline = this.client.pipeline();
    for (const ref of refs) this.#dropLive(pipeline, ref);
    await execPipeline(pipeline);
  }

  #dropLive(pipeline: ReturnType<Redis["pipeline"]>, ref: Ref): void {
    const m = member(ref);
    pipeline.zrem(this.#g("created"), m).zrem(this.#g("exp"), m).zrem(this.#g("seen"), m);
  }

  /**
   * Index bookkeeping after sessions ended: out of the live indexes, into the purge index.
   * Not awaited by `claim`/`end`/`endAll`, so the notice goes out first (the pipeline is
   * written to the connection at once, so every later command of this process runs after it).
   * Best effort: the change is already committed, a stale live entry is dropped by the next
   * reader that meets it, and a record missing from the purge index still expires by its TTL.
   */
  async #afterEnd(ended: readonly SessionRecord[]): Promise<void> {
    if (ended.length === 0) return;
    const pipeline = this.client.pipeline();
    for (const s of ended) {
      this.#dropLive(pipeline, s);
      pipeline.zadd(this.#g("ended"), s.expiresAt, member(s));
    }
    await Promise.all([
      execPipeline(pipeline).catch(() => undefined),
      this.#capReplaced(ended.filter((s) => s.ended?.reason === "replaced")).catch(() => undefined),
    ]);
  }

  /**
   * Keeps each user's newest {@link REPLACED_TOMBSTONES_PER_USER} `replaced` tombstones and
   * deletes the older ones (record, id lookup, purge index entry). Best effort like the rest
   * of the bookkeeping: a tombstone it misses still expires by its TTL.
   */
  async #capReplaced(replaced: readonly SessionRecord[]): Promise<void> {
    const byUser = new Map<string, SessionRecord[]>();
    for (const s of replaced) byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s]);
    for (const [userId, sessions] of byUser) {
      const key = this.#k(userId, "replaced");
      const ttl = Math.max(...sessions.map((s) => this.#ttl(s.expiresAt, s.ended?.at ?? s.createdAt)));
      const scored = sessions.flatMap((s) => [s.ended?.at ?? s.createdAt, member(s)]);
      // One transaction: add, take out what is beyond the cap (oldest first), and keep the set
      // as long as its newest tombstone.
      const beyond = -(REPLACED_TOMBSTONES_PER_USER + 1);
      const results = await execPipeline(
        this.client
          .multi()
          .zadd(key, ...scored)
          .zrange(key, 0, beyond)
          .zremrangebyrank(key, 0, beyond)
          .pexpire(key, ttl),
      );
      const dropped = (results[1] as string[]).map(parseMember);
      if (dropped.length === 0) continue;
      const cleanup = this.client.pipeline();
      for (const ref of dropped) {
        // One key per command: the record, its lookup and the purge index are in different slots.
        cleanup.del(this.#rec(ref.userId, ref.id)).del(this.#sid(ref.id)).zrem(this.#g("ended"), member(ref));
        this.#userOf.delete(ref.id);
      }
      await execPipeline(cleanup);
    }
  }

  /** Deletes audit events older than `before` (from the oldest; events are appended in time order). */
  async #purgeAudit(before: number): Promise<void> {
    let min = "-";
    for (;;) {
      const entries = await this.client.xrange(this.#g("audit"), min, "+", "COUNT", 500);
      const old: string[] = [];
      const dlv: string[] = [];
      let reachedNewer = false;
      for (const [id, fields] of entries) {
        const e = parseAudit(id, fields);
        if (e && e.at >= before) {
          reachedNewer = true;
          break;
        }
        old.push(id);
        if (e?.sessionId && ENDING_KINDS.includes(e.kind)) dlv.push(this.#dlv(e.sessionId));
      }
      if (old.length > 0) {
        const pipeline = this.client.pipeline().xdel(this.#g("audit"), ...old);
        if (dlv.length > 0) pipeline.del(...dlv);
        await execPipeline(pipeline);
      }
      const last = entries[entries.length - 1];
      if (reachedNewer || entries.length < 500 || !last) return;
      min = `(${last[0]}`;
    }
  }
}

/** ioredis settings shared by every connection solo-session opens: fail fast, reconnect forever. */
export function clientOptions(commandTimeout: number) {
  return {
    // A command while disconnected fails at once instead of waiting in a queue...
    enableOfflineQueue: false,
    // ...and a command in flight when the connection drops fails instead of being resent
    // (resending a claim whose answer was lost could apply it twice).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout,
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    lazyConnect: false,
  };
}

/** Resolves when the client is ready; rejects with `store_unavailable` after `timeout` ms. */
export function waitReady(client: Redis, timeout: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      reject(new SoloError("store_unavailable", {}, `Redis is not reachable (waited ${timeout} ms).`));
    }, timeout);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("ready", onReady);
  });
}

/** Closes a client politely if connected, at once otherwise. */
export async function quit(client: Redis): Promise<void> {
  if (client.status === "ready") {
    try {
      await client.quit();
      return;
    } catch {
      // fall through
    }
  }
  client.disconnect(false);
}

/** Maps a Redis failure to the error the API answers with. */
function toStoreError(error: unknown): unknown {
  if (error instanceof SoloError || !(error instanceof Error)) return error;
  const transient =
    error.name === "ReplyError" ? TRANSIENT_REPLY.test(error.message) : TRANSIENT_CLIENT.test(error.message);
  if (transient || error.name === "MaxRetriesPerRequestError" || error.name === "AbortError") {
    return new SoloError("store_unavailable");
  }
  return error;
}

/** Runs a pipeline or transaction; throws the first command error. */
async function execPipeline(pipeline: ReturnType<Redis["pipeline"]>): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (results === null) throw new Error("RedisStore: transaction aborted");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** A jittered exponential pause between claim attempts (full jitter, capped at 25 ms). */
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(25, 2 ** Math.min(attempt, 5));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
}

function toFields(s: SessionRecord): string[] {
  const fields = [
    "id",
    s.id,
    "userId",
    s.userId,
    "createdAt",
    String(s.createdAt),
    "lastSeenAt",
    String(s.lastSeenAt),
    "expiresAt",
    String(s.expiresAt),
    "device",
    JSON.stringify(s.device),
  ];
  if (s.presenceAt !== null) fields.push("presenceAt", String(s.presenceAt));
  if (s.ended !== null) fields.push("ended", JSON.stringify(s.ended));
  return fields;
}

function fromHash(h: Record<string, string>): SessionRecord | null {
  if (!h || h.id === undefined || h.userId === undefined) return null;
  const ended = h.ended ? (JSON.parse(h.ended) as { at: number; reason: RevocationReason; by: EndedBy | null }) : null;
  return {
    id: h.id,
    userId: h.userId,
    createdAt: Number(h.createdAt),
    lastSeenAt: Number(h.lastSeenAt),
    expiresAt: Number(h.expiresAt),
    device: JSON.parse(h.device ?? "null") as DeviceInfo,
    presenceAt: h.presenceAt === undefined ? null : Number(h.presenceAt),
    ended: ended ? { at: ended.at, reason: ended.reason, by: ended.by ?? null } : null,
  };
}

function pairsToObject(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) out[pairs[i] as string] = pairs[i + 1] as string;
  return out;
}

/**
 * Member of every global index: `<createdAt, 16 digits> NUL <id> NUL <userId>`. Byte order is
 * (createdAt, id), so a newest-first page of `created` is one range query, and a member names
 * the record's key without another lookup.
 */
function member(ref: Ref): string {
  return `${memberPrefix(ref.createdAt, ref.id)}\u0000${ref.userId}`;
}

function memberPrefix(createdAt: number, id: string): string {
  return `${String(Math.max(0, Math.trunc(createdAt))).padStart(16, "0")}\u0000${id}`;
}

function parseMember(m: string): Ref {
  const a = m.indexOf("\u0000");
  const b = m.indexOf("\u0000", a + 1);
  return { createdAt: Number(m.slice(0, a)), id: m.slice(a + 1, b), userId: m.slice(b + 1) };
}

function parseAudit(id: string, fields: readonly string[]): AuditEvent | null {
  const at = fields.indexOf("e");
  const json = at >= 0 ? fields[at + 1] : undefined;
  if (json === undefined) return null;
  return { ...(JSON.parse(json) as NewAuditEvent), id };
}
