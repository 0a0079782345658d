import type { SessionRecord, SessionStore } from "../store/types.js";
import { BoundedMap } from "../util/bounded-map.js";

/** Live sessions remembered, at most. */
const CAPACITY = 10_000;

/**
 * The check cache: a live session read from the store answers this node's later checks for
 * `ttl` ms (`sessionCacheTtl`). Every end this node makes or hears of is forgotten at once
 * ({@link forget}), so the cache only matters for an end it was not told of (another process
 * on the same SQLite file, or an end the Redis ends stream no longer held for this node): that
 * is refused at most `ttl` later. A read that an end overtook (the end was heard while the read
 * was in flight) answers its caller but is not remembered. `ttl` 0 reads the store every time.
 *
 * @example
 * ```ts
 * const cache = new CheckCache(store, 1000, Date.now);
 * const { session, cached } = await cache.lookup(sessionId);
 * cache.forget(sessionId); // on every end
 * ```
 */
export class CheckCache {
  readonly #store: Pick<SessionStore, "get">;
  readonly #ttl: number;
  readonly #clock: () => number;
  readonly #live = new BoundedMap<string, { session: SessionRecord; until: number }>(CAPACITY);
  /** Store reads in flight, by session id: a forget() voids them (the end may postdate the read). */
  readonly #reads = new Map<string, object>();

  constructor(store: Pick<SessionStore, "get">, ttl: number, clock: () => number) {
    this.#store = store;
    this.#ttl = ttl;
    this.#clock = clock;
  }

  /** True when the cache is on (`ttl` > 0). */
  get enabled(): boolean {
    return this.#ttl > 0;
  }

  /** The remembered live session, if it is still within its `ttl`; no store read. */
  peek(sessionId: string): SessionRecord | null {
    const hit = this.#live.get(sessionId);
    return hit && hit.until > this.#clock() ? hit.session : null;
  }

  /** The session: remembered (`cached: true`) or read from the store (and remembered if live). */
  async lookup(sessionId: string): Promise<{ session: SessionRecord | null; cached: boolean }> {
    if (this.#ttl <= 0) return { session: await this.#store.get(sessionId), cached: false };
    const hit = this.peek(sessionId);
    if (hit) return { session: hit, cached: true };
    const read = {};
    this.#reads.set(sessionId, read);
    let voided = true;
    const session = await this.#store.get(sessionId).finally(() => {
      voided = this.#reads.get(sessionId) !== read;
      if (!voided) this.#reads.delete(sessionId);
    });
    // An end heard of during the read may postdate it: answer with the read, remember nothing.
    if (session && !session.ended && !voided) this.#live.set(sessionId, { session, until: this.#clock() + this.#ttl });
    return { session, cached: false };
  }

  /** Forgets a session (it ended, here or elsewhere) and voids reads of it in flight. */
  forget(sessionId: string): void {
    this.#live.delete(sessionId);
    this.#reads.delete(sessionId);
  }
}
