/**
 * The composition root: `createSoloServer(options)` builds each part from the resolved options
 * and hands each the parts it needs. It decides nothing itself; every rule lives in the part
 * that owns it (see ARCHITECTURE.md).
 *
 * @module
 */

import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { RequestHandler, Router } from "express";
import type { Registry } from "prom-client";
import type { Server as IoServer } from "socket.io";
import { createAdminRouter } from "./http/admin.js";
import { createAuthRouter } from "./http/auth-routes.js";
import { type CorsOptions, createCors } from "./http/cors.js";
import { createHealthRouter } from "./http/health.js";
import { createIntrospectRouter } from "./http/introspect.js";
import { loginOutcomes, requestIds } from "./http/observe.js";
import { createRequireSession, type RequireSessionOptions } from "./http/require-session.js";
import { defaultLogger } from "./observability/logger.js";
import { Metrics } from "./observability/metrics.js";
import { logSessionEvents } from "./observability/session-log.js";
import { resolveOptions } from "./options/resolve.js";
import type { SoloServerOptions } from "./options/types.js";
import { openLimiterBackend } from "./ratelimit/backend.js";
import { LoginLimiter } from "./ratelimit/login.js";
import { ConnectionLimiter, HandshakeLimiter } from "./ratelimit/sockets.js";
import { AdminFeed } from "./realtime/admin-feed.js";
import { Handshake } from "./realtime/handshake.js";
import { openScaleOut } from "./realtime/redis/scale-out.js";
import { Realtime } from "./realtime/session-channel.js";
import type { SoloIo } from "./realtime/types.js";
import { clientAddress } from "./request/client-address.js";
import { SessionCookie } from "./request/cookies.js";
import { csrfCheck, type OriginPolicy } from "./request/origin.js";
import { AuditTrail } from "./sessions/audit.js";
import { presenceInterval } from "./sessions/policy.js";
import { SessionService } from "./sessions/service.js";
import { startSweeper } from "./sessions/sweeper.js";
import { openStore } from "./store/index.js";
import { MeasuredStore } from "./store/measured.js";
import { RedisStore } from "./store/redis/store.js";
import type { SessionStore } from "./store/types.js";
import { loadKeyRing } from "./tokens/key-file.js";
import { startKeyReload } from "./tokens/key-reload.js";
import { TokenService } from "./tokens/tokens.js";
import { closeAll } from "./util/close-all.js";

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
 * Creates a solo-session server: the store, tokens, policy, HTTP routes, middleware and the
 * realtime channel, wired together. Throws a TypeError at once for a bad option.
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
  const o = resolveOptions(options);
  const logger = o.logger ?? defaultLogger();
  const ring = await loadKeyRing({ signingKeys: o.signingKeys, dataDir: o.keysDir });
  const rawStore = await openStore(o);
  const cluster = await openScaleOut(rawStore, o.redis, logger).catch(async (error: unknown) => {
    await rawStore.close();
    throw error;
  });
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
  const csrf = csrfCheck(origins);
  const limiterBackend = openLimiterBackend(
    o.rateLimit,
    {
      keyPrefix: o.redis.keyPrefix,
      open: rawStore instanceof RedisStore ? () => rawStore.connections.open("ratelimit") : null,
    },
    logger,
  );
  const keys = startKeyReload(tokens, o.keyReloadInterval, logger);

  const requireSession = createRequireSession({ service, cookie, csrf });
  const router = createAuthRouter({
    service,
    authenticate: o.authenticate,
    cookie,
    clock: o.clock,
    logger,
    guards: [(req, _res, next) => next(csrf(req) ?? undefined)],
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
    presenceInterval: presenceInterval(o.policy, o.abandonGrace),
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
  const sweeper = startSweeper(() => service.sweep(), o.sweepInterval, logger);

  return {
    router,
    health: createHealthRouter({ store }),
    metrics: metrics.handler(),
    registry: metrics.registry,
    requireSession,
    cors: (corsOptions) => createCors(o.allowedOrigins, corsOptions),
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
    close: () =>
      closeAll([
        () => sweeper.stop(),
        () => keys.stop(),
        () => service.setNotifier(null),
        () => feed.close(),
        () => realtime.close(),
        () => cluster?.close(),
        () => store.close(),
        () => limiterBackend.close(),
      ]),
  };
}
