/**
 * One PostgreSQL cluster node in its own process, for tests that kill a node with SIGKILL.
 * Reads DATABASE_URL, PG_SCHEMA, DATA_DIR and NODE_ID; prints `{"port": N}` once listening.
 *
 * With DIE_AFTER_COMMIT=1 its store kills the process (SIGKILL) as soon as a claim that ended
 * sessions has committed, before the claim returns: the node never pushes or publishes that
 * revocation, as when a machine dies between its commit and anything after it.
 */
import { PostgresStore } from "../../server/store/postgres/store.js";
import type { ClaimResult, Decide, SessionRecord } from "../../server/store/types.js";
import { anyUser } from "./redis.js";
import { startTestServer } from "./server.js";

/** A PostgresStore whose claim commits, then ends the process before returning (test only). */
class DiesAfterCommit extends PostgresStore {
  override async claim(session: SessionRecord, decide: Decide): Promise<ClaimResult> {
    const result = await super.claim(session, decide);
    if (result.kind === "admitted" && result.evicted.length > 0) process.kill(process.pid, "SIGKILL");
    return result;
  }
}

const env = process.env;
const postgres = { url: env.DATABASE_URL as string, schema: env.PG_SCHEMA as string };
let store: PostgresStore | "postgres" = "postgres";
if (env.DIE_AFTER_COMMIT === "1") {
  store = new DiesAfterCommit(postgres);
  await store.ready();
}
const node = await startTestServer({
  store,
  postgres,
  dataDir: env.DATA_DIR as string,
  nodeId: env.NODE_ID as string,
  authenticate: anyUser,
});
process.stdout.write(`${JSON.stringify({ port: node.port })}\n`);
