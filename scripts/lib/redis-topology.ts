/**
 * Real Redis deployments on this machine, for the tests, the benchmark and `npm run cluster`:
 * one redis-server, a Redis Cluster (primaries with replicas, joined by `redis-cli --cluster
 * create`) and Sentinel (a primary, its replicas and three sentinels). Each process runs on a
 * free port in a directory of its own; `destroy()` stops them all and removes the temporary
 * ones. Nothing here is a stand-in: these are Debian's `redis-server` and `redis-sentinel`.
 * Ports come from `freePort` (net.ts). The waits poll every 50 ms with a deadline: this module
 * also runs outside Vitest (`npm run cluster`, the benchmark), so it cannot use `vi.waitFor`.
 *
 * @module
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { answersPing, freePort } from "./net.js";

const run = promisify(execFile);

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** A redis address as the clients take it. */
export interface RedisAddress {
  host: string;
  port: number;
}

/** One redis-server (or redis-sentinel) process of a deployment. */
export interface RedisProcess {
  port: number;
  /** `127.0.0.1:port` */
  address: string;
  /** The process id while it runs (for `kill -9` by hand). */
  readonly pid: number | undefined;
  /** SIGKILL (the default) or SIGTERM, then wait for the exit. */
  kill(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Starts it again with the same arguments and port (after `kill`). */
  restart(): Promise<void>;
  readonly running: boolean;
}

/**
 * Runs one `redis-cli` command against a port; resolves with its output (one value a line).
 *
 * @example
 * ```ts
 * await redisCli(port, "CONFIG", "SET", "min-replicas-to-write", "1");
 * ```
 */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { timeout: 10_000 });
  return stdout;
}

