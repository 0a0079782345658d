/**
 * The Redis store's session operations: claim, end, endAll, get, the listings of one user,
 * touch and presence. Each commits with one script on the user's slot (see `scripts.ts`).
 *
 * `claim` is optimistic and atomic: it reads the user's version and live sessions, runs the
 * policy's pure `decide` in JS, then commits with one Lua script that checks the version is
 * unchanged and writes the new session and ends the evicted ones (as `replaced`, with `by`) in
 * one step. On a conflict it re-reads and re-decides after a jittered backoff. `claim`, `end`
 * and `endAll` return as soon as the commit is in (the caller pushes the notice then); the
 * index bookkeeping follows without being awaited.
 *
 * Work on the user's slot and work on other slots (the global indexes in `{g}`, the lookup key
 * `sid:<id>`) are separate pipelines: on Redis Cluster they may be on different servers. When
 * writes wait for replicas (`WAIT`), the commit's pipeline ends with the `WAIT`; a commit that
 * too few replicas confirm is reported as `store_unavailable` (it is in the primary, but a
 * failover could lose it), after its ends have been announced like any other.
 *
 * @module
 */

import { SoloError } from "../../errors/solo-error.js";
import { type LivePosition, pageLive } from "../shared/paging.js";
import { applyDecision } from "../shared/sessions.js";
import type { ClaimResult, Decide, LivePage, SessionEnd, SessionRecord } from "../types.js";
import { endFields, fromHash, member, pairsToObject, type Ref, toFields } from "./codec.js";
import { execEach, execPipeline } from "./connection.js";
import type { RedisContext } from "./context.js";
import type { SessionIndexes } from "./indexes.js";
import { type Arg, scriptsOf } from "./scripts.js";

/** The session operations of one store. */
export class SessionOps {
  readonly #ctx: RedisContext;
  readonly #indexes: SessionIndexes;

  constructor(ctx: RedisContext, indexes: SessionIndexes) {
    this.#ctx = ctx;
    this.#indexes = indexes;
  }

