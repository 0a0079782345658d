/**
 * A local PostgreSQL server for the tests, the benchmark and `npm run cluster`: a cluster made
 * with Debian's `initdb` in a directory of its own and started with `pg_ctl` on a free port,
 * trust authentication on 127.0.0.1 only. When run as root, the cluster belongs to the
 * `postgres` user (PostgreSQL refuses to run as root).
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./net.js";

/** A PostgreSQL server started by {@link startPostgres}. */
export interface LocalPostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  /** The directory of the cluster (`data/`) and its log (`log`). */
  dir: string;
  /** Stops the server: `crash` kills the postmaster with SIGKILL (immediate), else a fast shutdown. */
  stop(options?: { crash?: boolean }): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops the server (SIGKILL) and removes its directory, unless it was given (`dir`). Safe to call twice. */
  destroy(): Promise<void>;
}

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Server settings, passed as `-c name=value` (e.g. `{ max_connections: "50" }`). */
  settings?: Record<string, string>;
  /**
   * A directory to keep the cluster in (created with `initdb` if it has none, reused if it
   * has); `destroy()` leaves it. @default a fresh temp directory, removed by `destroy()`
   */
  dir?: string;
  /** @default a free port */
  port?: number;
  /**
   * Durability of the throwaway default: `fsync`, `synchronous_commit` and `full_page_writes`
   * off (a crash of the machine may lose the cluster, which tests do not mind). @default false
   */
  durable?: boolean;
}

const live = new Set<ChildProcess>();
/** Data directories of the throwaway servers still running: their postmasters die with this process. */
const throwaway = new Set<string>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
  for (const data of throwaway) {
    const pid = postmasterPid(data);
    if (pid !== null) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
});

/** The postmaster's pid from its pid file, or null when it is not running. */
function postmasterPid(data: string): number | null {
  const pidFile = join(data, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

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
 * Starts a PostgreSQL cluster on a free port: a fresh one in a temp directory, or the one kept
 * in `options.dir`.
 *
 * @example
 * ```ts
 * const pg = await startPostgres();
 * // ... DATABASE_URL=pg.url ...
 * await pg.destroy();
 * ```
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<LocalPostgres> {
  const kept = options.dir !== undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "solo-pg-"));
  mkdirSync(dir, { recursive: true });
  const data = join(dir, "data");
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  if (!existsSync(join(data, "PG_VERSION"))) {
    runSync("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale", "C"]);
  }
  const port = options.port ?? (await freePort());
  const settings = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${dir}`,
    ...(options.durable ? [] : ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]),
    ...Object.entries(options.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`),
  ].join(" ");

  const start = async (): Promise<void> => {
    const child = run("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-o", settings, "-w", "-t", "30", "start"]);
    live.add(child);
    try {
      await finished(child, "pg_ctl start");
    } finally {
      live.delete(child);
    }
  };
  const stop = async ({ crash = false } = {}): Promise<void> => {
    const pid = postmasterPid(data);
    if (pid === null) return;
    if (crash) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        return;
      }
      // Until the postmaster is gone (a new one refuses to start while its pid lives) and its
      // backends, which notice the loss and exit, no longer hold the port; start() reports a
      // postmaster that would not go.
      await until(async () => !alive(pid) && !(await accepting(port)), 10_000);
      return;
    }
    const child = run("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"]);
    await finished(child, "pg_ctl stop").catch(() => undefined);
  };
  await start();
  if (!kept) throwaway.add(data);
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    stop,
    start,
    async destroy() {
      if (kept) {
        await stop();
        return;
      }
      await stop({ crash: true });
      throwaway.delete(data);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Checks `cond` every 25 ms until it holds or `timeout` ms pass; resolves with whether it held. */
async function until(cond: () => Promise<boolean>, timeout: number): Promise<boolean> {
  const deadline = performance.now() + timeout;
  for (;;) {
    if (await cond()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
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
