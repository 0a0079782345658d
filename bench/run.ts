/**
 * `npm run bench`: the performance benchmark of solo-session, in one run, servers and load
 * generators in separate processes. Prints a table on stdout, writes a JSON file and an SVG
 * chart of the kick-latency distributions, and shows progress on stderr.
 *
 *   npm run bench                      full run (several minutes)
 *   npm run bench -- --quick           smoke run (under a minute; CI)
 *   npm run bench -- --phases single,http --profile   some phases, CPU profiles of the measured sections
 *   phases: single (one node, SQLite, beside the floor), http (requireSession, SQLite logins), redis (logins),
 *           postgres (logins, cross-node kicks and racing logins on 3 nodes), cluster (the same on Redis), scrypt
 *   options: --out DIR, --sizes 1000,5000 (idle sessions of the one-node series), --source (server library from server/*.ts through tsx instead of dist/),
 *            --cluster-store sqlite (cluster phase on one shared SQLite file + the Redis adapter),
 *            --redis-aof off|everysec|always (persistence of the benchmark's redis-server; default off),
 *            --postgres-sync on|off (synchronous_commit of the benchmark's PostgreSQL; default on),
 *            --cluster-sessions N (idle sessions per node in the cluster phases; default 15,000, quick 100)
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadAverage, machineInfo } from "./lib/machine.js";
import { killAll } from "./lib/proc.js";
import { evaluateTargets, formatReport } from "./lib/report.js";
import {
  type BenchResults,
  type KickRow,
  type MemoryResult,
  PHASES,
  type PhaseName,
  type RedisAof,
  type Settings,
  type Skipped,
  skipped,
} from "./lib/results.js";
import { kickChart } from "./lib/svg.js";
import { runCluster, runPostgresCluster, withPostgres, withRedis } from "./phases/cluster.js";
import type { Context } from "./phases/context.js";
import { runReplicaWait } from "./phases/ha.js";
import { runLogins, runRequireSession } from "./phases/http.js";
import { runReceivers } from "./phases/receivers.js";
import { runScrypt } from "./phases/scrypt.js";
import { runSingleNode } from "./phases/single.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Args {
  quick: boolean;
  out: string | null;
  phases: PhaseName[];
  profile: boolean;
  source: boolean;
  /** Another build of the library (its `dist/server/index.js`), e.g. a baseline commit's. */
  serverBuild: string | null;
  clusterStore: "redis" | "sqlite";
  redisAof: RedisAof;
  postgresSync: "on" | "off";
  clusterSessions: number | null;
  sizes: number[] | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    quick: false,
    out: null,
    phases: [...PHASES],
    profile: false,
    source: false,
    serverBuild: null,
    clusterStore: "redis",
    redisAof: "off",
    postgresSync: "on",
    clusterSessions: null,
    sizes: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = () => {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (v === undefined || v === "") throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") args.quick = true;
    else if (a === "--profile") args.profile = true;
    else if (a === "--source") args.source = true;
    else if (a.startsWith("--server-build")) args.serverBuild = resolve(value());
    else if (a.startsWith("--out")) args.out = value();
    else if (a.startsWith("--sizes")) {
      const sizes = value().split(",").map(Number);
      if (!sizes.every((n) => Number.isInteger(n) && n > 0 && n <= 15_000))
        throw new Error("--sizes: integers 1..15000");
      args.sizes = sizes.sort((x, y) => x - y);
    } else if (a.startsWith("--cluster-store")) {
      const store = value();
      if (store !== "redis" && store !== "sqlite") throw new Error("--cluster-store is redis or sqlite");
      args.clusterStore = store;
    } else if (a.startsWith("--redis-aof")) {
      const aof = value();
      if (aof !== "off" && aof !== "everysec" && aof !== "always")
        throw new Error("--redis-aof is off, everysec or always");
      args.redisAof = aof;
    } else if (a.startsWith("--postgres-sync")) {
      const sync = value();
      if (sync !== "on" && sync !== "off") throw new Error("--postgres-sync is on or off");
      args.postgresSync = sync;
    } else if (a.startsWith("--cluster-sessions")) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1 || n > 15_000) throw new Error("--cluster-sessions: an integer 1..15000");
      args.clusterSessions = n;
    } else if (a.startsWith("--phases")) {
      const list = value().split(",");
      for (const p of list) {
        if (!(PHASES as readonly string[]).includes(p)) throw new Error(`unknown phase "${p}": ${PHASES.join(", ")}`);
      }
      args.phases = list as PhaseName[];
    } else
      throw new Error(
        `unknown option ${a}; options: --quick --out DIR --phases ${PHASES.join(",")} --profile --source --server-build FILE --cluster-store redis|sqlite --redis-aof off|everysec|always --postgres-sync on|off --cluster-sessions N --sizes N,N`,
      );
  }
  return args;
}

