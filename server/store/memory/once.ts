/**
 * The memory store's single-use markers (`SessionStore.useOnce`).
 *
 * @module
 */

/**
 * Single-use markers in a map: key → the time it must be kept until. `use` is synchronous, so
 * two calls for one key can never both see it unused.
 *
 * @example
 * ```ts
 * const once = new OnceMarkers();
 * once.use("dispute:abc", Date.now() + 600_000); // → true
 * once.use("dispute:abc", Date.now() + 600_000); // → false
 * ```
 */
export class OnceMarkers {
  readonly #until = new Map<string, number>();

  /** True when `key` was not in use (it is now, until at least `until`); false when it was. */
  use(key: string, until: number): boolean {
    if (this.#until.has(key)) return false;
    this.#until.set(key, until);
    return true;
  }

  /** Forgets the markers kept until before `before`. */
  purge(before: number): void {
    for (const [key, until] of this.#until) if (until < before) this.#until.delete(key);
  }
}
