/**
 * `npm run cluster`: a local Redis deployment (or PostgreSQL) and N solo-session nodes sharing
 * it, for trying scale-out and failover by hand. Ctrl-C stops them all.
 *
 *   npm run cluster                       # one redis-server (AOF in SOLO_DATA_DIR/redis)
 *   npm run cluster -- --redis cluster    # Redis Cluster: 3 primaries + 3 replicas
 *   npm run cluster -- --redis sentinel   # Sentinel: a primary, a replica, 3 sentinels
 *   npm run cluster -- --store postgres   # a local PostgreSQL (Debian's initdb/pg_ctl)
 *
 * The cluster and Sentinel deployments run in a temporary directory (AOF on), removed at exit;
 * their processes' pids are printed, so a primary can be `kill -9`ed to watch a failover.
 *
 * Environment: `NODES` (3), `PORT` (3000: the nodes take PORT, PORT+1, ...), `HOST`
 * (localhost), `SOLO_DATA_DIR` (./data/cluster: shared signing keys, the single Redis's AOF in
 * `redis/`, the PostgreSQL cluster in `postgres/`), `REDIS_PORT` / `POSTGRES_PORT` (a free port
 * otherwise), `REDIS_URL` / `DATABASE_URL` (use that server instead of starting one; not with
 * `--redis`), and anything the standalone server reads (`SOLO_POLICY`, `LOG_LEVEL`, ...).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type LocalPostgres, startPostgres } from "./lib/postgres.js";
import { type RedisProcess, startRedisCluster, startRedisSentinel, startRedisServer } from "./lib/redis-topology.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const count = Number(env.NODES ?? 3);
const basePort = Number(env.PORT ?? 3000);
const host = env.HOST || "localhost";
const dataDir = resolve(env.SOLO_DATA_DIR || join(root, "data", "cluster"));
const children: { name: string; child: ChildProcess }[] = [];
/** Stops the Redis deployment this script started (after the nodes). */
let stopRedis: () => Promise<void> = async () => {};
let stopping = false;
/** The PostgreSQL this script started (stopped after the nodes), if any. */
let postgres: LocalPostgres | null = null;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** Runs a child, prefixing its output with its name; a child that dies is reported, not fatal. */
function run(name: string, command: string, args: string[], childEnv: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { cwd: root, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line) stream.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on("data", prefix(process.stdout));
  child.stderr?.on("data", prefix(process.stderr));
  child.on("error", (error) => console.error(`[${name}] ${error.message}`));
  child.on("exit", (code, signal) => {
    if (!stopping) console.error(`[${name}] exited (${signal ?? code}); the others keep running`);
  });
  children.push({ name, child });
  return child;
}

