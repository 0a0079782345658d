/**
 * The composition root: `createSoloServer(options)` builds each part from the resolved options
 * and hands each the parts it needs. It decides nothing itself; every rule lives in the part
 * that owns it (see ARCHITECTURE.md).
 *
 *
 * Longer than ~300 lines: the `SoloServer` interface (documented member by member) and the
 * wiring of every part; it holds no logic of its own.
 *
 * @module
 */

import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { ErrorRequestHandler, Request, RequestHandler, Response, Router } from "express";
import type { Registry } from "prom-client";
import type { Server as IoServer } from "socket.io";
import { EventDeliverer } from "./events/deliverer.js";
import { outboxFor } from "./events/receivers.js";
import { createAdminRouter } from "./http/admin.js";
import { createAuthRouter } from "./http/auth-routes.js";
import { type CorsOptions, createCors } from "./http/cors.js";
import { createDisputeRouter } from "./http/dispute.js";
import { createHealthRouter } from "./http/health.js";
import { createIntrospectRouter } from "./http/introspect.js";
import { loginOutcomes, requestIds } from "./http/observe.js";
import { createOwnSessionsRouter } from "./http/own-sessions.js";
import { createErrorHandler, createRequireSession, type RequireSessionOptions } from "./http/require-session.js";
import {
  type EndSessionOptions,
  SessionStarter,
  type StartedSession,
  type StartSessionInput,
} from "./http/start-session.js";
import { defaultLogger } from "./observability/logger.js";
import { Metrics } from "./observability/metrics.js";
import { logDeliveries, logSessionEvents } from "./observability/session-log.js";
import { resolveOptions } from "./options/resolve.js";
import type { SoloServerOptions } from "./options/types.js";
import { openLimiterBackend } from "./ratelimit/backend.js";
import { DisputeLimiter } from "./ratelimit/dispute.js";
import { LoginLimiter } from "./ratelimit/login.js";
import { ConnectionLimiter, HandshakeLimiter } from "./ratelimit/sockets.js";
import { AdminFeed } from "./realtime/admin-feed.js";
import { Handshake } from "./realtime/handshake.js";
import { ScaleOut } from "./realtime/scale-out.js";
import { Realtime } from "./realtime/session-channel.js";
import type { SoloIo } from "./realtime/types.js";
import { clientAddress } from "./request/client-address.js";
import { SessionCookie } from "./request/cookies.js";
import { csrfCheck, type OriginPolicy } from "./request/origin.js";
import { AuditTrail } from "./sessions/audit.js";
import { DisputeCapabilities } from "./sessions/dispute-capabilities.js";
import { Disputes } from "./sessions/disputes.js";
import { presenceInterval } from "./sessions/policy.js";
import { SessionService } from "./sessions/service.js";
import { startSweeper } from "./sessions/sweeper.js";
import { openStore } from "./store/index.js";
import { MeasuredStore } from "./store/measured.js";
import { RedisStore } from "./store/redis/store.js";
import type { SessionStore } from "./store/types.js";
import { DisputeTokens } from "./tokens/dispute-tokens.js";
import { loadKeyRing } from "./tokens/key-file.js";
import { startKeyReload } from "./tokens/key-reload.js";
import { TokenService } from "./tokens/tokens.js";
import { closeAll } from "./util/close-all.js";

