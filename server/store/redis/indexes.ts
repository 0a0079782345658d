/**
 * The Redis store's global indexes (`{g}:created`, `:exp`, `:seen`, `:ended`) and the user's
 * `replaced` set: the listing, sweeping, counting and purging of sessions across users, and
 * the bookkeeping after sessions end.
 *
 * The indexes are in another slot than the records, so they are written by separate commands:
 * an entry is added before its session becomes live and removed after it ends. They hold a
 * superset of the live sessions, and every reader checks the record itself (and drops the
 * stale entries it meets).
 *
 * @module
 */

import type { Redis } from "ioredis";
import { type LivePosition, livePage } from "../shared/paging.js";
import { isStale } from "../shared/sessions.js";
import { type LivePage, REPLACED_TOMBSTONES_PER_USER, type SessionRecord } from "../types.js";
import { fromHash, member, memberPrefix, parseMember, type Ref } from "./codec.js";
import { execPipeline } from "./connection.js";
import type { RedisContext } from "./context.js";
import { scriptsOf } from "./scripts.js";

type Pipeline = ReturnType<Redis["pipeline"]>;

/** Records and purge entries handled per round of `purge`. */
const PURGE_BATCH = 500;

/** The global indexes of one store. */
export class SessionIndexes {
  readonly #ctx: RedisContext;

  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
  }

  /** Adds a session about to become live to the live indexes (on the caller's pipeline). */
  indexLive(pipeline: Pipeline, ref: Ref, s: SessionRecord): void {
    const { keys } = this.#ctx;
    const m = member(ref);
    pipeline.zadd(keys.created, 0, m).zadd(keys.exp, s.expiresAt, m).zadd(keys.seen, s.lastSeenAt, m);
  }

  /** Undoes the index entries of a claim that did not happen. */
  async unindexNew(ref: Ref): Promise<void> {
    const pipeline = this.#ctx.client.pipeline();
    this.#dropLive(pipeline, ref);
    await execPipeline(pipeline.del(this.#ctx.keys.sid(ref.id)));
  }

  /**
   * Index bookkeeping after sessions ended: out of the live indexes, into the purge index.
   * Not awaited by `claim`/`end`/`endAll`, so the notice goes out first (the pipeline is
   * written to the connection at once, so every later command of this process runs after it).
   * Best effort: the change is already committed, a stale live entry is dropped by the next
   * reader that meets it, and a record missing from the purge index still expires by its TTL.
   */
  async afterEnd(ended: readonly SessionRecord[]): Promise<void> {
    if (ended.length === 0) return;
    const pipeline = this.#ctx.client.pipeline();
    for (const s of ended) {
      this.#dropLive(pipeline, s);
      pipeline.zadd(this.#ctx.keys.ended, s.expiresAt, member(s));
    }
    await Promise.all([
      execPipeline(pipeline).catch(() => undefined),
      this.#capReplaced(ended.filter((s) => s.ended?.reason === "replaced")).catch(() => undefined),
    ]);
  }

  /** A newest-first page of every user's live sessions, from `{g}:created`. */
  async listAll(after: LivePosition | null, limit: number): Promise<LivePage> {
    const { client, keys } = this.#ctx;
    const out: SessionRecord[] = [];
    // Members sort by (createdAt, id) as bytes: the cursor is a member prefix, exclusive.
    let max = after ? `(${memberPrefix(after.createdAt, after.id)}` : "+";
    while (out.length <= limit) {
      const batch = limit + 1 - out.length + 16;
      const members = (await client.call(
        "ZRANGE",
        keys.created,
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
    return livePage(out, limit);
  }

  /** Live sessions past their expiry or idle deadline, up to `limit` (see `SessionStore.findStale`). */
  async findStale(now: number, idleBefore: number, limit: number): Promise<SessionRecord[]> {
    const { client, keys } = this.#ctx;
    const n = Math.max(1, Math.trunc(limit));
    for (let round = 0; ; round++) {
      const [expired, idle] = await Promise.all([
        client.zrangebyscore(keys.exp, "-inf", now, "LIMIT", 0, n),
        client.zrangebyscore(keys.seen, "-inf", idleBefore, "LIMIT", 0, n),
      ]);
      const members = [...new Set([...expired, ...idle])];
      const refs = members.map(parseMember);
      const records = await this.#fetch(refs);
      const out: SessionRecord[] = [];
      const dead: Ref[] = [];
      const fix = client.pipeline();
      let fixes = 0;
      records.forEach((r, i) => {
        const ref = refs[i] as Ref;
        // A missing record here is old (past expiry or idle): never a claim in flight.
        if (!r || r.ended !== null) dead.push(ref);
        else if (isStale(r, now, idleBefore)) out.push(r);
        else {
          fix.zadd(keys.seen, "GT", r.lastSeenAt, members[i] as string);
          fixes++;
        }
      });
      await this.#unindex(dead);
      if (fixes > 0) await execPipeline(fix);
      if (out.length >= n || dead.length + fixes === 0 || round >= 4) return out.slice(0, n);
    }
  }

  /** Deletes ended records whose token expired before `before`; returns how many. */
  async purge(before: number): Promise<number> {
    const { client, keys, userOf } = this.#ctx;
    let purged = 0;
    for (;;) {
      const members = await client.zrangebyscore(keys.ended, "-inf", `(${before}`, "LIMIT", 0, PURGE_BATCH);
      if (members.length === 0) break;
      const pipeline = client.pipeline();
      const refs = members.map(parseMember);
      for (const ref of refs) {
        scriptsOf(pipeline).soloPurgeOne(2, keys.record(ref.userId, ref.id), keys.live(ref.userId), ref.id, before);
      }
      const results = await execPipeline(pipeline);
      const cleanup = client.pipeline();
      cleanup.zrem(keys.ended, ...members);
      refs.forEach((ref, i) => {
        if (results[i] === 1) {
          purged++;
          cleanup.del(keys.sid(ref.id));
          userOf.delete(ref.id);
        }
      });
      await execPipeline(cleanup);
      if (members.length < PURGE_BATCH) break;
    }
    return purged;
  }

  /** Number of live sessions (the `created` index, which may briefly count a claim in flight). */
  countLive(): Promise<number> {
    return this.#ctx.client.zcard(this.#ctx.keys.created);
  }

  async #fetch(refs: readonly Ref[]): Promise<(SessionRecord | null)[]> {
    if (refs.length === 0) return [];
    const pipeline = this.#ctx.client.pipeline();
    for (const ref of refs) pipeline.hgetall(this.#ctx.keys.record(ref.userId, ref.id));
    const hashes = await execPipeline(pipeline);
    return hashes.map((h) => fromHash(h as Record<string, string>));
  }

  /** Removes ended (or long-gone) sessions from the live indexes. */
  async #unindex(refs: readonly Ref[]): Promise<void> {
    if (refs.length === 0) return;
    const pipeline = this.#ctx.client.pipeline();
    for (const ref of refs) this.#dropLive(pipeline, ref);
    await execPipeline(pipeline);
  }

  #dropLive(pipeline: Pipeline, ref: Ref): void {
    const { keys } = this.#ctx;
    const m = member(ref);
    pipeline.zrem(keys.created, m).zrem(keys.exp, m).zrem(keys.seen, m);
  }

  /**
   * Keeps each user's newest {@link REPLACED_TOMBSTONES_PER_USER} `replaced` tombstones and
   * deletes the older ones (record, id lookup, purge index entry). Best effort like the rest
   * of the bookkeeping: a tombstone it misses still expires by its TTL.
   */
  async #capReplaced(replaced: readonly SessionRecord[]): Promise<void> {
    const { client, keys, userOf } = this.#ctx;
    const byUser = new Map<string, SessionRecord[]>();
    for (const s of replaced) byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s]);
    for (const [userId, sessions] of byUser) {
      const key = keys.replaced(userId);
      const ttl = Math.max(...sessions.map((s) => this.#ctx.ttl(s.expiresAt, s.ended?.at ?? s.createdAt)));
      const scored = sessions.flatMap((s) => [s.ended?.at ?? s.createdAt, member(s)]);
      // One transaction: add, take out what is beyond the cap (oldest first), and keep the set
      // as long as its newest tombstone.
      const beyond = -(REPLACED_TOMBSTONES_PER_USER + 1);
      const results = await execPipeline(
        client
          .multi()
          .zadd(key, ...scored)
          .zrange(key, 0, beyond)
          .zremrangebyrank(key, 0, beyond)
          .pexpire(key, ttl),
      );
      const dropped = (results[1] as string[]).map(parseMember);
      if (dropped.length === 0) continue;
      const cleanup = client.pipeline();
      for (const ref of dropped) {
        // One key per command: the record, its lookup and the purge index are in different slots.
        cleanup.del(keys.record(ref.userId, ref.id)).del(keys.sid(ref.id)).zrem(keys.ended, member(ref));
        userOf.delete(ref.id);
      }
      await execPipeline(cleanup);
    }
  }
}