async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping ${children.length} processes`);
  // Nodes first, then Redis, so the nodes close their connections cleanly.
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const force = setTimeout(() => child.kill("SIGKILL"), 5000);
          child.once("exit", () => {
            clearTimeout(force);
            done();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
  await stopRedis().catch((error: unknown) => console.error(error));
  await postgres?.stop().catch((error: unknown) => console.error(`[postgres] ${String(error)}`));
  process.exit(0);
}

/** Which Redis deployment `--redis` asks for. */
const KINDS = ["single", "cluster", "sentinel"] as const;
type Kind = (typeof KINDS)[number];

/**
 * Starts the deployment; returns the environment that points a node at it, what to print, and
 * how to stop it.
 */
async function startDeployment(
  kind: Kind,
): Promise<{ env: NodeJS.ProcessEnv; lines: string[]; stop(): Promise<void> }> {
  const list = (processes: RedisProcess[]) => processes.map((p) => `${p.address} (pid ${p.pid})`).join(", ");
  if (kind === "cluster") {
    const cluster = await startRedisCluster({ replicas: 1, aof: true });
    const global = await cluster.primaryFor("solo:{g}:ends");
    return {
      env: { REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(",") },
      lines: [
        "Redis Cluster, 3 primaries + 3 replicas:",
        ...cluster.nodes.map(
          (n) =>
            `  ${n.address}  pid ${n.pid}${n === global ? "  (primary of {g}: the indexes and the ends stream)" : ""}`,
        ),
        "kill -9 a primary's pid: its replica takes over in ~2 s; logins on its slots answer 503 meanwhile.",
      ],
      stop: () => cluster.destroy(),
    };
  }
  if (kind === "sentinel") {
    const sentinel = await startRedisSentinel({ replicas: 1, aof: true });
    const primary = await sentinel.primary();
    return {
      env: {
        REDIS_SENTINELS: sentinel.sentinelAddresses.map((s) => `${s.host}:${s.port}`).join(","),
        REDIS_SENTINEL_NAME: sentinel.name,
      },
      lines: [
        `Redis Sentinel "${sentinel.name}": primary ${primary.address} (pid ${primary.pid}), replica ${list(sentinel.servers.filter((s) => s !== primary))}`,
        `  sentinels ${list(sentinel.sentinels)}`,
        "kill -9 the primary's pid: the sentinels promote the replica in ~3 s; logins answer 503 meanwhile.",
      ],
      stop: () => sentinel.destroy(),
    };
  }
  if (env.REDIS_URL)
    return { env: { REDIS_URL: env.REDIS_URL }, lines: [`Redis: ${env.REDIS_URL}`], stop: async () => {} };
  const single = await startRedisServer({
    dir: join(dataDir, "redis"),
    aof: true,
    ...(env.REDIS_PORT ? { port: Number(env.REDIS_PORT) } : {}),
  });
  return {
    env: { REDIS_URL: single.url },
    lines: [`Redis: ${single.url} (pid ${single.server.pid}, AOF in ${join(dataDir, "redis")})`],
    stop: () => single.destroy(),
  };
}

async function main(): Promise<void> {
  if (!Number.isInteger(count) || count < 1 || count > 16) fail(`NODES must be 1..16, got "${env.NODES}"`);
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + count > 65535)
    fail(`PORT is not a port: "${env.PORT}"`);
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  mkdirSync(dataDir, { recursive: true });

  const { values } = parseArgs({
    options: { redis: { type: "string", default: "single" }, store: { type: "string", default: "redis" } },
  });
  if (values.store !== "redis" && values.store !== "postgres")
    fail(`--store is redis or postgres, got "${values.store}"`);
  // The nodes take their store from the variables set here only.
  const nodeEnv = { ...env };
  for (const name of ["REDIS_URL", "REDIS_CLUSTER_NODES", "REDIS_SENTINELS", "REDIS_SENTINEL_NAME", "DATABASE_URL"])
    delete nodeEnv[name];

  if (values.store === "postgres") {
    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      // Kept in the data directory (durable: fsync on), so sessions survive a restart of the script.
      postgres = await startPostgres({
        dir: join(dataDir, "postgres"),
        durable: true,
        ...(env.POSTGRES_PORT ? { port: Number(env.POSTGRES_PORT) } : {}),
      }).catch((error: unknown) => fail(`PostgreSQL did not start: ${error instanceof Error ? error.message : error}`));
      databaseUrl = postgres.url;
    }
    startNodes(
      nodeEnv,
      { SOLO_STORE: "postgres", DATABASE_URL: databaseUrl },
      [`PostgreSQL: ${databaseUrl}`],
      "PostgreSQL",
    );
    return;
  }

  const kind = values.redis as Kind;
  if (!KINDS.includes(kind)) fail(`--redis must be single, cluster or sentinel, got "${values.redis}"`);
  if (kind !== "single" && env.REDIS_URL) fail("REDIS_URL names a Redis of your own: leave out --redis");
  const deployment = await startDeployment(kind).catch((error: unknown) =>
    fail(`could not start Redis (${kind}): ${error instanceof Error ? error.message : String(error)}
(redis-server, redis-cli and redis-sentinel come with: sudo apt-get install -y redis-server redis-sentinel)`),
  );
  stopRedis = deployment.stop;
  startNodes(
    nodeEnv,
    { SOLO_STORE: "redis", ...deployment.env },
    deployment.lines,
    kind === "single" ? "one Redis server" : `Redis ${kind}`,
  );
}

/** Starts the nodes on the shared store (`storeEnv` points them at it), and says where they are. */
function startNodes(
  nodeEnv: NodeJS.ProcessEnv,
  storeEnv: NodeJS.ProcessEnv,
  storeLines: string[],
  storeName: string,
): void {
  for (let i = 0; i < count; i++) {
    run(`node-${i + 1}`, process.execPath, ["--import", "tsx", join(root, "standalone", "main.ts")], {
      ...nodeEnv,
      PORT: String(basePort + i),
      HOST: host,
      ...storeEnv,
      SOLO_DATA_DIR: dataDir,
      LOG_LEVEL: env.LOG_LEVEL || "warn",
    });
  }
  console.log(
    [
      `solo-session cluster: ${count} nodes on ${storeName}, shared keys in ${dataDir}`,
      ...storeLines,
      ...children.map((c, i) => `  ${c.name}  http://${host}:${basePort + i}  pid ${c.child.pid}`),
      "Sign in as the same user on two nodes to see the kick cross nodes; kill -9 a node's pid to see its clients move on.",
      "Ctrl-C stops everything.",
    ].join("\n"),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  void stop("error");
});
