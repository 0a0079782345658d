import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, vi } from "vitest";
import { freePort } from "../../scripts/lib/net.js";

// Redis's high-availability topologies, for real: Redis Cluster (primaries with replicas, joined
// by `redis-cli --cluster create`) and Sentinel (a primary, a replica and three sentinels). Each
// process runs on a free port in a temp directory; `destroy()` stops them all and removes it.

const run = promisify(execFile);

/** How long a topology may take to settle (a start, a sync, a failover), in ms. */
const WAIT = 20_000;

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** One redis-server (or redis-sentinel) process of a topology. */
export interface RedisProcess {
  port: number;
  /** `host:port` */
  address: string;
  /** SIGKILL (the default) or SIGTERM, then wait for the exit. */
  kill(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Starts it again with the same arguments (after `kill`). */
  restart(): Promise<void>;
  readonly running: boolean;
}

/** Runs one redis-cli command against a port; resolves with its output. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { timeout: 10_000 });
  return stdout;
}

async function answers(port: number): Promise<boolean> {
  try {
    return (await redisCli(port, "PING")).trim() === "PONG";
  } catch {
    return false;
  }
}

/** Spawns `program` with `args(port)` on a free port; resolves once it answers PING. */
async function spawnRedis(program: "redis-server" | "redis-sentinel", args: (port: number) => string[]) {
  const port = await freePort();
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
    await vi.waitFor(
      async () => {
        if (proc.exitCode === null) expect(await answers(port), `${program} on ${port} answers PING`).toBe(true);
      },
      { timeout: WAIT },
    );
    if (proc.exitCode !== null) throw new Error(`${program} on ${port} exited: ${stderr}`);
  };
  await launch();
  const proc: RedisProcess = {
    port,
    address: `127.0.0.1:${port}`,
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

/** A Redis Cluster of `primaries` primaries, each with `replicas` replicas. */
export interface TestRedisCluster {
  nodes: RedisProcess[];
  /** Seed addresses for a cluster client: every node. */
  seeds: { host: string; port: number }[];
  /** The node that serves `key`'s slot as primary now. */
  primaryFor(key: string): Promise<RedisProcess>;
  /** Resolves once every running node reports `cluster_state:ok` and agrees `key`'s primary is a running node. */
  healthy(key?: string): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Starts a Redis Cluster: `primaries` (3) primaries and `replicas` (1) replicas each, a node
 * timeout of `nodeTimeout` ms (1000, so a failover takes seconds, not the default 15 s), no
 * persistence unless `aof`.
 */
export async function startRedisCluster(
  options: { primaries?: number; replicas?: number; nodeTimeout?: number; aof?: boolean } = {},
): Promise<TestRedisCluster> {
  const { primaries = 3, replicas = 1, nodeTimeout = 1000, aof = false } = options;
  const dir = mkdtempSync(join(tmpdir(), "solo-redis-cluster-"));
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < primaries * (1 + replicas); i++) {
      const nodeDir = join(dir, `n${i}`);
      mkdirSync(nodeDir);
      nodes.push(
        await spawnRedis("redis-server", (port) => [
          "--port",
          String(port),
          "--dir",
          nodeDir,
          ...COMMON,
          "--appendonly",
          aof ? "yes" : "no",
          "--appendfsync",
          "always",
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
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const byPort = new Map(nodes.map((n) => [n.port, n]));
  const primaryFor = async (key: string): Promise<RedisProcess> => {
    for (const n of nodes) {
      if (!n.running) continue;
      const slot = Number((await redisCli(n.port, "CLUSTER", "KEYSLOT", key)).trim());
      const shards = await redisCli(n.port, "CLUSTER", "SLOTS");
      const port = primaryPortForSlot(shards, slot);
      const node = port === null ? undefined : byPort.get(port);
      if (node) return node;
    }
    throw new Error(`no running node knows the primary of ${key}`);
  };
  const cluster: TestRedisCluster = {
    nodes,
    seeds: nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
    primaryFor,
    async healthy(key = "solo") {
      await vi.waitFor(
        async () => {
          for (const n of nodes) {
            if (n.running) expect(await redisCli(n.port, "CLUSTER", "INFO"), n.address).toContain("cluster_state:ok");
          }
          expect((await primaryFor(key)).running, `the primary of ${key} runs`).toBe(true);
        },
        { timeout: WAIT },
      );
    },
    async destroy() {
      for (const n of nodes) await n.kill();
      rmSync(dir, { recursive: true, force: true });
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

/** A Sentinel-managed primary with one replica and three sentinels. */
export interface TestRedisSentinel {
  /** The monitored master's name. */
  name: string;
  /** The redis-server processes: [0] started as primary, [1] as its replica. */
  servers: RedisProcess[];
  sentinels: RedisProcess[];
  /** Addresses for a Sentinel client. */
  sentinelAddresses: { host: string; port: number }[];
  /** The server the sentinels name as primary now. */
  primary(): Promise<RedisProcess>;
  destroy(): Promise<void>;
}

/**
 * Starts a primary, a replica of it, and three sentinels monitoring them with quorum 2,
 * `down-after-milliseconds` of `downAfter` (1000) and a short failover timeout.
 */
export async function startRedisSentinel(
  options: { name?: string; downAfter?: number; aof?: boolean } = {},
): Promise<TestRedisSentinel> {
  const { name = "solo", downAfter = 1000, aof = false } = options;
  const dir = mkdtempSync(join(tmpdir(), "solo-redis-sentinel-"));
  const servers: RedisProcess[] = [];
  const sentinels: RedisProcess[] = [];
  const serverArgs = (nodeDir: string, replicaOf: number | null) => (port: number) => [
    "--port",
    String(port),
    "--dir",
    nodeDir,
    ...COMMON,
    "--appendonly",
    aof ? "yes" : "no",
    "--appendfsync",
    "always",
    ...(replicaOf === null ? [] : ["--replicaof", "127.0.0.1", String(replicaOf)]),
  ];
  try {
    for (let i = 0; i < 2; i++) {
      const nodeDir = join(dir, `s${i}`);
      mkdirSync(nodeDir);
      servers.push(await spawnRedis("redis-server", serverArgs(nodeDir, i === 0 ? null : (servers[0]?.port ?? null))));
    }
    const primary = servers[0] as RedisProcess;
    const replica = servers[1] as RedisProcess;
    await vi.waitFor(
      async () =>
        expect(await redisCli(replica.port, "INFO", "replication"), "the replica syncs").toContain(
          "master_link_status:up",
        ),
      { timeout: WAIT },
    );
    for (let i = 0; i < 3; i++) {
      const conf = join(dir, `sentinel-${i}.conf`);
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
          dir,
        ]),
      );
    }
  } catch (error) {
    for (const p of [...sentinels, ...servers]) await p.kill();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const byPort = new Map(servers.map((s) => [s.port, s]));
  const topology: TestRedisSentinel = {
    name,
    servers,
    sentinels,
    sentinelAddresses: sentinels.map((s) => ({ host: "127.0.0.1", port: s.port })),
    async primary() {
      for (const s of sentinels) {
        if (!s.running) continue;
        const [, port] = (await redisCli(s.port, "SENTINEL", "get-master-addr-by-name", name)).trim().split("\n");
        const server = byPort.get(Number(port));
        if (server) return server;
      }
      throw new Error("no sentinel names a primary");
    },
    async destroy() {
      for (const p of [...sentinels, ...servers]) await p.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Every sentinel has found the replica and the other sentinels before a test relies on failover.
  await vi.waitFor(
    async () => {
      for (const s of sentinels) {
        const info = await redisCli(s.port, "SENTINEL", "master", name);
        const lines = info.split("\n").map((l) => l.trim());
        const field = (key: string) => Number(lines[lines.indexOf(key) + 1]);
        expect(field("num-slaves"), `replicas sentinel ${s.address} knows`).toBeGreaterThanOrEqual(1);
        expect(field("num-other-sentinels"), `sentinels sentinel ${s.address} knows`).toBeGreaterThanOrEqual(2);
      }
    },
    { timeout: WAIT },
  );
  return topology;
}
