/**
 * A `Map` that holds at most `capacity` entries: setting a new key when full forgets the oldest
 * one (insertion order; setting a key again makes it the newest). A capacity of 0 keeps nothing.
 * The one shape of every bounded cache in the server (checked sessions, verified tokens, parsed
 * User-Agents, user ids by session, delivery states).
 *
 * @example
 * ```ts
 * const seen = new BoundedMap<string, number>(2);
 * seen.set("a", 1).set("b", 2).set("c", 3); // "a" is forgotten
 * ```
 */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly capacity: number;

  constructor(capacity: number) {
    super();
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new TypeError("BoundedMap: capacity must be an integer >= 0");
    this.capacity = capacity;
  }

  override set(key: K, value: V): this {
    if (this.capacity === 0) return this;
    if (!this.delete(key) && this.size >= this.capacity) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
