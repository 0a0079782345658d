import { join } from "node:path";
import { startRedis } from "../lib/redis.js";
import type { ClusterResult, RedisAof, Skipped } from "../lib/results.js";
import { skipped } from "../lib/results.js";
import type { Context } from "./context.js";
import { type BenchServer, HolderPool, holdersFor, runKicks, split, startServer } from "./infra.js";
import { toSeries } from "./single.js";

/**
 * Cross-node kicks: three nodes on one Redis (the Redis store and the Socket.IO Redis
 * adapter), idle sessions on every node, and each kick's login sent to a different node than
 * the one holding the old socket. Connects as many idle sessions as the machine allows, up to
 * the target per node, and reports how many it held.
 */
export async function runCluster(ctx: Context): Promise<ClusterResult | Skipped> {
  const s = ctx.settings;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  try {
    redis = await startRedis(s.redisAof);
  } catch (error) {
    return skipped(`redis-server could not be started (${error instanceof Error ? error.message : String(error)})`);
  }
  const nodes: BenchServer[] = [];
  let pool: HolderPool | null = null;
  try {
    const dataDir = join(ctx.tmp, "cluster");
    const start = (i: number) =>
      startServer(
        ctx,
        {
          kind: "solo",
          store: s.clusterStore,
          dataDir,
          redisUrl: redis.url,
          nodeId: `node-${i}`,
          serverModule: ctx.serverModule,
        },
        `solo-${s.clusterStore}-node${i}`,
      );
    // The first node creates the signing keys in the shared data directory; the others read them.
    const first = await start(1);
    if ("unavailable" in first) return skipped(`redis store not available in this build (${first.unavailable})`);
    nodes.push(first);
    for (const node of await Promise.all(Array.from({ length: s.clusterNodes - 1 }, (_, i) => start(i + 2)))) {
      if ("unavailable" in node) return skipped(`redis store not available in this build (${node.unavailable})`);
      nodes.push(node);
    }
    ctx.log(`cluster: ${nodes.length} nodes up (adapter ${first.adapter})`);

    const perNodeHolders = holdersFor(ctx, s.clusterSessionsPerNode);
    pool = new HolderPool(ctx, perNodeHolders * nodes.length);
    const assignments = nodes.flatMap((node) =>
      split(s.clusterSessionsPerNode, perNodeHolders).map((count) => ({ url: node.url, count })),
    );
    const connected = await pool.connect(
      "solo",
      assignments,
      "idle-cluster-",
      `cluster: idle sessions (${s.clusterSessionsPerNode.toLocaleString("en-US")} per node)`,
    );
    const connectedPerNode = await Promise.all(nodes.map((n) => n.sockets()));
    const result = await runKicks(
      ctx,
      {
        kind: "solo",
        nodes: nodes.map((n) => n.url),
        kicks: s.clusterKicks,
        warmup: s.warmupKicks,
        victims: s.victims,
        victimPrefix: "victim-cluster-",
        pauseMs: s.pauseMs,
        timeoutMs: s.timeoutMs,
      },
      "cluster: cross-node kicks",
    );
    return {
      status: "ok",
      nodes: nodes.length,
      targetPerNode: s.clusterSessionsPerNode,
      connectedPerNode,
      connectFailures: connected.failed,
      connectErrors: connected.errors,
      series: toSeries("solo", s.clusterStore, connectedPerNode, result),
    };
  } finally {
    if (pool) {
      await pool.closeSockets().catch(() => undefined);
      await pool.stop();
    }
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
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