/** A composed solo-session server. */
export interface SoloServer {
  /**
   * Resolves once the server can serve: its signing keys loaded, its store connected (and
   * migrated), its scale-out open. Requests and handshakes that arrive earlier wait for it.
   * Rejects when the server cannot start (a store unreachable for 10 s, unreadable keys): then
   * every request answers 503 `store_unavailable`; exit and let your supervisor restart you.
   */
  readonly ready: Promise<void>;
  /**
   * The `/auth` routes: login, session, logout, jwks.json, the signed-in user's own sessions
   * (`/sessions`), the dispute of a replacement (`/dispute`), introspect, and the admin API under
   * `/admin`. Mount with `app.use("/auth", solo.router)`.
   */
  router: Router;
  /** `GET /healthz` (process up) and `GET /readyz` (store reachable). Mount with `app.use(solo.health)`. */
  health: Router;
  /** The Prometheus `/metrics` handler: `app.get("/metrics", solo.metrics)`. */
  metrics: RequestHandler;
  /** The registry of the `solo_*` series alone, to merge into an app's own registry. */
  registry: Registry;
  /**
   * Middleware for the existing API: sets `req.solo` for a live session; anything else goes to
   * `next(error)` as a `SoloError` (401 with the code, 403 `forbidden`) unless `optional` lets
   * an anonymous request through or `onError` answers it.
   */
  requireSession(options?: RequireSessionOptions): RequestHandler;
  /** The error handler that answers `requireSession()`'s refusals with the documented body; other errors pass on. */
  errorHandler(): ErrorRequestHandler;
  /**
   * Starts a session from the app's own login route, after its own checks (password and MFA,
   * OAuth, a magic link): the same success limits, atomic claim, policy, kick and cookie as
   * `POST /auth/login`. Throws a `SoloError` (`session_active` under a refusing policy,
   * `rate_limited`, `store_unavailable`).
   */
  startSession(req: Request, res: Response, user: StartSessionInput): Promise<StartedSession>;
  /**
   * Ends the request's session (or with `scope: "all"` every session of its user) from the app's
   * own logout route, and clears the cookie. Idempotent; resolves false when nothing was live.
   * `scope: "others"` ends every session of the user but this one ("sign out my other devices").
   */
  endSession(req: Request, res: Response, options?: EndSessionOptions): Promise<boolean>;
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
  /** Ends one session by id (reason `revoked`), e.g. from an admin tool; its device is told at once. Returns false if it was not live. */
  revokeSession(sessionId: string): Promise<boolean>;
  /** Ends every session of a user (reason `revoked`), e.g. after a password change. Returns how many. */
  revokeUserSessions(userId: string | number): Promise<number>;
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
 * realtime channel, wired together. Synchronous (usable from CommonJS as is): what must
 * connect or load does so in the background, and `ready` says when it has. Throws a TypeError
 * at once for a bad option. Every option has a default, so `createSoloServer()` is a server
 * whose sessions the app starts in its own login route (`startSession`; no `authenticate`).
 *
 * @example
 * ```ts
 * import express from "express";
 * import { createServer } from "node:http";
 * import { createSoloServer } from "solo-session/server";
 *
 * const solo = createSoloServer({
 *   authenticate: async ({ username, password }) => (await users.check(username, password)) ? { userId: String(username) } : null,
 * });
 * const app = express();
 * app.use("/auth", solo.router);
 * app.use("/api", solo.requireSession());
 * app.use(solo.errorHandler());
 * const server = createServer(app);
 * solo.attach(server);
 * server.listen(3000);
 * ```
 */
export function createSoloServer(options: SoloServerOptions = {}): SoloServer {
  const o = resolveOptions(options);
  const logger = o.logger ?? defaultLogger();
  const ring = loadKeyRing({ signingKeys: o.signingKeys, dataDir: o.keysDir });
  const rawStore = openStore(o);
  const outbox = outboxFor(rawStore, o.receivers);
  const storeReady = Promise.resolve(rawStore.ready?.());
  const scaleOut = new ScaleOut(rawStore, o, logger, storeReady);
  const ready = Promise.all([ring, storeReady, scaleOut.ready]).then(() => undefined);
  ready.catch((error: unknown) => logger.error({ err: error }, "solo-session could not start"));
  const metrics: Metrics = new Metrics({
    sessionsLive: () => store.countLive(),
    socketsConnected: () => realtime.localSockets,
    ...(scaleOut.backend ? { [scaleOut.backend === "redis" ? "redisUp" : "postgresUp"]: () => scaleOut.up } : {}),
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
  const capabilities = o.dispute
    ? new DisputeCapabilities(
        new DisputeTokens(tokens, {
          issuer: o.issuer,
          audience: o.audience,
          clockTolerance: o.clockTolerance,
          clock: o.clock,
        }),
        { ttl: o.dispute.ttl, clockTolerance: o.clockTolerance, clock: o.clock },
      )
    : null;
  const service = new SessionService(store, tokens, audit, {
    ...o,
    ready: Promise.all([ring, storeReady]),
    capabilities,
  });
  metrics.observe(service);
  const sessionLog = logSessionEvents(service, logger);
  const cookie = new SessionCookie(o.cookie, o.trustProxy, o.token);
  const origins: OriginPolicy = {
    allowedOrigins: o.allowedOrigins,
    publicOrigin: o.publicOrigin,
    trustProxy: o.trustProxy,
  };
  const csrf = csrfCheck(origins);
  const address = (req: Request) => clientAddress(req, o.trustProxy);
  const limiterBackend = openLimiterBackend(
    o.rateLimit,
    {
      keyPrefix: o.redis.keyPrefix,
      open: rawStore instanceof RedisStore ? () => rawStore.connections.open("ratelimit") : null,
    },
    logger,
  );
  const keys = ring.then(() => startKeyReload(tokens, o.keyReloadInterval, logger));
  const loginLimiter = new LoginLimiter(o.rateLimit, limiterBackend.backend);
  const starter = new SessionStarter({
    service,
    cookie,
    csrf,
    limiter: loginLimiter,
    clientAddress: address,
    clock: o.clock,
    logger,
  });

  const requireSession = createRequireSession({ service, cookie, csrf });
  const guards: RequestHandler[] = [(req, _res, next) => next(csrf(req) ?? undefined)];
  const disputes =
    capabilities && o.dispute
      ? createDisputeRouter({
          disputes: new Disputes({ service, capabilities, audit, ends: o.dispute.ends, clock: o.clock }),
          limiter: new DisputeLimiter(o.rateLimit, limiterBackend.backend),
          onDispute: o.onDispute,
          guards,
          clientAddress: address,
          observe: (report) => {
            metrics.dispute(report.outcome);
            sessionLog.dispute(report);
          },
        })
      : null;
  const router = createAuthRouter({
    service,
    authenticate: o.authenticate,
    cookie,
    starter,
    logger,
    guards,
    before: [
      requestIds(),
      loginOutcomes((outcome, req) => {
        metrics.login(outcome);
        sessionLog.failed(outcome, req);
      }),
    ],
    extra: [
      createOwnSessionsRouter({ service, requireSession: requireSession(), cookie }),
      ...(disputes ? [disputes] : []),
      createIntrospectRouter({ service, secret: o.introspectSecret }),
      createAdminRouter({
        service,
        requireAdmin: requireSession({ roles: ["admin"] }),
        events: outbox ? { outbox, clock: o.clock, retried: () => deliverer?.wake() } : null,
      }),
    ],
    cors: createCors(o.allowedOrigins),
    loginLimiter,
    clientAddress: address,
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
  const deliverer = outbox
    ? new EventDeliverer(outbox, o.receivers, {
        ...o.delivery,
        issuer: o.issuer,
        node: o.nodeId,
        clock: o.clock,
        sign: (claims, typ) => tokens.signClaims(claims, typ),
      })
    : null;
  if (deliverer && outbox) {
    metrics.observeDeliveries(
      deliverer,
      () => outbox.depth(),
      (error) => logger.warn({ err: error }, "metrics source failed"),
    );
    logDeliveries(deliverer, logger);
    service.on("ended", () => deliverer.wake());
    ready.then(
      () => deliverer.start(),
      () => {},
    );
  }

  return {
    ready,
    router,
    health: createHealthRouter({ store }),
    metrics: metrics.handler(),
    registry: metrics.registry,
    requireSession,
    errorHandler: createErrorHandler,
    startSession: (req, res, user) => starter.start(req, res, user),
    endSession: (req, res, endOptions) => starter.end(req, res, endOptions),
    cors: (corsOptions) => createCors(o.allowedOrigins, corsOptions),
    reloadKeys: async () => (await keys).reload(),
    attach(target) {
      const io = realtime.attach(target);
      scaleOut.install(io, realtime);
      feed.attach(io);
      return io;
    },
    revokeSession: (sessionId) => service.end(sessionId, "revoked", null),
    revokeUserSessions: (userId) => service.endAll(String(userId), "revoked", null),
    sweep: () => service.sweep(),
    reconcile: () => realtime.reconcile(),
    store: rawStore,
    close: () =>
      closeAll([
        () => sweeper.stop(),
        () => deliverer?.close(),
        async () => (await keys.catch(() => null))?.stop(),
        () => service.setNotifier(null),
        () => feed.close(),
        () => realtime.close(),
        () => scaleOut.close(),
        () => store.close(),
        () => limiterBackend.close(),
      ]),
  };
}
