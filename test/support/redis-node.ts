/**
 * One cluster node in its own process, for tests that kill a node with SIGKILL. Reads
 * SOLO_TEST_REDIS (the deployment as JSON: `{ url }`, `{ cluster }` or `{ sentinels, name }`),
 * KEY_PREFIX, DATA_DIR and NODE_ID; prints `{"port": N}` once listening.
 *
 * With DIE_AFTER_COMMIT=1 its store kills the process (SIGKILL) as soon as a claim that ended
 * sessions has committed in Redis, before the claim returns: the node never pushes or
 * publishes that revocation, as when a machine dies between its commit and its publish.
 */
import type { RedisConnectionOptions } from "../../server/store/redis/connection.js";
import { RedisStore } from "../../server/store/redis/store.js";
import type { ClaimResult, Decide, SessionRecord } from "../../server/store/types.js";
import { anyUser } from "./redis.js";
import { startTestServer } from "./server.js";

/** A RedisStore whose claim commits, then ends the process before returning (test only). */
class DiesAfterCommit extends RedisStore {
  override async claim(session: SessionRecord, decide: Decide): Promise<ClaimResult> {
    const result = await super.claim(session, decide);
    if (result.kind === "admitted" && result.evicted.length > 0) process.kill(process.pid, "SIGKILL");
    return result;
  }
}

const env = process.env;
const redis = {
  ...(JSON.parse(env.SOLO_TEST_REDIS as string) as RedisConnectionOptions),
  keyPrefix: env.KEY_PREFIX as string,
};
let store: RedisStore | "redis" = "redis";
if (env.DIE_AFTER_COMMIT === "1") {
  store = new DiesAfterCommit(redis);
  await store.ready();
}
const node = await startTestServer({
  store,
  redis,
  dataDir: env.DATA_DIR as string,
  nodeId: env.NODE_ID as string,
  authenticate: anyUser,
});
process.stdout.write(`${JSON.stringify({ port: node.port })}\n`);
