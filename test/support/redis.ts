import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { expect, vi } from "vitest";
import { answersPing, freePort } from "../../scripts/lib/net.js";

// store-redis.test.ts takes it from here.
export { freePort };

/** A real redis-server started for a test run, in its own temp directory, on a free port. */
export interface TestRedis {
  port: number;
  url: string;
  /** Working directory (the AOF files live here). */
  dir: string;
  /** Stops the server (SIGKILL with `crash`, else SIGTERM) and waits for it to exit. */
  stop(options?: { crash?: boolean }): Promise<void>;
  /** Starts the server again on the same port and directory (after `stop`). */
  start(): Promise<void>;
  /** Stops the server and removes its directory. Safe to call twice. */
  destroy(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Append-only file, so a crash of the redis process loses no acknowledged write. @default false */
  aof?: boolean;
  /** `appendfsync` with `aof` (`always`: fsync before each reply; `everysec`: Redis's default). @default "always" */
  appendfsync?: "always" | "everysec";
  /**
   * Cluster mode (`cluster-enabled yes`) holding every slot itself: one shard, which a plain
   * client can use, and which refuses a script whose keys are in two slots (`CROSSSLOT`).
   * @default false
   */
  cluster?: boolean;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/**
 * Starts `redis-server` on a free port in a fresh temp directory: no RDB snapshots, and AOF
 * only when asked. Never a mock: the tests talk to the real thing.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), "solo-redis-"));
  let port = 0;
  let child: ChildProcess | null = null;

  const args = () => [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    options.aof ? "yes" : "no",
    "--appendfsync",
    options.appendfsync ?? "always",
    ...(options.cluster ? ["--cluster-enabled", "yes", "--cluster-config-file", join(dir, "nodes.conf")] : []),
    "--protected-mode",
    "no",
    "--loglevel",
    "warning",
  ];

  const launch = async (): Promise<void> => {
    const proc = spawn("redis-server", args(), { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    live.add(proc);
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    proc.once("exit", () => live.delete(proc));
    const up = await vi
      .waitFor(
        async () => {
          if (proc.exitCode === null)
            expect(await answersPing(port), `redis-server on ${port} answers PING`).toBe(true);
        },
        { timeout: 10_000, interval: 25 },
      )
      .then(
        () => proc.exitCode === null,
        () => false,
      );
    if (up) return;
    proc.kill("SIGKILL");
    await exited;
    throw new Error(`redis-server did not start on port ${port}: ${stderr}`);
  };

  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
  if (options.cluster) await claimAllSlots(port);

  const stop = async ({ crash = false } = {}): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(crash ? "SIGKILL" : "SIGTERM");
    await exited;
  };

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop,
    async start() {
      if (child) throw new Error("redis-server is already running");
      await launch();
    },
    async destroy() {
      await stop({ crash: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Gives a fresh cluster-mode server every slot and waits for `cluster_state:ok` (nodes.conf keeps them across restarts). */
async function claimAllSlots(port: number): Promise<void> {
  const admin = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  try {
    await admin.connect();
    await admin.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
    await vi.waitFor(
      async () =>
        expect(String(await admin.call("CLUSTER", "INFO")), "the one-shard cluster's state").toContain(
          "cluster_state:ok",
        ),
      { timeout: 10_000, interval: 25 },
    );
  } finally {
    admin.disconnect();
  }
}

/** Options shared by the nodes of a test cluster: one Redis, one key prefix, one key directory. */
export interface ClusterNodeOptions {
  redis: TestRedis;
  keyPrefix: string;
  dataDir: string;
}

let prefixes = 0;
/** A key prefix no other test in this process uses, so each test starts with an empty registry. */
export function uniquePrefix(name = "t"): string {
  return `${name}${process.pid}x${++prefixes}`;
}

/** An `authenticate` that admits any username: the cluster tests are about the store, not scrypt. */
export const anyUser = async (credentials: Readonly<Record<string, unknown>>) =>
  typeof credentials.username === "string" && credentials.username !== "" ? { userId: credentials.username } : null;

/** A cluster node running in a child process (so a test can SIGKILL it). */
export interface NodeProcess {
  url: string;
  port: number;
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>;
}

/** Starts `test/support/redis-node.ts` in a child process (tsx); resolves once it listens. */
export async function startNodeProcess(
  options: ClusterNodeOptions & {
    nodeId: string;
    /** The node SIGKILLs itself once a claim that ends sessions has committed, before it returns. */
    dieAfterCommit?: boolean;
  },
): Promise<NodeProcess> {
  const script = join(dirname(fileURLToPath(import.meta.url)), "redis-node.ts");
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: {
      ...process.env,
      REDIS_URL: options.redis.url,
      KEY_PREFIX: options.keyPrefix,
      DATA_DIR: options.dataDir,
      NODE_ID: options.nodeId,
      DIE_AFTER_COMMIT: options.dieAfterCommit ? "1" : "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`node process did not start: ${stderr}`)), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = /\{"port":(\d+)\}/.exec(out);
      if (line) {
        clearTimeout(timer);
        resolve(Number(line[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`node process exited with ${code}: ${stderr}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Ids of a redis-server's client connections named `name` (`CLIENT LIST`). */
export async function connectionIds(admin: Redis, name: string): Promise<string[]> {
  const list = String(await admin.call("CLIENT", "LIST"));
  return list
    .split("\n")
    .filter((line) => line.split(" ").includes(`name=${name}`))
    .map((line) => /^id=(\d+)/.exec(line)?.[1] as string);
}

/**
 * Drops one client connection (by id) and keeps it, or any other new connection, from coming
 * back (`maxclients` lowered to the connections that remain) until the returned function is
 * called. `admin` is a connection of the test's own that stays open.
 */
export async function holdConnectionDown(admin: Redis, id: string): Promise<() => Promise<void>> {
  const before = (await admin.call("CONFIG", "GET", "maxclients")) as string[];
  const count = String(await admin.call("CLIENT", "LIST"))
    .trim()
    .split("\n").length;
  await admin.call("CONFIG", "SET", "maxclients", String(count - 1));
  await admin.call("CLIENT", "KILL", "ID", id);
  return async () => {
    await admin.call("CONFIG", "SET", "maxclients", before[1] ?? "10000");
  };
}
