/**
 * The contract of the single-use markers (`useOnce`): used once, atomically, kept at least
 * until their time, through a purge before that time.
 *
 * @module
 */

import { describe, expect, it } from "vitest";
import { SoloError } from "../../errors/solo-error.js";
import { type Fresh, HOUR, T0 } from "./fixtures.js";

/** Registers the tests of `useOnce`; `fresh` gives a new, empty store. */
export function onceContract(fresh: Fresh): void {
  describe("useOnce", () => {
    it("is true the first time a key is used and false every later time; keys are independent", async () => {
      const store = await fresh();
      const until = T0 + HOUR;
      expect(await store.useOnce("dispute:s1", until)).toBe(true);
      expect(await store.useOnce("dispute:s1", until)).toBe(false);
      expect(await store.useOnce("dispute:s1", until + HOUR)).toBe(false);
      expect(await store.useOnce("dispute:s2", until)).toBe(true);
      expect(await store.useOnce("other:s1", until)).toBe(true);
      // Keys are opaque: spaces, colons, braces and non-ASCII text are keys like any other.
      const odd = "k {u:alice} é 🔑:".repeat(20);
      expect(await store.useOnce(odd, until)).toBe(true);
      expect(await store.useOnce(odd, until)).toBe(false);
      expect(await store.useOnce(odd.slice(1), until)).toBe(true);
    });

    it("of concurrent uses of one key, exactly one is true", async () => {
      const store = await fresh();
      const results = await Promise.all(Array.from({ length: 25 }, () => store.useOnce("race", T0 + HOUR)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("keeps a marker through a purge before its time, and through the purge of everything else", async () => {
      const store = await fresh();
      const until = T0 + HOUR;
      expect(await store.useOnce("kept", until)).toBe(true);
      await store.purge(until - 1, until - 1);
      await store.purge(T0, T0);
      expect(await store.useOnce("kept", until)).toBe(false);
      expect(await store.countLive()).toBe(0);
    });

    it("after close, rejects with store_unavailable", async () => {
      const store = await fresh();
      await store.close();
      const error = await store.useOnce("late", T0 + HOUR).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SoloError);
      expect((error as SoloError).code).toBe("store_unavailable");
    });
  });
}
