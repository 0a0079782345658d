import { join } from "node:path";
import { type LocalPostgres, startPostgres } from "../../scripts/lib/postgres.js";
import { startRedis } from "../lib/redis.js";
import type { ClusterResult, RaceResult, RedisAof, Skipped } from "../lib/results.js";
import { skipped } from "../lib/results.js";
import { summarize } from "../lib/stats.js";
import type { Context } from "./context.js";
import { type BenchServer, HolderPool, holdersFor, runKicks, split, startServer } from "./infra.js";
import { runRace } from "./race.js";
import { toSeries } from "./single.js";

/** What the nodes of a cluster share. */
type Shared = { store: "redis" | "sqlite"; redisUrl: string } | { store: "postgres"; databaseUrl: string };

/** The cross-node kicks and the racing logins of one cluster. */
export interface ClusterRun {
  kicks: ClusterResult | Skipped;
  race: RaceResult | Skipped;
}

/**
 * Cross-node kicks: three nodes on one Redis (the Redis store and the Socket.IO Redis
 * adapter), idle sessions on every node, and each kick's login sent to a different node than
 * the one holding the old socket. Connects as many idle sessions as the machine allows, up to
 * the target per node, and reports how many it held. Then racing logins over the same nodes.
 */
export async function runCluster(ctx: Context): Promise<ClusterRun> {
  const s = ctx.settings;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  try {
    redis = await startRedis(s.redisAof);
  } catch (error) {
    const reason = skipped(
      `redis-server could not be started (${error instanceof Error ? error.message : String(error)})`,
    );
    return { kicks: reason, race: reason };
  }
  try {
    return await onNodes(ctx, { store: s.clusterStore, redisUrl: redis.url });
  } finally {
    await redis.stop();
  }
}

/**
 * The same on three nodes sharing one PostgreSQL (the PostgreSQL store, LISTEN/NOTIFY on the
 * ends table and the Socket.IO PostgreSQL adapter), on a local server started for the run.
 */
export async function runPostgresCluster(ctx: Context, databaseUrl: string): Promise<ClusterRun> {
  return onNodes(ctx, { store: "postgres", databaseUrl });
}

async function onNodes(ctx: Context, shared: Shared): Promise<ClusterRun> {
  const s = ctx.settings;
  const nodes: BenchServer[] = [];
  let pool: HolderPool | null = null;
  const name = shared.store === "postgres" ? "postgres" : "cluster";
  try {
    const dataDir = join(ctx.tmp, name);
    const start = (i: number) =>
      startServer(
        ctx,
        {
          kind: "solo",
          store: shared.store,
          dataDir,
          redisUrl: shared.store === "postgres" ? null : shared.redisUrl,
          databaseUrl: shared.store === "postgres" ? shared.databaseUrl : null,
          nodeId: `node-${i}`,
          serverModule: ctx.serverModule,
        },
        `solo-${shared.store}-node${i}`,
      );
    const unavailable = (reason: string): ClusterRun => {
      const why = skipped(`${shared.store} store not available in this build (${reason})`);
      return { kicks: why, race: why };
    };
    // The first node creates the signing keys in the shared data directory; the others read them.
    const first = await start(1);
    if ("unavailable" in first) return unavailable(first.unavailable);
    nodes.push(first);
    for (const node of await Promise.all(Array.from({ length: s.clusterNodes - 1 }, (_, i) => start(i + 2)))) {
      if ("unavailable" in node) return unavailable(node.unavailable);
      nodes.push(node);
    }
    ctx.log(`${name}: ${nodes.length} nodes up (adapter ${first.adapter})`);

    const perNodeHolders = holdersFor(ctx, s.clusterSessionsPerNode);
    pool = new HolderPool(ctx, perNodeHolders * nodes.length);
    const assignments = nodes.flatMap((node) =>
      split(s.clusterSessionsPerNode, perNodeHolders).map((count) => ({ url: node.url, count })),
    );
    const connected = await pool.connect(
      "solo",
      assignments,
      `idle-${name}-`,
      `${name}: idle sessions (${s.clusterSessionsPerNode.toLocaleString("en-US")} per node)`,
    );
    const connectedPerNode = await Promise.all(nodes.map((n) => n.sockets()));
    await Promise.all(nodes.map((n) => n.claims())); // the idle sessions' logins are not measured
    const result = await runKicks(
      ctx,
      {
        kind: "solo",
        nodes: nodes.map((n) => n.url),
        kicks: s.clusterKicks,
        warmup: s.warmupKicks,
        victims: s.victims,
        victimPrefix: `victim-${name}-`,
        pauseMs: s.pauseMs,
        timeoutMs: s.timeoutMs,
      },
      `${name}: cross-node kicks`,
    );
    const kicks: ClusterResult = {
      status: "ok",
      nodes: nodes.length,
      targetPerNode: s.clusterSessionsPerNode,
      connectedPerNode,
      connectFailures: connected.failed,
      connectErrors: connected.errors,
      series: toSeries("solo", shared.store, connectedPerNode, result),
      claimMs: summarize((await Promise.all(nodes.map((n) => n.claims()))).flat()),
    };
    ctx.log(`${name}: claims during the kicks: p50 ${kicks.claimMs.p50} ms, p99 ${kicks.claimMs.p99} ms`);
    const race =
      shared.store === "sqlite"
        ? skipped("racing logins run on the Redis and PostgreSQL clusters")
        : await runRace(
            ctx,
            shared.store,
            nodes.map((n) => n.url),
          );
    return { kicks, race };
  } finally {
    if (pool) {
      await pool.closeSockets().catch(() => undefined);
      await pool.stop();
    }
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

/** The Redis logins phase needs its own redis-server; this runs `body` with one. */
export async function withRedis<T>(
  aof: RedisAof,
  body: (url: string) => Promise<T>,
  onFail: (reason: string) => T,
): Promise<T> {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  try {
    redis = await startRedis(aof);
  } catch (error) {
    return onFail(`redis-server could not be started (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    return await body(redis.url);
  } finally {
    await redis.stop();
  }
}

/**
 * The PostgreSQL phase's server: a throwaway cluster (Debian's `initdb`/`pg_ctl`, a temp
 * directory, a free port) with `fsync` on and `synchronous_commit` as `--postgres-sync` says
 * (`on`, the default and PostgreSQL's: a commit waits for its WAL flush), removed after `body`.
 */
export async function withPostgres<T>(
  sync: "on" | "off",
  body: (url: string) => Promise<T>,
  onFail: (reason: string) => T,
): Promise<T> {
  let postgres: LocalPostgres;
  try {
    postgres = await startPostgres({
      durable: true,
      settings: { max_connections: "200", synchronous_commit: sync },
    });
  } catch (error) {
    return onFail(`PostgreSQL could not be started (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    return await body(postgres.url);
  } finally {
    await postgres.destroy();
  }
}
