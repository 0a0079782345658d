/**
 * The `ha` phase: what waiting for a replica costs. On a real Sentinel deployment (a primary, a
 * replica, 3 sentinels) and a real Redis Cluster (3 primaries + 3 replicas), two servers run side
 * by side: one whose session writes wait for no replica (`redis.replicas: false`, the
 * baseline), one that waits for one (`{ wait: 1 }`, the default on these deployments: each
 * claim and end is followed by `WAIT 1 <timeout>`). Login runs alternate between them, so drift
 * of the machine's load hits both; the medians and their ratio are reported.
 *
 * @module
 */

import { join } from "node:path";
import { startRedisCluster, startRedisSentinel } from "../../scripts/lib/redis-topology.js";
import { USER_AGENT } from "../lib/http.js";
import type { HttpRun, ReplicaWaitResult, Skipped } from "../lib/results.js";
import { skipped } from "../lib/results.js";
import type { Context } from "./context.js";
import { type CannonRequest, cannon, median } from "./http.js";
import { type BenchServer, startServer } from "./infra.js";

type Deployment = ReplicaWaitResult["deployment"];

/** Runs the comparison on each deployment; a deployment that cannot start is reported skipped. */
export async function runReplicaWait(ctx: Context): Promise<(ReplicaWaitResult | Skipped)[]> {
  const out: (ReplicaWaitResult | Skipped)[] = [];
  for (const deployment of ["sentinel", "cluster"] as const) {
    out.push(await onDeployment(ctx, deployment).catch((error: unknown) => skipped(String(error))));
  }
  return out;
}

async function onDeployment(ctx: Context, deployment: Deployment): Promise<ReplicaWaitResult> {
  const s = ctx.settings;
  const topology =
    deployment === "sentinel"
      ? await startRedisSentinel({ replicas: 1 })
      : await startRedisCluster({ primaries: 3, replicas: 1 });
  const connection =
    "sentinelAddresses" in topology
      ? { sentinels: topology.sentinelAddresses, name: topology.name }
      : { cluster: topology.seeds };
  const servers: BenchServer[] = [];
  try {
    for (const [name, replicas] of [
      ["nowait", false],
      ["wait1", { wait: 1 }],
    ] as const) {
      const server = await startServer(
        ctx,
        {
          kind: "solo",
          store: "redis",
          dataDir: join(ctx.tmp, `ha-${deployment}-${name}`),
          redisUrl: null,
          databaseUrl: null,
          redis: { ...connection, keyPrefix: `ha-${name}`, replicas },
          nodeId: `bench-ha-${deployment}-${name}`,
          serverModule: ctx.serverModule,
        },
        `solo-ha-${deployment}-${name}`,
      );
      if ("unavailable" in server) throw new Error(server.unavailable);
      servers.push(server);
    }
    const [noWait, wait] = servers as [BenchServer, BenchServer];
    let turn = 0;
    const request: CannonRequest = {
      method: "POST",
      path: "/auth/login",
      next: () => ({
        headers: { "content-type": "application/json", "user-agent": USER_AGENT },
        body: `{"username":"login-${turn++ % s.loginUsers}"}`,
      }),
    };
    // Warm-up: every user gets a first session on each, so every measured login kicks one.
    for (const server of servers)
      await cannon(ctx, `warm-up logins (${server.label})`, server.url, request, 0, s.loginUsers);
    const runs: HttpRun[] = [];
    for (let r = 0; r < s.httpRounds; r++) {
      // Alternate which goes first.
      const order = r % 2 === 0 ? [noWait, wait] : [wait, noWait];
      for (const server of order) {
        const label = `POST /auth/login (${deployment}, ${server === wait ? "WAIT 1" : "no WAIT"})`;
        runs.push(await cannon(ctx, label, server.url, request, s.httpSeconds));
      }
    }
    const of = (waits: boolean) => runs.filter((run) => run.label.includes("WAIT 1") === waits);
    const bad = runs.filter((run) => run.non2xx > 0 || run.errors > 0);
    if (bad.length > 0) ctx.log(`ha (${deployment}): ${bad.length} runs had non-2xx answers or errors`);
    const noWaitRps = median(of(false).map((run) => run.rps));
    const waitRps = median(of(true).map((run) => run.rps));
    return {
      status: "ok",
      deployment,
      noWaitRps,
      waitRps,
      ratio: Math.round((waitRps / Math.max(1, noWaitRps)) * 1000) / 1000,
      noWaitP50Ms: median(of(false).map((run) => run.p50Ms)),
      waitP50Ms: median(of(true).map((run) => run.p50Ms)),
      runs,
    };
  } finally {
    for (const server of servers) await server.stop();
    await topology.destroy();
  }
}
