import { DemoUsers } from "../../standalone/users.js";
import type { ScryptResult } from "../lib/results.js";
import { round } from "../lib/stats.js";
import type { Context } from "./context.js";

/**
 * The standalone server's password check (scrypt in `DemoUsers.authenticate`), timed alone:
 * one call at a time (→ logins per second per core), then with `concurrency` in flight on the
 * libuv pool (→ logins per second this machine could hash).
 */
export async function runScrypt(ctx: Context): Promise<ScryptResult> {
  const users = await DemoUsers.create([{ username: "alice", password: "demo" }]);
  const credentials = { username: "alice", password: "demo" };
  for (let i = 0; i < 3; i++) await users.authenticate(credentials);
  const calls = ctx.settings.scryptCalls;
  let t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    if (!(await users.authenticate(credentials))) throw new Error("scrypt check failed");
  }
  const msPerCall = (performance.now() - t0) / calls;
  const concurrency = 4;
  t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < calls * 2) await users.authenticate(credentials);
    }),
  );
  const concurrentPerSecond = (calls * 2) / ((performance.now() - t0) / 1000);
  const result: ScryptResult = {
    status: "ok",
    msPerCall: round(msPerCall, 2),
    perCorePerSecond: Math.round(1000 / msPerCall),
    concurrency,
    concurrentPerSecond: Math.round(concurrentPerSecond),
  };
  ctx.log(
    `scrypt: ${result.msPerCall} ms per login check, ${result.concurrentPerSecond}/s with ${concurrency} in flight`,
  );
  return result;
}
