import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vi } from "vitest";
import { freePort } from "../../scripts/lib/net.js";

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
      await vi
        .waitFor(
          async () => {
            if (alive(pid) || (await accepting(port))) throw new Error(`postgres ${pid} still holds ${port}`);
          },
          { timeout: 10_000, interval: 25 },
        )
        .catch(() => {}); // as before: start() reports a postmaster that would not go
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
