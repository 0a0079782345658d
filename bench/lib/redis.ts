import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../scripts/lib/net.js";
import { track } from "./proc.js";
import type { RedisAof } from "./results.js";

/** A redis-server started for the benchmark, in a temp directory (AOF there when asked). */
export interface RedisProcess {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server --port <free> --save ''` with `--appendonly no` (aof "off", the default)
 * or `--appendonly yes --appendfsync <aof>`; resolves once it accepts connections.
 */
export async function startRedis(aof: RedisAof = "off"): Promise<RedisProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "solo-bench-redis-"));
  const persistence = aof === "off" ? ["--appendonly", "no"] : ["--appendonly", "yes", "--appendfsync", aof];
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      ...persistence,
      "--maxclients",
      "10000",
    ],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  track(child);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const done = (error: Error | null) => {
      clearTimeout(timer);
      child.off("error", done);
      child.off("exit", onExit);
      child.stdout.off("data", onData);
      child.stdout.resume();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`redis-server did not start: ${output.slice(-500)}`)), 10_000);
    const onExit = (code: number | null) => done(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`));
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) done(null);
    };
    child.once("error", done);
    child.once("exit", onExit);
    child.stdout.on("data", onData);
  });
  child.stderr.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