function settingsFor(args: Args, serverCode: Settings["serverCode"]): Settings {
  const base = defaults(args, serverCode);
  return {
    ...base,
    ...(args.sizes ? { sizes: args.sizes } : {}),
    ...(args.clusterSessions ? { clusterSessionsPerNode: args.clusterSessions } : {}),
  };
}

function defaults(args: Args, serverCode: Settings["serverCode"]): Settings {
  const common = {
    phases: args.phases,
    serverCode,
    profile: args.profile,
    clusterNodes: 3,
    clusterStore: args.clusterStore,
    redisAof: args.redisAof,
    postgresSync: args.postgresSync,
    timeoutMs: 5000,
  };
  if (args.quick) {
    return {
      ...common,
      mode: "quick",
      sizes: [200],
      kicks: 100,
      warmupKicks: 10,
      victims: 5,
      pauseMs: 5,
      socketsPerHolder: 7500,
      connectConcurrency: 32,
      clusterSessionsPerNode: 100,
      clusterKicks: 50,
      raceRounds: 5,
      racers: 20,
      httpSeconds: 1,
      httpRounds: 1,
      httpConnections: 32,
      loginUsers: 200,
      helloTokens: 100,
      scryptCalls: 5,
      receiverEnds: 100,
    };
  }
  return {
    ...common,
    mode: "full",
    sizes: [1000, 15_000],
    kicks: 500,
    warmupKicks: 30,
    victims: 10,
    pauseMs: 10,
    socketsPerHolder: 7500,
    connectConcurrency: 64,
    clusterSessionsPerNode: 15_000,
    clusterKicks: 500,
    raceRounds: 20,
    racers: 20,
    httpSeconds: 3,
    httpRounds: 5,
    httpConnections: 50,
    loginUsers: 2000,
    helloTokens: 1000,
    scryptCalls: 40,
    receiverEnds: 1000,
  };
}

