/**
 * The Redis store's single-use markers (`SessionStore.useOnce`): one key each, `P:once:<key>`,
 * written with `SET NX PX` (see the key table in `keys.ts`).
 *
 * @module
 */

import type { RedisContext } from "./context.js";

/**
 * The shortest life of a marker (ms): a marker always outlives the request that used it, even
 * when `until` was computed on a clock behind Redis's (an injected test clock, a skewed node).
 */
export const ONCE_MIN_TTL = 60_000;

/**
 * Uses `key` once: `SET P:once:<key> 1 NX PX <ttl>` adds the key only when it is absent, in
 * one command, so of any number of concurrent calls on any number of nodes exactly one gets
 * `OK`. The marker expires by itself `until - now` ms later (at least {@link ONCE_MIN_TTL}),
 * so `purge` has nothing to do for it.
 *
 * @example
 * ```ts
 * await useOnce(ctx, "dispute:abc", Date.now() + 600_000); // → true, then false
 * ```
 */
export async function useOnce(ctx: RedisContext, key: string, until: number): Promise<boolean> {
  const ttl = Math.max(ONCE_MIN_TTL, Math.ceil(until - Date.now()));
  return (await ctx.client.set(ctx.keys.once(key), "1", "PX", ttl, "NX")) === "OK";
}
