import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LocalPostgres } from "../../scripts/lib/postgres.js";
import type { PostgresOptions, RedisOptions } from "../../server/index.js";
import { anyUser, type NodeProcess, startNodeScript } from "./redis.js";
import type { TestServerOptions } from "./server.js";

/**
 * A real PostgreSQL for a test run: a throwaway cluster (`initdb` into a temp dir, `pg_ctl start`
 * on a free port, as the `postgres` user under root), from `scripts/lib/postgres.ts`. Tests
 * start it through `testResources().postgres()`, which destroys it (and its directory) at the end.
 */
export type TestPostgres = LocalPostgres;

let schemas = 0;
/**
 * A schema name no other test in this process uses (lowercase, as the store requires), so that
 * each test on a shared PostgreSQL starts with empty tables.
 */
export function uniqueSchema(name = "t"): string {
  return `${name}_${process.pid}_${++schemas}`;
}

/** Options of `testResources().pgNodes()`: one database and schema, one key directory. */
export interface PgNodesOptions {
  url: string;
  schema: string;
  /** One key directory shared by the nodes (they must agree on the signing keys). */
  dataDir: string;
  /** More `postgres` options (adapter, reconcileInterval, endsPollInterval, pool). */
  postgres?: Omit<PostgresOptions, "url" | "schema">;
  /** Names the nodes `<nodePrefix>-1`..: their connections' `application_name` carries it. @default "node" */
  nodePrefix?: string;
  /** With `postgres.adapter: "redis"` (or `true` and Redis given): the Redis of the adapter. */
  redis?: RedisOptions;
  rateLimit?: false;
}

/** The server options of node `i` (1-based) of a PostgreSQL cluster: any username, the shared schema and keys. */
export function pgNodeOptions(i: number, options: PgNodesOptions): TestServerOptions {
  return {
    store: "postgres",
    postgres: { url: options.url, schema: options.schema, ...options.postgres },
    dataDir: options.dataDir,
    nodeId: `${options.nodePrefix ?? "node"}-${i}`,
    authenticate: anyUser,
    ...(options.redis === undefined ? {} : { redis: options.redis }),
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
  };
}

/**
 * Starts `test/support/postgres-node.ts` in a child process (tsx); resolves once it listens.
 * With `dieAfterCommit` the node SIGKILLs itself once a claim that ended sessions has
 * committed, before the claim returns. Tests start it through `testResources().pgNodeProcess()`.
 */
export function startPgNodeProcess(options: {
  url: string;
  schema: string;
  dataDir: string;
  nodeId: string;
  dieAfterCommit?: boolean;
}): Promise<NodeProcess> {
  return startNodeScript(join(dirname(fileURLToPath(import.meta.url)), "postgres-node.ts"), {
    DATABASE_URL: options.url,
    PG_SCHEMA: options.schema,
    DATA_DIR: options.dataDir,
    NODE_ID: options.nodeId,
    DIE_AFTER_COMMIT: options.dieAfterCommit ? "1" : "0",
  });
}
