/**
 * Versioned migrations, safe when several nodes start at once: each node takes a session-level
 * advisory lock of the store's schema and prefix, applies the migrations its version table does
 * not list yet (each in its own transaction, with its row in the version table), and lets go.
 * A node that waited finds them applied and applies nothing.
 *
 * @module
 */

import type pg from "pg";
import { lockKey } from "./connection.js";
import { MIGRATIONS, type Migration, type PgNames } from "./schema.js";

/** What {@link migrate} did. */
export interface MigrationReport {
  /** Versions applied by this call, in order (empty when another node had applied them). */
  applied: number[];
  /** The schema's version after the call: the newest applied by anyone. */
  version: number;
}

/**
 * Brings the store's schema up to date on one connection. Holds the advisory lock only for the
 * migration itself (a session lock, released on the way out even if a migration fails).
 *
 * @example
 * ```ts
 * const client = await pool.connect();
 * try { await migrate(client, new PgNames("public", "solo_")) } finally { client.release() }
 * ```
 */
export async function migrate(
  client: pg.ClientBase,
  names: PgNames,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationReport> {
  const key = lockKey(names.lockScope, "migrate");
  await client.query(`SELECT pg_advisory_lock(${key})`);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${names.quotedSchema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${names.table("migrations")} (
         version     integer PRIMARY KEY,
         name        text NOT NULL,
         applied_at  timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = await client.query<{ version: number }>(`SELECT version FROM ${names.table("migrations")}`);
    const have = new Set(done.rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of migrations) {
      if (have.has(m.version)) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql(names));
        await client.query(`INSERT INTO ${names.table("migrations")} (version, name) VALUES ($1, $2)`, [
          m.version,
          m.name,
        ]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      }
      applied.push(m.version);
      have.add(m.version);
    }
    return { applied, version: Math.max(0, ...have) };
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${key})`).catch(() => undefined);
  }
}
