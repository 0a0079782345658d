/**
 * One cluster node in its own process, for tests that kill a node with SIGKILL. Reads
 * REDIS_URL, KEY_PREFIX, DATA_DIR and NODE_ID; prints `{"port": N}` once listening.
 */
import { anyUser } from "./redis.js";
import { startTestServer } from "./server.js";

const env = process.env;
const node = await startTestServer({
  store: "redis",
  redis: { url: env.REDIS_URL as string, keyPrefix: env.KEY_PREFIX as string },
  dataDir: env.DATA_DIR as string,
  nodeId: env.NODE_ID as string,
  authenticate: anyUser,
});
process.stdout.write(`${JSON.stringify({ port: node.port })}\n`);
