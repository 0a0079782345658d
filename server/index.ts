/**
 * solo-session, server side: one live session per user, enforced instantly.
 *
 * @example
 * ```ts
 * const solo = await createSoloServer({ authenticate: async ({ username, password }) => check(username, password) });
 * app.use("/auth", solo.router);
 * app.use("/api", solo.requireSession());
 * solo.attach(httpServer);
 * ```
 * @module
 */

import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { hostname } from "node:os";
import type { RequestHandler, Router } from "express";
import type { Registry } from "prom-client";
import type { Server as IoServer } from "socket.io";
import { AdminFeed } from "./admin-feed.js";
import { AuditTrail } from "./audit.js";
import { RedisCluster } from "./cluster.js";
import { SoloError } from "./errors.js";
import { Handshake } from "./handshake.js";
import { createAdminRouter } from "./http/admin.js";
import { SessionCookie } from "./http/cookies.js";
import { type CorsOptions, createCors } from "./http/cors.js";
import { createHealthRouter } from "./http/health.js";
import { createIntrospectRouter } from "./http/introspect.js";
import { createRequireSession, type RequireSessionOptions } from "./http/middleware.js";
import { loginOutcomes, requestIds } from "./http/observe.js";
import { type OriginPolicy, originAllowed } from "./http/origin.js";
import { createAuthRouter } from "./http/router.js";
import { startKeyReload } from "./key-reload.js";
import { loadKeyRing } from "./keys.js";
import { logSessionEvents } from "./log-events.js";
import { createLogger } from "./logging.js";
import { Metrics } from "./metrics.js";
import { resolveOptions, type SoloServerOptions } from "./options.js";
import { ConnectionLimiter, clientAddress, HandshakeLimiter, LoginLimiter, openLimiterBackend } from "./ratelimit.js";
import { Realtime, type SoloIo } from "./realtime.js";
import { SessionService } from "./sessions.js";
import { openStore } from "./store/index.js";
import { MeasuredStore } from "./store/measured.js";
import { RedisStore } from "./store/redis.js";
import type { SessionStore } from "./store/types.js";
import { TokenService } from "./tokens.js";

export { SoloError } from "./errors.js";
export type { CorsOptions } from "./http/cors.js";
export type { RequireSessionOptions, SoloRequestContext } from "./http/middleware.js";
export type { PrivateJwk, PrivateJwks, PublicJwk, RotateOptions, Rotation } from "./keys.js";
export { rotateKeyFile } from "./keys.js";
export { logId, REDACT_PATHS } from "./logging.js";
export type {
  Authenticate,
  AuthenticatedUser,
  CookieOptions,
  Credentials,
  PolicyOption,
  RedisOptions,
  SoloServerOptions,
} from "./options.js";
export { parseDuration } from "./options.js";
export type { PolicySpec } from "./policy.js";
export type * from "./protocol.js";
export type { LoginKey, RateLimit, RateLimitOptions } from "./ratelimit.js";
export { RATE_LIMIT_DEFAULTS } from "./ratelimit.js";
export { MemoryStore } from "./store/memory.js";
export { RedisStore, type RedisStoreOptions } from "./store/redis.js";
export { SqliteStore } from "./store/sqlite.js";
export type * from "./store/types.js";
export { REPLACED_TOMBSTONES_PER_USER } from "./store/types.js";

/** A composed solo-session server. */
export interface SoloServer {
  /**
   * The `/auth` routes: login, session, logout, jwks.json, introspect, and the admin API under
   * `/admin`. Mount with `app.use("/auth", solo.router)`.
   */
  router: Router;
  /** `GET /healthz` (process up) and `GET /readyz` (store reachable). Mount with `app.use(solo.health)`. */
  health: Router;
  /** The Prometheus `/metrics` handler: `app.get("/metrics", solo.metrics)`. */
  metrics: RequestHandler;
  /** The registry of the `solo_*` series alone, to merge into an app's own registry. */
  registry: Registry;
  /** Middleware for the existing API: 401 with the code for anything but a live session; sets `req.solo`. */
  requireSession(options?: RequireSessionOptions): RequestHandler;
  /**
   * CORS for the allowlisted origins (`allowedOrigins`), for the app's own API when its
   * frontend is on another origin: `app.use("/api", solo.cors(), solo.requireSession())`.
   * The `/auth` router already has it.
   */
  cors(options?: CorsOptions): RequestHandler;
  /** Reads `<dataDir>/keys.json` again now (it is also polled). Returns the kids in use, newest first. */
  reloadKeys(): Promise<string[]>;
  /** Starts the session channel on an http(s) server or an existing Socket.IO server. */
  attach(target: HttpServer | HttpsServer | IoServer): SoloIo;
  /** Ends one session (reason `revoked`); its device is told at once. Returns false if it was not live. */
  endSession(sessionId: string): Promise<boolean>;
  /** Ends every session of a user (reason `revoked`), e.g. after a password change. Returns how many. */
  endUserSessions(userId: string): Promise<number>;
  /** Ends idle and expired sessions now (it also runs on a timer). Returns how many ended. */
  sweep(): Promise<number>;
  /** Re-checks this node's sockets against the store; revokes zombies. Returns how many. */
  reconcile(): Promise<number>;
  /** The store in use. */
  readonly store: SessionStore;
  /** Stops timers, disconnects sockets, closes the store. Does not close your http server. */
  close(): Promise<void>;
}

/**
 * Composes the store, tokens, policy, HTTP routes, middleware and the realtime channel.
 * Holds no logic of its own. Throws a TypeError at once for a bad option.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { createServer } from "node:http";
 * import { createSoloServer } from "solo-session/server";
 *
 * const solo = await createSoloServer({
 *   authenticate: async ({ username, password }) => (await users.check(username, password)) ? { userId: String(username) } : null,
 * });
 * const app = express();
 * app.use("/auth", solo.router);
 * app.use("/api", solo.requireSession());
 * const server = createServer(app);
 * solo.attach(server);
 * server.listen(3000);
 * ```
 */
