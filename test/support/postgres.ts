import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PostgresOptions, RedisOptions } from "../../server/index.js";
import { anyUser, freePort, type NodeProcess } from "./redis.js";
import { startTestServer, type TestServer } from "./server.js";

/**
 * A real PostgreSQL server for a test run: a throwaway cluster (`initdb` into a temp dir) started
 * with `pg_ctl` on a free port, trust authentication on 127.0.0.1 only. When the tests run as
 * root, the cluster belongs to the `postgres` user (PostgreSQL refuses to run as root).
 */
export interface TestPostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  dir: string;
  /** Stops the server: `crash` kills the postmaster with SIGKILL (immediate), else a fast shutdown. */
  stop(options?: { crash?: boolean }): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. Safe to call twice. */
  destroy(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** The directory of Debian's PostgreSQL binaries (the newest installed version). */
export function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const version = versions[0];
  if (version === undefined) {
    throw new Error(
      "PostgreSQL not found under /usr/lib/postgresql: run 'bash scripts/ensure-deps.sh' (apt package postgresql)",
    );
  }
  return join(root, version, "bin");
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary as the cluster's owner (the `postgres` user when we are root). */
function run(bin: string, args: string[]): ChildProcess {
  const command = join(postgresBin(), bin);
  return asRoot
    ? spawn("runuser", ["-u", "postgres", "--", command, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    : spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
}

function runSync(bin: string, args: string[]): void {
  const command = join(postgresBin(), bin);
  if (asRoot) execFileSync("runuser", ["-u", "postgres", "--", command, ...args], { stdio: "pipe" });
  else execFileSync(command, args, { stdio: "pipe" });
}

/** Resolves when the process exits; rejects with its stderr on a non-zero code. */
function finished(child: ChildProcess, what: string): Promise<void> {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${what} failed (${code}): ${stderr}`))));
  });
}

/**
 * Starts a fresh PostgreSQL cluster on a free port in a temp directory. Options are passed to the
 * server as `-c name=value` (e.g. `{ max_connections: "50" }`).
 */
export async function startPostgres(settings: Record<string, string> = {}): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "solo-pg-"));
  const data = join(dir, "data");
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  runSync("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale", "C"]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${dir}`,
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(" ");

  const start = async (): Promise<void> => {
    const child = run("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-o", options, "-w", "-t", "30", "start"]);
    live.add(child);
    try {
      await finished(child, "pg_ctl start");
    } finally {
      live.delete(child);
    }
  };
  const stop = async ({ crash = false } = {}): Promise<void> => {
    const pidFile = join(data, "postmaster.pid");
    if (!existsSync(pidFile)) return;
    if (crash) {
      const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        return;
      }
      // Wait until the postmaster is gone (a new one refuses to start while its pid lives) and
      // its backends, which notice the loss and exit, no longer hold the port.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (alive(pid) || (await accepting(port)))) {
        await new Promise((r) => setTimeout(r, 25));
      }
      return;
    }
    const child = run("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"]);
    await finished(child, "pg_ctl stop").catch(() => undefined);
  };
  await start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    stop,
    start,
    async destroy() {
      await stop({ crash: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when something accepts TCP connections on the port. */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, "127.0.0.1", () => done(true));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let schemas = 0;
/**
 * A schema name no other test in this process uses (lowercase, as the store requires), so that
 * each test on a shared PostgreSQL starts with empty tables.
 */
export function uniqueSchema(name = "t"): string {
  return `${name}_${process.pid}_${++schemas}`;
}

/** Options of {@link startPgNodes}: one database and schema, one key directory. */
export interface PgNodesOptions {
  url: string;
  schema: string;
  /** One key directory shared by the nodes (they must agree on the signing keys). */
  dataDir: string;
  /** More `postgres` options (adapter, reconcileInterval, endsPollInterval, pool). */
  postgres?: Omit<PostgresOptions, "url" | "schema">;
  /** Names the nodes `<nodePrefix>-1`..: their connections' `application_name` carries it. */
  nodePrefix?: string;
  /** With `postgres.adapter: "redis"`: the Redis of the adapter. */
  redis?: RedisOptions;
  rateLimit?: false;
}

/** `n` real servers sharing one PostgreSQL schema, named node-1..node-n, accepting any username. The caller closes them. */
export async function startPgNodes(n: number, options: PgNodesOptions): Promise<TestServer[]> {
  const nodes: TestServer[] = [];
  for (let i = 1; i <= n; i++) {
    nodes.push(
      await startTestServer({
        store: "postgres",
        postgres: { url: options.url, schema: options.schema, ...options.postgres },
        dataDir: options.dataDir,
        nodeId: `${options.nodePrefix ?? "node"}-${i}`,
        authenticate: anyUser,
        ...(options.redis === undefined ? {} : { redis: options.redis }),
        ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
      }),
    );
  }
  return nodes;
}

/**
 * Starts `test/support/postgres-node.ts` in a child process (tsx); resolves once it listens.
 * With `dieAfterCommit` the node SIGKILLs itself once a claim that ended sessions has
 * committed, before the claim returns.
 */
export async function startPgNodeProcess(options: {
  url: string;
  schema: string;
  dataDir: string;
  nodeId: string;
  dieAfterCommit?: boolean;
}): Promise<NodeProcess> {
  const script = join(dirname(fileURLToPath(import.meta.url)), "postgres-node.ts");
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: {
      ...process.env,
      DATABASE_URL: options.url,
      PG_SCHEMA: options.schema,
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
