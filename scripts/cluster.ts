/**
 * `npm run cluster`: a local redis-server and N solo-session nodes sharing it, for trying
 * scale-out by hand. Ctrl-C stops them all.
 *
 * Environment: `NODES` (3), `PORT` (3000: the nodes take PORT, PORT+1, ...), `HOST`
 * (localhost), `SOLO_DATA_DIR` (./data/cluster: shared signing keys, and Redis's AOF in
 * `redis/`), `REDIS_PORT` (a free port), `REDIS_URL` (use that Redis instead of starting one),
 * and anything the standalone server reads (`SOLO_POLICY`, `LOG_LEVEL`, ...).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { answersPing, freePort } from "./lib/net.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const count = Number(env.NODES ?? 3);
const basePort = Number(env.PORT ?? 3000);
const host = env.HOST || "localhost";
const dataDir = resolve(env.SOLO_DATA_DIR || join(root, "data", "cluster"));
const children: { name: string; child: ChildProcess }[] = [];
let stopping = false;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** Runs a child, prefixing its output with its name; a child that dies is reported, not fatal. */
function run(name: string, command: string, args: string[], childEnv: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { cwd: root, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line) stream.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on("data", prefix(process.stdout));
  child.stderr?.on("data", prefix(process.stderr));
  child.on("error", (error) => console.error(`[${name}] ${error.message}`));
  child.on("exit", (code, signal) => {
    if (!stopping) console.error(`[${name}] exited (${signal ?? code}); the others keep running`);
  });
  children.push({ name, child });
  return child;
}

async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping ${children.length} processes`);
  // Nodes first, then Redis, so the nodes close their connections cleanly.
  for (const group of [children.filter((c) => c.name !== "redis"), children.filter((c) => c.name === "redis")]) {
    await Promise.all(
      group.map(
        ({ child }) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const force = setTimeout(() => child.kill("SIGKILL"), 5000);
            child.once("exit", () => {
              clearTimeout(force);
              done();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
  }
  process.exit(0);
}

async function main(): Promise<void> {
  if (!Number.isInteger(count) || count < 1 || count > 16) fail(`NODES must be 1..16, got "${env.NODES}"`);
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + count > 65535)
    fail(`PORT is not a port: "${env.PORT}"`);
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  mkdirSync(dataDir, { recursive: true });

  let redisUrl = env.REDIS_URL;
  if (!redisUrl) {
    const port = env.REDIS_PORT ? Number(env.REDIS_PORT) : await freePort();
    const redisDir = join(dataDir, "redis");
    mkdirSync(redisDir, { recursive: true });
    const redis = run(
      "redis",
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        redisDir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
        "--loglevel",
        "warning",
      ],
      env,
    );
    redis.once("error", () => fail("redis-server is not installed: sudo apt-get install -y redis-server"));
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (redis.exitCode !== null || Date.now() > deadline) fail(`redis-server did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    redisUrl = `redis://127.0.0.1:${port}`;
  }

  for (let i = 0; i < count; i++) {
    run(`node-${i + 1}`, process.execPath, ["--import", "tsx", join(root, "standalone", "main.ts")], {
      ...env,
      PORT: String(basePort + i),
      HOST: host,
      SOLO_STORE: "redis",
      REDIS_URL: redisUrl,
      SOLO_DATA_DIR: dataDir,
      LOG_LEVEL: env.LOG_LEVEL || "warn",
    });
  }
  console.log(
    [
      `solo-session cluster: ${count} nodes on ${redisUrl}, shared keys in ${dataDir}`,
      ...children
        .filter((c) => c.name !== "redis")
        .map((c, i) => `  ${c.name}  http://${host}:${basePort + i}  pid ${c.child.pid}`),
      "Sign in as the same user on two nodes to see the kick cross nodes; kill -9 a node's pid to see its clients move on.",
      "Ctrl-C stops everything.",
    ].join("\n"),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  void stop("error");
});