/** The compiled library when it is there and up to date; else the sources through tsx. */
function serverModule(args: Args, log: (l: string) => void): { url: string; code: Settings["serverCode"] } {
  if (args.serverBuild) {
    if (!existsSync(args.serverBuild)) throw new Error(`--server-build: ${args.serverBuild} does not exist`);
    log(`server library from ${args.serverBuild}`);
    return { url: pathToFileURL(args.serverBuild).href, code: "dist" };
  }
  const dist = join(ROOT, "dist/server/index.js");
  const source = join(ROOT, "server/index.ts");
  if (!args.source && existsSync(dist)) {
    const newest = newestMtime(join(ROOT, "server"));
    if (newest > statSync(dist).mtimeMs) log("warning: dist/server is older than server/: run npm run build:server");
    return { url: pathToFileURL(dist).href, code: "dist" };
  }
  if (!args.source) log("dist/server is not built: running the server library from its sources (tsx)");
  return { url: pathToFileURL(source).href, code: "source" };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const log = (line: string) =>
    process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  const startedAt = new Date();
  const machine = machineInfo();
  const server = serverModule(args, log);
  const settings = settingsFor(args, server.code);
  const outDir = resolve(args.out ?? join(ROOT, args.quick ? "bench/results/quick" : "bench/results"));
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), "solo-bench-"));
  const profileDir = args.profile ? join(outDir, "profiles", startedAt.toISOString().replace(/[:.]/g, "-")) : null;
  const ctx: Context = { settings, serverModule: server.url, tmp, profileDir, log };
  log(
    `${settings.mode} run: phases ${settings.phases.join(", ")}; server code from ${server.code}; load average ${machine.loadAverageAtStart.join(" ")}`,
  );

  let failures = 0;
  const run = async <T, F>(
    name: PhaseName,
    body: () => Promise<T>,
    fallback: (reason: string) => F,
  ): Promise<T | F> => {
    if (!settings.phases.includes(name)) return fallback("phase not selected (--phases)");
    log(`phase ${name}`);
    try {
      return await body();
    } catch (error) {
      failures++;
      const reason = error instanceof Error ? error.message : String(error);
      log(`phase ${name} FAILED: ${error instanceof Error ? (error.stack ?? reason) : reason}`);
      return fallback(`failed: ${reason}`);
    }
  };

  try {
    const single = await run(
      "single",
      () => runSingleNode(ctx),
      (reason) => ({
        kick: settings.sizes.map((n): KickRow => ({ n, ours: skipped(reason), floor: skipped(reason), ratio: null })),
        memory: skipped(reason) as MemoryResult | Skipped,
      }),
    );
    const requireSession = await run("http", () => runRequireSession(ctx), skipped);
    const sqliteLogins = await run("http", () => runLogins(ctx, "sqlite", null), skipped);
    const redisLogins = await run(
      "redis",
      () => withRedis(settings.redisAof, (url) => runLogins(ctx, "redis", url), skipped),
      skipped,
    );
    const replicaWait = await run(
      "ha",
      () => runReplicaWait(ctx),
      (reason) => [skipped(reason)],
    );
    const postgres = await run(
      "postgres",
      () =>
        withPostgres(
          settings.postgresSync,
          async (url) => ({
            logins: await runLogins(ctx, "postgres", url),
            cluster: await runPostgresCluster(ctx, url),
          }),
          (reason) => ({ logins: skipped(reason), cluster: { kicks: skipped(reason), race: skipped(reason) } }),
        ),
      (reason) => ({ logins: skipped(reason), cluster: { kicks: skipped(reason), race: skipped(reason) } }),
    );
    const cluster = await run(
      "cluster",
      () => runCluster(ctx),
      (reason) => ({
        kicks: skipped(reason),
        race: skipped(reason),
      }),
    );
    const scrypt = await run("scrypt", () => runScrypt(ctx), skipped);
    const receivers = await run("receivers", () => runReceivers(ctx), skipped);

    const finishedAt = new Date();
    const partial: Omit<BenchResults, "targets" | "files"> = {
      schema: 1,
      mode: settings.mode,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      seconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
      machine,
      loadAverageAtEnd: loadAverage(),
      settings,
      serverModule: relative(ROOT, fileURLToPath(server.url)),
      kick: single.kick,
      crossNode: cluster.kicks,
      crossNodePostgres: postgres.cluster.kicks,
      race: { redis: cluster.race, postgres: postgres.cluster.race },
      logins: { sqlite: sqliteLogins, redis: redisLogins, postgres: postgres.logins, scrypt },
      requireSession,
      replicaWait,
      memory: single.memory,
      receivers,
    };
    const jsonPath = join(outDir, "latest.json");
    const svgPath = join(outDir, "kick-latency.svg");
    const results: BenchResults = {
      ...partial,
      targets: evaluateTargets(partial),
      files: { json: relative(ROOT, jsonPath), svg: relative(ROOT, svgPath) },
    };
    const json = `${JSON.stringify(results, null, 2)}\n`;
    writeFileSync(jsonPath, json);
    writeFileSync(join(outDir, `run-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`), json);
    writeFileSync(svgPath, kickChart(partial));
    process.stdout.write(`${formatReport(results)}\n`);
    if (profileDir) process.stdout.write(`CPU profiles: ${relative(ROOT, profileDir)}\n`);
    if (failures > 0) log(`${failures} phase(s) failed`);
    return failures > 0 ? 1 : 0;
  } finally {
    killAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    killAll();
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
