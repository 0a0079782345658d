import { join } from "node:path";
import type { KickResult, MemorySnapshot, ServerKind } from "../lib/messages.js";
import type { KickRow, KickSeries, MemoryResult } from "../lib/results.js";
import { round, summarize } from "../lib/stats.js";
import type { Context } from "./context.js";
import { HolderPool, holdersFor, runKicks, split, startServer } from "./infra.js";

/** A kick series from a kicker's answer. */
export function toSeries(
  server: ServerKind,
  store: KickSeries["store"],
  idlePerNode: number[],
  result: KickResult,
): KickSeries {
  return {
    status: "ok",
    server,
    store,
    nodes: idlePerNode.length,
    idle: idlePerNode.reduce((a, b) => a + b, 0),
    idlePerNode,
    kicks: result.latencies.length + result.lost,
    lost: result.lost,
    latencyMs: summarize(result.latencies),
    responseMs: summarize(result.responses),
    samples: result.latencies.map((l) => round(l)),
    errors: result.errors,
  };
}

interface ServerRun {
  series: KickSeries[];
  baseline: MemorySnapshot;
  points: { idle: number; usage: MemorySnapshot }[];
}

/**
 * One node: our server (SQLite) with N idle sessions for each N of the settings, a kick series at
 * each N and the server's memory at each N; then the floor with the same clients and the same N.
 */
export async function runSingleNode(ctx: Context): Promise<{ kick: KickRow[]; memory: MemoryResult }> {
  const sizes = ctx.settings.sizes;
  const pool = new HolderPool(ctx, holdersFor(ctx, Math.max(...sizes)));
  try {
    const ours = await oneServer(ctx, pool, "solo");
    await pool.closeSockets();
    const floor = await oneServer(ctx, pool, "floor");
    await pool.closeSockets();
    const kick = sizes.map((n, i): KickRow => {
      const o = ours.series[i] as KickSeries;
      const f = floor.series[i] as KickSeries;
      return {
        n,
        ours: o,
        floor: f,
        ratio: {
          p50: round(o.latencyMs.p50 / f.latencyMs.p50, 2),
          p90: round(o.latencyMs.p90 / f.latencyMs.p90, 2),
          p99: round(o.latencyMs.p99 / f.latencyMs.p99, 2),
        },
      };
    });
    return { kick, memory: memoryResult(ours, floor) };
  } finally {
    await pool.stop();
  }
}

function memoryResult(ours: ServerRun, floor: ServerRun): MemoryResult {
  const last = ours.points[ours.points.length - 1];
  const first = ours.points[0];
  if (!last) throw new Error("no memory point");
  const per = (a: MemorySnapshot, b: MemorySnapshot, n: number) => ({
    heapBytes: Math.round((b.heapUsed - a.heapUsed) / n),
    rssBytes: Math.round((b.rss - a.rss) / n),
  });
  const floorLast = floor.points[floor.points.length - 1];
  return {
    status: "ok",
    n: last.idle,
    baseline: ours.baseline,
    points: ours.points,
    perSession: per(ours.baseline, last.usage, last.idle),
    marginal: first && first !== last ? per(first.usage, last.usage, last.idle - first.idle) : null,
    floorPerSocket: floorLast ? per(floor.baseline, floorLast.usage, floorLast.idle) : null,
  };
}

async function oneServer(ctx: Context, pool: HolderPool, kind: ServerKind): Promise<ServerRun> {
  const s = ctx.settings;
  const label = kind === "solo" ? "solo-sqlite" : "floor";
  const server = await startServer(
    ctx,
    kind === "solo"
      ? {
          kind: "solo",
          store: "sqlite",
          dataDir: join(ctx.tmp, "single"),
          redisUrl: null,
          databaseUrl: null,
          nodeId: "bench-1",
          serverModule: ctx.serverModule,
        }
      : { kind: "floor" },
    label,
  );
  if ("unavailable" in server) throw new Error(`${label}: ${server.unavailable}`);
  try {
    const baseline = await server.memory();
    const series: KickSeries[] = [];
    const points: ServerRun["points"] = [];
    let idle = 0;
    for (const n of s.sizes) {
      const parts = split(n - idle, pool.size);
      const connected = await pool.connect(
        kind,
        parts.map((count) => ({ url: server.url, count })),
        `idle-n${n}-`,
        `${label}: idle sessions for N=${n.toLocaleString("en-US")}`,
      );
      if (connected.failed > 0) ctx.log(`${label}: connect errors: ${connected.errors.join("; ")}`);
      idle = await server.sockets();
      points.push({ idle, usage: await server.memory() });
      const result = await server.profiled(`kicks-n${n}`, () =>
        runKicks(
          ctx,
          {
            kind,
            nodes: [server.url],
            kicks: s.kicks,
            warmup: s.warmupKicks,
            victims: s.victims,
            victimPrefix: `victim-n${n}-`,
            pauseMs: s.pauseMs,
            timeoutMs: s.timeoutMs,
          },
          `${label}: kicks at N=${n.toLocaleString("en-US")}`,
        ),
      );
      series.push(toSeries(kind, kind === "solo" ? "sqlite" : null, [idle], result));
    }
    return { series, baseline, points };
  } finally {
    await server.stop();
  }
}