export async function createSoloServer(options: SoloServerOptions): Promise<SoloServer> {
  const o = resolveOptions(options, `${hostname()}:${process.pid}`);
  const logger = o.logger ?? createLogger(process.env.LOG_LEVEL ?? "info");
  const keysDir = options.dataDir !== undefined || o.store !== "memory" ? o.dataDir : null;
  const ring = await loadKeyRing({ signingKeys: o.signingKeys, dataDir: keysDir });
  const rawStore = await openStore(o);
  const cluster =
    rawStore instanceof RedisStore
      ? await RedisCluster.open({
          client: rawStore.client,
          endsKey: rawStore.endsKey,
          adapter: o.redis.adapter,
          channelPrefix: `${o.redis.keyPrefix}:io`,
          reconcileInterval: o.redis.reconcileInterval,
          logger,
        }).catch(async (error: unknown) => {
          await rawStore.close();
          throw error;
        })
      : null;
  const metrics: Metrics = new Metrics({
    sessionsLive: () => store.countLive(),
    socketsConnected: () => realtime.localSockets,
    ...(cluster ? { redisUp: () => cluster.up } : {}),
    onError: (error) => logger.warn({ err: error }, "metrics source failed"),
  });
  const store: SessionStore = new MeasuredStore(rawStore, (op) => metrics.storeOperation(op));
  const tokens = new TokenService(ring, {
    issuer: o.issuer,
    audience: o.audience,
    clockTolerance: o.clockTolerance,
    clock: o.clock,
    cacheSize: 10_000,
  });
  const audit = new AuditTrail(store, o.nodeId, (error) => logger.warn({ err: error }, "audit write failed"));
  const service = new SessionService(store, tokens, audit, o);
  metrics.observe(service);
  const logins = logSessionEvents(service, logger);
  const cookie = new SessionCookie(o.cookie, o.trustProxy);
  const origins: OriginPolicy = {
    allowedOrigins: o.allowedOrigins,
    publicOrigin: o.publicOrigin,
    trustProxy: o.trustProxy,
  };
  const csrf = (req: Parameters<typeof originAllowed>[0]) =>
    originAllowed(req, origins) ? null : new SoloError("origin_not_allowed");
  const limiterBackend = openLimiterBackend(o.rateLimit, o.redis, o.store === "redis", logger);
  const keys = startKeyReload(tokens, o.keyReloadInterval, logger);

  const requireSession = createRequireSession({ service, cookie, csrf });
  const router = createAuthRouter({
    service,
    authenticate: o.authenticate,
    cookie,
    clock: o.clock,
    logger,
    guards: [(req, _res, next) => next(csrf(req) ?? undefined)],
    loginGuards: [],
    before: [
      requestIds(),
      loginOutcomes((outcome, req) => {
        metrics.login(outcome);
        logins.failed(outcome, req);
      }),
    ],
    extra: [
      createIntrospectRouter({ service, secret: o.introspectSecret }),
      createAdminRouter({ service, requireAdmin: requireSession({ role: "admin" }) }),
    ],
    cors: createCors(o.allowedOrigins),
    loginLimiter: new LoginLimiter(o.rateLimit, limiterBackend.backend),
    clientAddress: (req) => clientAddress(req, o.trustProxy),
  });
  const handshakeLimiter = new HandshakeLimiter(o.rateLimit);
  const handshake = new Handshake({ service, cookie, origins, limiter: handshakeLimiter, logger });
  const realtime = new Realtime({
    service,
    handshake,
    server: {
      origins,
      limiter: handshakeLimiter,
      connections: new ConnectionLimiter(o.rateLimit.connectionsPerIp),
      transports: o.transports,
      handshakeTimeout: o.handshakeTimeout,
      pingInterval: o.pingInterval,
      pingTimeout: o.pingTimeout,
    },
    ackTimeout: o.ackTimeout,
    touchInterval: o.touchInterval,
    // Presence is read only by oldest-wins (a per-user policy function may choose it).
    presenceInterval:
      o.policy === "oldest-wins" || typeof o.policy === "function" ? Math.max(1000, Math.floor(o.abandonGrace / 3)) : 0,
    clock: o.clock,
    logger,
  });
  service.setNotifier(realtime);
  const feed = new AdminFeed({
    service,
    audit,
    handshake,
    recheckInterval: o.sessionCacheTtl,
    clock: o.clock,
    logger,
  });
  realtime.follow(feed);

  const sweeper = setInterval(() => {
    service.sweep().catch((error: unknown) => logger.warn({ err: error }, "sweep failed"));
  }, o.sweepInterval);
  sweeper.unref();

  return {
    router,
    health: createHealthRouter({ store, timeout: 2000 }),
    metrics: metrics.handler(),
    registry: metrics.registry,
    requireSession,
    cors: (options) => createCors(o.allowedOrigins, options),
    reloadKeys: keys.reload,
    attach(target) {
      const io = realtime.attach(target);
      cluster?.install(io, realtime);
      feed.attach(io);
      return io;
    },
    endSession: (sessionId) => service.end(sessionId, "revoked", null),
    endUserSessions: (userId) => service.endAll(userId, "revoked", null),
    sweep: () => service.sweep(),
    reconcile: () => realtime.reconcile(),
    store: rawStore,
    async close() {
      clearInterval(sweeper);
      keys.stop();
      service.setNotifier(null);
      feed.close();
      await realtime.close();
      await cluster?.close();
      await store.close();
      limiterBackend.close();
    },
  };
}
