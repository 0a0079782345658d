/**
 * The SQLite store's single-use markers (`SessionStore.useOnce`): one table of its own.
 *
 * @module
 */

import type { Prepare, Statement } from "./statements.js";

/** The table of single-use markers: a key is used once; `until` is how long the marker must stand. */
export const ONCE_SCHEMA = `
CREATE TABLE IF NOT EXISTS once (
  key    TEXT PRIMARY KEY,
  until  INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS once_until ON once (until);
`;

/**
 * Single-use markers in the `once` table: `INSERT OR IGNORE` adds the key only when it is not
 * there, in one statement, so two writers (threads or processes sharing the file) can never
 * both add it.
 *
 * @example
 * ```ts
 * db.exec(ONCE_SCHEMA);
 * const once = new SqliteOnce((sql) => db.prepare(sql));
 * once.use("dispute:abc", Date.now() + 600_000); // → true, then false
 * ```
 */
export class SqliteOnce {
  readonly #insert: Statement<[string, number]>;
  readonly #purge: Statement<[number]>;

  /** Prepares its statements; the table ({@link ONCE_SCHEMA}) must exist. */
  constructor(prepare: Prepare) {
    this.#insert = prepare("INSERT OR IGNORE INTO once (key, until) VALUES (?, ?)") as Statement<[string, number]>;
    this.#purge = prepare("DELETE FROM once WHERE until < ?") as Statement<[number]>;
  }

  /** True when `key` was not in use (it is now); false when it was. */
  use(key: string, until: number): boolean {
    return this.#insert.run(key, until).changes === 1;
  }

  /** Forgets the markers kept until before `before`. */
  purge(before: number): void {
    this.#purge.run(before);
  }
}