/** Polls `check` every 50 ms until it holds; throws after `timeout` ms. */
async function until(check: () => Promise<boolean>, what: string, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Spawns `program` with `args(port)` on `port` (a free one when not given; another free one if
 * that was taken meanwhile); resolves once it answers PING.
 */
async function spawnRedis(
  program: "redis-server" | "redis-sentinel",
  args: (port: number) => string[],
  wantedPort?: number,
): Promise<RedisProcess> {
  let port = wantedPort ?? (await freePort());
  let child: ChildProcess | null = null;
  const launch = async () => {
    const proc = spawn(program, args(port), { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child = proc;
    live.add(proc);
    proc.once("exit", () => live.delete(proc));
    await until(async () => {
      if (proc.exitCode !== null) throw new Error(`${program} on ${port} exited: ${stderr}`);
      return answersPing(port);
    }, `${program} on ${port}`);
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      if (wantedPort !== undefined || attempt >= 3) throw error;
      port = await freePort();
    }
  }
  const proc: RedisProcess = {
    port,
    address: `127.0.0.1:${port}`,
    get pid() {
      return proc.running ? (child?.pid ?? undefined) : undefined;
    },
    get running() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    async kill(signal = "SIGKILL") {
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => current.once("exit", () => resolve()));
      current.kill(signal);
      await exited;
    },
    async restart() {
      if (proc.running) throw new Error(`${program} on ${port} is running`);
      await launch();
    },
  };
  return proc;
}

const COMMON = ["--bind", "127.0.0.1", "--protected-mode", "no", "--save", "", "--loglevel", "warning"];

/** Persistence of a deployment's servers. */
export interface Persistence {
  /** Append-only file on (with `appendfsync always`), so a crashed process loses no acknowledged write. @default false */
  aof?: boolean;
}

function persistence(options: Persistence): string[] {
  return ["--appendonly", options.aof ? "yes" : "no", "--appendfsync", "always"];
}

/** A directory for a deployment: `dir` (kept) when given, else a fresh temporary one (removed by `destroy`). */
function workDir(dir: string | undefined, name: string): { path: string; remove(): void } {
  if (dir) {
    mkdirSync(dir, { recursive: true });
    return { path: dir, remove: () => {} };
  }
  const path = mkdtempSync(join(tmpdir(), `solo-${name}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** One redis-server. */
export interface RedisServerDeployment {
  server: RedisProcess;
  url: string;
  destroy(): Promise<void>;
}

/**
 * Starts one redis-server in `dir` (kept; a temporary directory otherwise) on `port` (a free one
 * otherwise).
 *
 * @example
 * ```ts
 * const single = await startRedisServer({ dir: "./data/cluster/redis", aof: true });
 * ```
 */
export async function startRedisServer(
  options: Persistence & { dir?: string; port?: number } = {},
): Promise<RedisServerDeployment> {
  const dir = workDir(options.dir, "redis");
  try {
    const server = await spawnRedis(
      "redis-server",
      (port) => ["--port", String(port), "--dir", dir.path, ...COMMON, ...persistence(options)],
      options.port,
    );
    return {
      server,
      url: `redis://127.0.0.1:${server.port}`,
      async destroy() {
        await server.kill("SIGTERM");
        dir.remove();
      },
    };
  } catch (error) {
    dir.remove();
    throw error;
  }
}

/** A Redis Cluster of `primaries` primaries, each with `replicas` replicas. */
export interface TestRedisCluster {
  nodes: RedisProcess[];
  /** Seed addresses for a cluster client: every node. */
  seeds: RedisAddress[];
  /** The node that serves `key`'s slot as primary now. */
  primaryFor(key: string): Promise<RedisProcess>;
  /**
   * Resolves once every running node reports `cluster_state:ok`, `key`'s primary is a running
   * node, and every running replica's link to its primary is up (writes that wait for a
   * replica can succeed).
   */
  healthy(key?: string): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Starts a Redis Cluster: `primaries` (3) primaries and `replicas` (1) replicas each, a node
 * timeout of `nodeTimeout` ms (1000, so a failover takes seconds, not the default 15 s), no
 * persistence unless `aof`.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster({ replicas: 2 });
 * await (await cluster.primaryFor("solo:{u:alice}:v")).kill();
 * await cluster.healthy("solo:{u:alice}:v");
 * ```
 */
export async function startRedisCluster(
  options: Persistence & { primaries?: number; replicas?: number; nodeTimeout?: number; dir?: string } = {},
): Promise<TestRedisCluster> {
  const { primaries = 3, replicas = 1, nodeTimeout = 1000 } = options;
  const dir = workDir(options.dir, "redis-cluster");
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < primaries * (1 + replicas); i++) {
      const nodeDir = join(dir.path, `n${i}`);
      mkdirSync(nodeDir, { recursive: true });
      nodes.push(
        await spawnRedis("redis-server", (port) => [
          "--port",
          String(port),
          "--dir",
          nodeDir,
          ...COMMON,
          ...persistence(options),
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-node-timeout",
          String(nodeTimeout),
          // A replica may fail over however long it was cut off (tests kill primaries on purpose).
          "--cluster-replica-validity-factor",
          "0",
        ]),
      );
    }
    await run(
      "redis-cli",
      ["--cluster", "create", ...nodes.map((n) => n.address), "--cluster-replicas", String(replicas), "--cluster-yes"],
      { timeout: 30_000 },
    );
  } catch (error) {
    for (const n of nodes) await n.kill();
    dir.remove();
    throw error;
  }
  const byPort = new Map(nodes.map((n) => [n.port, n]));
  const primaryFor = async (key: string): Promise<RedisProcess> => {
    for (const n of nodes) {
      if (!n.running) continue;
      try {
        const slot = Number((await redisCli(n.port, "CLUSTER", "KEYSLOT", key)).trim());
        const port = primaryPortForSlot(await redisCli(n.port, "CLUSTER", "SLOTS"), slot);
        const node = port === null ? undefined : byPort.get(port);
        if (node) return node;
      } catch {
        // this node is going away: ask the next one
      }
    }
    throw new Error(`no running node knows the primary of ${key}`);
  };
  const cluster: TestRedisCluster = {
    nodes,
    seeds: nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
    primaryFor,
    async healthy(key = "solo") {
      await until(async () => {
        for (const n of nodes) {
          if (!n.running) continue;
          const info = await redisCli(n.port, "CLUSTER", "INFO").catch(() => "");
          if (!info.includes("cluster_state:ok")) return false;
          const replication = await redisCli(n.port, "INFO", "replication").catch(() => "");
          if (replication.includes("role:slave") && !replication.includes("master_link_status:up")) return false;
        }
        try {
          return (await primaryFor(key)).running;
        } catch {
          return false;
        }
      }, "cluster_state:ok");
    },
    async destroy() {
      for (const n of nodes) await n.kill();
      dir.remove();
    },
  };
  await cluster.healthy();
  return cluster;
}

/** Reads `CLUSTER SLOTS` as redis-cli prints it (one value per line) and finds the slot's primary port. */
function primaryPortForSlot(output: string, slot: number): number | null {
  const lines = output.split("\n").map((l) => l.trim());
  // Each range: start, end, then nodes as ip, port, id (and maybe hostname metadata).
  for (let i = 0; i + 4 < lines.length; i++) {
    const start = Number(lines[i]);
    const end = Number(lines[i + 1]);
    if (!/^\d+$/.test(lines[i] ?? "") || !/^\d+$/.test(lines[i + 1] ?? "")) continue;
    if (lines[i + 2] !== "127.0.0.1") continue;
    if (slot >= start && slot <= end) return Number(lines[i + 3]);
  }
  return null;
}

/** A Sentinel-managed primary with its replicas and three sentinels. */
export interface TestRedisSentinel {
  /** The monitored primary's name. */
  name: string;
  /** The redis-server processes: [0] started as primary, the others as its replicas. */
  servers: RedisProcess[];
  sentinels: RedisProcess[];
  /** Addresses for a Sentinel client. */
  sentinelAddresses: RedisAddress[];
  /** The server the sentinels name as primary now. */
  primary(): Promise<RedisProcess>;
  /**
   * Resolves once a quorum of sentinels names a running server as primary, that server says
   * it is one, and every other running server replicates from it with its link up.
   */
  healthy(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Starts a primary, `replicas` (1) replicas of it, and three sentinels monitoring them with
 * quorum 2, `down-after-milliseconds` of `downAfter` (1000) and a short failover timeout.
 *
 * @example
 * ```ts
 * const sentinel = await startRedisSentinel({ replicas: 2 });
 * await (await sentinel.primary()).kill();
 * await sentinel.healthy();
 * ```
 */
export async function startRedisSentinel(
  options: Persistence & { name?: string; replicas?: number; downAfter?: number; dir?: string } = {},
): Promise<TestRedisSentinel> {
  const { name = "solo", replicas = 1, downAfter = 1000 } = options;
  const dir = workDir(options.dir, "redis-sentinel");
  const servers: RedisProcess[] = [];
  const sentinels: RedisProcess[] = [];
  const serverArgs = (nodeDir: string, replicaOf: number | null) => (port: number) => [
    "--port",
    String(port),
    "--dir",
    nodeDir,
    ...COMMON,
    ...persistence(options),
    ...(replicaOf === null ? [] : ["--replicaof", "127.0.0.1", String(replicaOf)]),
  ];
  try {
    for (let i = 0; i <= replicas; i++) {
      const nodeDir = join(dir.path, `s${i}`);
      mkdirSync(nodeDir, { recursive: true });
      servers.push(await spawnRedis("redis-server", serverArgs(nodeDir, i === 0 ? null : (servers[0]?.port ?? null))));
    }
    const primary = servers[0] as RedisProcess;
    for (const replica of servers.slice(1)) {
      await until(
        async () => (await redisCli(replica.port, "INFO", "replication")).includes("master_link_status:up"),
        "the replicas to sync",
      );
    }
    for (let i = 0; i < 3; i++) {
      const conf = join(dir.path, `sentinel-${i}.conf`);
      writeFileSync(
        conf,
        [
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${name} ${downAfter}`,
          `sentinel failover-timeout ${name} ${Math.max(2000, downAfter * 4)}`,
          `sentinel parallel-syncs ${name} 1`,
          "",
        ].join("\n"),
      );
      sentinels.push(
        await spawnRedis("redis-sentinel", (port) => [
          conf,
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--protected-mode",
          "no",
          "--loglevel",
          "warning",
          "--dir",
          dir.path,
        ]),
      );
    }
  } catch (error) {
    for (const p of [...sentinels, ...servers]) await p.kill();
    dir.remove();
    throw error;
  }
  const byPort = new Map(servers.map((s) => [s.port, s]));
  /** The primary each running sentinel names (null when it names none of ours). */
  const named = async (): Promise<(RedisProcess | null)[]> =>
    Promise.all(
      sentinels
        .filter((s) => s.running)
        .map(async (s) => {
          const out = await redisCli(s.port, "SENTINEL", "get-master-addr-by-name", name).catch(() => "");
          const [, port] = out.trim().split("\n");
          return byPort.get(Number(port)) ?? null;
        }),
    );
  const topology: TestRedisSentinel = {
    name,
    servers,
    sentinels,
    sentinelAddresses: sentinels.map((s) => ({ host: "127.0.0.1", port: s.port })),
    async primary() {
      const found = (await named()).find((s) => s !== null);
      if (!found) throw new Error("no sentinel names a primary");
      return found;
    },
    async healthy() {
      await until(async () => {
        const votes = await named();
        const primary = votes[0];
        if (!primary?.running || votes.filter((v) => v === primary).length < 2) return false;
        if (!(await redisCli(primary.port, "ROLE").catch(() => "")).startsWith("master")) return false;
        for (const s of servers) {
          if (s === primary || !s.running) continue;
          const info = await redisCli(s.port, "INFO", "replication").catch(() => "");
          if (!info.includes(`master_port:${primary.port}`) || !info.includes("master_link_status:up")) return false;
        }
        return true;
      }, "a healthy sentinel deployment");
    },
    async destroy() {
      for (const p of [...sentinels, ...servers]) await p.kill();
      dir.remove();
    },
  };
  // Every sentinel has found the replicas and the other sentinels before anyone relies on failover.
  await until(async () => {
    for (const s of sentinels) {
      const info = await redisCli(s.port, "SENTINEL", "master", name);
      const lines = info.split("\n").map((l) => l.trim());
      const field = (key: string) => lines[lines.indexOf(key) + 1];
      if (Number(field("num-slaves")) < replicas || Number(field("num-other-sentinels")) < 2) return false;
    }
    return true;
  }, "the sentinels to find each other");
  return topology;
}