  async claim(session: SessionRecord, decide: Decide): Promise<ClaimResult> {
    const { client, keys } = this.#ctx;
    const userId = session.userId;
    const ttl = this.#ctx.ttl(session.expiresAt, session.createdAt);
    const ref: Ref = { id: session.id, userId, createdAt: session.createdAt };
    // The indexes and the id lookup learn of the session before it can be live (see
    // indexes.ts). On one connection to one server they go out first and the commit runs after
    // them; on a cluster they are on other servers, so the claim waits for them.
    const indexed = this.#indexes.indexNew(ref, session, ttl);
    indexed.catch(() => {}); // awaited below; never left unhandled
    if (this.#ctx.clustered) await indexed;
    for (let attempt = 1; ; attempt++) {
      const { version, live } = await this.#readLive(userId);
      const outcome = applyDecision(session, live, decide);
      if (outcome.kind === "refused") {
        await indexed;
        await this.#indexes.unindexNew(ref);
        return outcome;
      }
      const ended = JSON.stringify(outcome.evicted[0]?.ended ?? null);
      const scriptKeys = [keys.version(userId), keys.live(userId), keys.record(userId, session.id)];
      const args: Arg[] = [version, session.id, session.createdAt, ttl, ended, this.#ctx.endsArg()];
      for (const e of outcome.evicted) scriptKeys.push(keys.record(userId, e.id));
      if (this.#ctx.endsInScript) scriptKeys.push(keys.ends);
      for (const e of outcome.evicted) args.push(e.id);
      args.push(...toFields(session));
      const commit = client.pipeline();
      scriptsOf(commit).soloClaim(scriptKeys.length, ...scriptKeys, ...args);
      const [written, replicas] = await execPipeline(this.#ctx.waitFor(commit));
      await indexed;
      if (written === -1) throw new Error(`RedisStore: session id ${session.id} already exists`);
      if (written === 1) {
        this.#ctx.userOf.set(session.id, userId);
        // Return now: the caller pushes the notice; the bookkeeping follows.
        this.#announce(
          outcome.evicted.map((e) => e.id),
          ended,
        );
        void this.#indexes.afterEnd(outcome.evicted);
        this.#ctx.confirm(replicas);
        return outcome;
      }
      if (attempt >= this.#ctx.settings.maxClaimAttempts) {
        await this.#indexes.unindexNew(ref);
        throw new SoloError(
          "store_unavailable",
          { retryAfter: 1 },
          "Too many simultaneous sign-ins for this account. Try again.",
        );
      }
      await backoff(attempt);
    }
  }

  async get(id: string): Promise<SessionRecord | null> {
    const userId = await this.#lookupUser(id);
    if (userId === null) return null;
    return fromHash(await this.#ctx.client.hgetall(this.#ctx.keys.record(userId, id)));
  }

  async listLive(userId: string): Promise<SessionRecord[]> {
    return (await this.#readLive(userId)).live;
  }

  /** A newest-first page of one user's live sessions. */
  async pageOfUser(userId: string, after: LivePosition | null, limit: number): Promise<LivePage> {
    return pageLive((await this.#readLive(userId)).live, after, limit);
  }

  async end(id: string, end: SessionEnd): Promise<SessionRecord | null> {
    const { keys } = this.#ctx;
    const userId = await this.#lookupUser(id);
    if (userId === null) return null;
    const scriptKeys = [keys.version(userId), keys.live(userId), keys.record(userId, id)];
    if (this.#ctx.endsInScript) scriptKeys.push(keys.ends);
    const json = JSON.stringify(end);
    const commit = this.#ctx.client.pipeline();
    scriptsOf(commit).soloEndOne(scriptKeys.length, ...scriptKeys, json, id, this.#ctx.endsArg());
    const [hash, replicas] = await execPipeline(this.#ctx.waitFor(commit));
    if (!hash) return null;
    const ended = fromHash(pairsToObject(hash as string[]));
    this.#announce([id], json);
    if (ended) void this.#indexes.afterEnd([ended]);
    this.#ctx.confirm(replicas);
    return ended;
  }

  async endAll(userId: string, end: SessionEnd): Promise<SessionRecord[]> {
    const { keys } = this.#ctx;
    for (let attempt = 1; ; attempt++) {
      const { version, live } = await this.#readLive(userId);
      if (live.length === 0) return [];
      const scriptKeys = [keys.version(userId), keys.live(userId), ...live.map((s) => keys.record(userId, s.id))];
      if (this.#ctx.endsInScript) scriptKeys.push(keys.ends);
      const json = JSON.stringify(end);
      const ids = live.map((s) => s.id);
      const commit = this.#ctx.client.pipeline();
      scriptsOf(commit).soloEndMany(scriptKeys.length, ...scriptKeys, version, json, this.#ctx.endsArg(), ...ids);
      const [ok, replicas] = await execPipeline(this.#ctx.waitFor(commit));
      if (ok === 1) {
        const ended = live.map((s) => ({ ...s, ended: end }));
        this.#announce(ids, json);
        void this.#indexes.afterEnd(ended);
        this.#ctx.confirm(replicas);
        return ended;
      }
      if (attempt >= this.#ctx.settings.maxClaimAttempts) throw new SoloError("store_unavailable", { retryAfter: 1 });
      await backoff(attempt);
    }
  }

  async touch(id: string, at: number): Promise<void> {
    const { client, keys, scripts } = this.#ctx;
    const userId = await this.#lookupUser(id);
    if (userId === null) return;
    const createdAt = await scripts.soloAdvance(1, keys.record(userId, id), "lastSeenAt", at);
    if (createdAt !== null) {
      // The global index is in another slot: its own command, after the record's.
      await client.zadd(keys.seen, "XX", "GT", at, member({ id, userId, createdAt: Number(createdAt) }));
    }
  }

  async markPresence(ids: readonly string[], at: number): Promise<void> {
    if (ids.length === 0) return;
    const users = await Promise.all(ids.map((id) => this.#lookupUser(id)));
    // One user's slot per command: on a cluster each goes to its own server.
    await execEach(
      this.#ctx.client,
      ids.flatMap((id, i) => {
        const userId = users[i];
        return userId ? [["soloAdvance", 1, this.#ctx.keys.record(userId, id), "presenceAt", at] as const] : [];
      }),
    );
  }

  /**
   * Where scripts may not append to the ends stream themselves, appends the ended sessions
   * now, right after the commit's reply, without waiting. Lost if the process dies or the
   * connection drops in between: the nodes' reconcile pass is then what catches it.
   */
  #announce(ids: readonly string[], ended: string): void {
    if (this.#ctx.endsInScript || ids.length === 0) return;
    const { client, keys, settings } = this.#ctx;
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.xadd(keys.ends, "MAXLEN", "~", settings.endsMaxLength, "*", ...endFields(id, ended));
    execPipeline(pipeline).catch((error: unknown) =>
      this.#ctx.onError(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** The user's version and live sessions (oldest first), read in two round trips. */
  async #readLive(userId: string): Promise<{ version: string; live: SessionRecord[] }> {
    const { client, keys, scripts } = this.#ctx;
    const [version, ids] = await scripts.soloReadLive(2, keys.version(userId), keys.live(userId));
    if (ids.length === 0) return { version, live: [] };
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.hgetall(keys.record(userId, id));
    const hashes = await execPipeline(pipeline);
    const live: SessionRecord[] = [];
    const gone: string[] = [];
    hashes.forEach((h, i) => {
      const record = fromHash(h as Record<string, string>);
      if (record && record.ended === null) live.push(record);
      else if (!record) gone.push(ids[i] as string);
    });
    // A live id whose record expired (its TTL ran out before anyone ended it) is forgotten.
    if (gone.length > 0) await client.zrem(keys.live(userId), ...gone);
    return { version, live };
  }

  async #lookupUser(id: string): Promise<string | null> {
    const cached = this.#ctx.userOf.get(id);
    if (cached !== undefined) return cached;
    const userId = await this.#ctx.client.get(this.#ctx.keys.sid(id));
    if (userId !== null) this.#ctx.userOf.set(id, userId);
    return userId;
  }
}

/** A jittered exponential pause between claim attempts (full jitter, capped at 25 ms). */
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(25, 2 ** Math.min(attempt, 5));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
}
