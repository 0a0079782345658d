/**
 * The Redis store's global indexes (`{g}:created`, `:exp`, `:seen`, `:ended`) and the user's
 * `replaced` set: the listing, sweeping, counting and purging of sessions across users, and
 * the bookkeeping after sessions end.
 *
 * The indexes are in another slot than the records, so they are written by separate commands:
 * an entry is added before its session becomes live and removed after it ends. They hold a
 * superset of the live sessions, and every reader checks the record itself (and drops the
 * stale entries it meets). Work that spans users (the records of a page, the tombstones of a
 * purge) touches many slots: it runs through `execEach`, one command per slot on a cluster.
 *
 * @module
 */

import { type LivePosition, livePage } from "../shared/paging.js";
import { isStale } from "../shared/sessions.js";
import { type LivePage, REPLACED_TOMBSTONES_PER_USER, type SessionRecord } from "../types.js";
import { fromHash, member, memberPrefix, parseMember, type Ref } from "./codec.js";
import { type Command, execEach, execPipeline, type Pipeline } from "./connection.js";
import type { RedisContext } from "./context.js";

/** Records and purge entries handled per round of `purge`. */
const PURGE_BATCH = 500;

/** The global indexes of one store. */
export class SessionIndexes {
  readonly #ctx: RedisContext;

  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
  }

  /**
   * Adds a session about to become live to the live indexes (one pipeline on `{g}`) and writes
   * its id lookup `sid:<id>` (its own slot), both sent at once. On a cluster, where they go to
   * other servers than the commit, each waits for the replicas the commit waits for.
   */
  async indexNew(ref: Ref, s: SessionRecord, ttl: number): Promise<void> {
    const { client, keys, clustered } = this.#ctx;
    const m = member(ref);
    const indexes = client.pipeline().zadd(keys.created, 0, m).zadd(keys.exp, s.expiresAt, m);
    indexes.zadd(keys.seen, s.lastSeenAt, m);
    const lookup = client.pipeline().set(keys.sid(ref.id), ref.userId, "PX", ttl);
    // On one server the commit's WAIT, later on the same connection, covers these writes too.
    const sent = [indexes, lookup].map((p) => execPipeline(clustered ? this.#ctx.waitFor(p) : p));
    const replies = await Promise.all(sent);
    if (clustered) for (const reply of replies) this.#ctx.confirm(reply.at(-1));
  }

  /** Undoes the index entries and the id lookup of a claim that did not happen. */
  async unindexNew(ref: Ref): Promise<void> {
    const { client, keys } = this.#ctx;
    await Promise.all([execPipeline(this.#dropLive(client.pipeline(), ref)), client.del(keys.sid(ref.id))]);
  }

  /**
   * Index bookkeeping after sessions ended: out of the live indexes, into the purge index.
   * Not awaited by `claim`/`end`/`endAll`, so the notice goes out first (the pipeline is
   * written to the connection at once, so every later command of this process on `{g}` runs
   * after it).
   * Best effort: the change is already committed, a stale live entry is dropped by the next
   * reader that meets it, and a record missing from the purge index still expires by its TTL.
   */
  async afterEnd(ended: readonly SessionRecord[]): Promise<void> {
    if (ended.length === 0) return;
    // All in `{g}`: one pipeline.
    const pipeline = this.#ctx.client.pipeline();
    for (const s of ended) {
      this.#dropLive(pipeline, s).zadd(this.#ctx.keys.ended, s.expiresAt, member(s));
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
      const refs = members.map(parseMember);
      const results = await execEach(
        client,
        refs.map((ref) => ["soloPurgeOne", 2, keys.record(ref.userId, ref.id), keys.live(ref.userId), ref.id, before]),
      );
      const cleanup: Command[] = [["zrem", keys.ended, ...members]];
      refs.forEach((ref, i) => {
        if (results[i] === 1) {
          purged++;
          cleanup.push(["del", keys.sid(ref.id)]);
          userOf.delete(ref.id);
        }
      });
      await execEach(client, cleanup);
      if (members.length < PURGE_BATCH) break;
    }
    return purged;
  }

  /** Number of live sessions (the `created` index, which may briefly count a claim in flight). */
  countLive(): Promise<number> {
    return this.#ctx.client.zcard(this.#ctx.keys.created);
  }

  /** The records of sessions of any users (one slot per user: `execEach`). */
  async #fetch(refs: readonly Ref[]): Promise<(SessionRecord | null)[]> {
    const hashes = await execEach(
      this.#ctx.client,
      refs.map((ref) => ["hgetall", this.#ctx.keys.record(ref.userId, ref.id)]),
    );
    return hashes.map((h) => fromHash(h as Record<string, string>));
  }

  /** Removes ended (or long-gone) sessions from the live indexes (all in `{g}`: one pipeline). */
  async #unindex(refs: readonly Ref[]): Promise<void> {
    if (refs.length === 0) return;
    const pipeline = this.#ctx.client.pipeline();
    for (const ref of refs) this.#dropLive(pipeline, ref);
    await execPipeline(pipeline);
  }

  /** Takes a session out of the live indexes (all in `{g}`), on the caller's pipeline. */
  #dropLive(pipeline: Pipeline, ref: Ref): Pipeline {
    const { keys } = this.#ctx;
    const m = member(ref);
    return pipeline.zrem(keys.created, m).zrem(keys.exp, m).zrem(keys.seen, m);
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
      // The record, its lookup and the purge index are in three slots.
      await execEach(
        client,
        dropped.flatMap((ref): Command[] => {
          userOf.delete(ref.id);
          return [
            ["del", keys.record(ref.userId, ref.id)],
            ["del", keys.sid(ref.id)],
            ["zrem", keys.ended, member(ref)],
          ];
        }),
      );
    }
  }
}
