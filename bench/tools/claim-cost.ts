/**
 * The cost of one SQLite claim, in-process (no HTTP, no tokens): `node --import tsx
 * bench/tools/claim-cost.ts [CLAIMS]`. Half the claims are by one account signing in over and
 * over (past the cap on its `replaced` tombstones, so each of them deletes one), half by 2,000
 * other users. Prints p50 and p99 of the claim, and the rows the flooding account keeps.
 * Checkpoints are left to SQLite (no worker), so p99 includes them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { decide } from "../../server/sessions/policy.js";
import { SqliteStore } from "../../server/store/sqlite/store.js";
import type { SessionRecord } from "../../server/store/types.js";

const claims = Number(process.argv[2] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), "claim-cost-"));
const file = join(dir, "solo.db");
const store = new SqliteStore({ filename: file, checkpointInterval: 0 });
const device = { name: null, browser: "Firefox 132", os: "Windows 10", ip: "10.0.0.1" };
let now = Date.now();
const session = (userId: string): SessionRecord => {
  now++;
  const id = `s${now.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  return {
    id,
    userId,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 8 * 3_600_000,
    device,
    presenceAt: null,
    ended: null,
  };
};
const newestWins = (live: readonly SessionRecord[]) =>
  decide("newest-wins", live, { now, takeover: false, abandonGrace: 60_000 });

for (let u = 0; u < 2000; u++) await store.claim(session(`user${u}`), newestWins);
for (let i = 0; i < 200; i++) await store.claim(session("flood"), newestWins);
const micros: number[] = [];
for (let i = 0; i < claims; i++) {
  const next = session(i % 2 === 0 ? "flood" : `user${i % 2000}`);
  const start = process.hrtime.bigint();
  await store.claim(next, newestWins);
  micros.push(Number(process.hrtime.bigint() - start) / 1000);
}
await store.close();
micros.sort((a, b) => a - b);
const at = (q: number) => (micros[Math.floor(q * (micros.length - 1))] ?? 0).toFixed(1);
const db = new Database(file, { readonly: true });
const rows = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sessions WHERE user_id = 'flood'").get();
db.close();
rmSync(dir, { recursive: true, force: true });
console.log(`${claims} claims: p50 ${at(0.5)} µs, p99 ${at(0.99)} µs; the flooding account keeps ${rows?.n} rows`);
