/**
 * Bench server: our server in its own process, as an app would run it. A trivial
 * `authenticate` (no password hashing: `{ username }` → `{ userId: username }`), so logins
 * per second measure sign + claim + kick alone; `GET /api/hello` behind `requireSession()`
 * and the same `GET /hello` unprotected. Settings come as JSON in `BENCH_SERVER`.
 *
 * The store's `claim` is timed here (the one transaction that admits a login and ends the
 * sessions it replaces: SQLite's, Redis's script, PostgreSQL's per-user locked transaction),
 * by wrapping `solo.store.claim` on the instance: the orchestrator reads the durations with
 * the `claims` command.
 */
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import express from "express";
import { Redis } from "ioredis";
import { pino } from "pino";
import { Server } from "socket.io";
import type { SoloServer } from "../../server/index.js";
import type { SoloServerConfig } from "../lib/messages.js";
import { send, serve } from "./control.js";

type ServerModule = typeof import("../../server/index.js");

const config = JSON.parse(process.env.BENCH_SERVER ?? "{}") as SoloServerConfig;
const { createSoloServer } = (await import(config.serverModule)) as ServerModule;

let solo: SoloServer;
try {
  solo = await createSoloServer({
    authenticate: ({ username }) => (typeof username === "string" && username !== "" ? { userId: username } : null),
    store: config.store,
    dataDir: config.dataDir,
    ...(config.redis ? { redis: config.redis } : config.redisUrl ? { redis: { url: config.redisUrl } } : {}),
    ...(config.databaseUrl ? { postgres: { url: config.databaseUrl } } : {}),
    nodeId: config.nodeId,
    logger: pino({ level: "silent" }),
    // One load generator, one address: login limits would measure the limiter, not the claim.
    rateLimit: false,
    ...(config.receivers ? { receivers: config.receivers } : {}),
  });
  // Builds from before 0.2.0 have no `ready` (their creation was asynchronous).
  await (solo as Partial<Pick<SoloServer, "ready">>).ready;
} catch (error) {
  if (config.store === "sqlite") throw error;
  send({ type: "unavailable", reason: error instanceof Error ? error.message : String(error) });
  process.exit(0);
}

/** Claim durations (ms) since the orchestrator last read them. */
let claimMs: number[] = [];
const store = solo.store;
const claim = store.claim.bind(store);
store.claim = async (session, decide) => {
  const t0 = performance.now();
  try {
    return await claim(session, decide);
  } finally {
    claimMs.push(performance.now() - t0);
  }
};

const app = express();
app.use("/auth", solo.router);
app.get("/hello", (_req, res) => {
  res.json({ hello: "world" });
});
app.get("/api/hello", solo.requireSession(), (_req, res) => {
  res.json({ hello: "world" });
});
// Before 0.2.0 requireSession() answered its refusals itself.
if ("errorHandler" in solo) app.use(solo.errorHandler());

const http = createServer(app);
const redis: Redis[] = [];
let io: Server;
if (config.redisUrl && config.store === "sqlite") {
  // Several nodes on one SQLite file: the Socket.IO Redis adapter carries a revocation to the
  // node holding the socket. (With the Redis store, attach() installs the adapter itself.)
  const pub = new Redis(config.redisUrl);
  const sub = pub.duplicate();
  redis.push(pub, sub);
  io = new Server(http, { serveClient: false, adapter: createAdapter(pub, sub) });
  solo.attach(io);
} else {
  io = solo.attach(http) as unknown as Server;
}
const nsp = io.of("/session");

await serve(
  http,
  { module: config.serverModule, adapter: nsp.adapter.constructor.name },
  () => nsp.sockets.size,
  async () => {
    await solo.close();
    await new Promise<void>((resolve) => io.close(() => resolve()));
    for (const r of redis) r.disconnect();
  },
  () => {
    const taken = claimMs;
    claimMs = [];
    return taken;
  },
);
