import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import { isSessionEndedCode, type LoginResponse, type SessionResponse } from "../../protocol/index.js";
import { SoloError } from "../errors/solo-error.js";
import type { Authenticate } from "../options/types.js";
import type { LoginLimiter } from "../ratelimit/login.js";
import type { SessionCookie } from "../request/cookies.js";
import { describeDevice } from "../sessions/device.js";
import type { SessionService } from "../sessions/service.js";
import type { AuthenticatedUser, Credentials } from "../sessions/user.js";
import { sessionView } from "../sessions/views.js";
import { sendError, toSoloError } from "./respond.js";

/** What the auth router needs. */
export interface AuthRouterDeps {
  service: SessionService;
  authenticate: Authenticate;
  cookie: SessionCookie;
  clock: () => number;
  logger: Logger;
  /** Runs before each state-changing route (origin check, rate limits). */
  guards: express.RequestHandler[];
  /** CORS for the allowlisted origins; runs before every route. */
  cors?: express.RequestHandler;
  /**
   * Reads the login name (a malformed one is 400 `invalid_request`), counts failed logins per
   * address and login name and successful ones per user and address; over a limit, 429 `rate_limited`.
   */
  loginLimiter?: LoginLimiter;
  /** The client's address, as rate limits count it. */
  clientAddress?: (req: Request) => string;
  /** Extra routes mounted on the router (admin API, introspection). */
  extra?: Router[];
  /** Runs first on every request (request ids, observers). */
  before?: express.RequestHandler[];
}

/** Largest JSON body accepted by the auth routes. */
export const MAX_BODY = "8kb";

/**
 * The `/auth` routes: `POST /login`, `GET /session`, `POST /logout`, `GET /jwks.json`.
 * Every error is `{ error, message, ...details }` with its status; nothing is cached.
 */
export function createAuthRouter(deps: AuthRouterDeps): Router {
  const router = express.Router();
  const json = express.json({ limit: MAX_BODY, strict: true, type: () => true });

  for (const handler of deps.before ?? []) router.use(handler);
  router.use((_req, res, next) => {
    res.set("Cache-Control", "no-store");
    next();
  });
  if (deps.cors) router.use(deps.cors);

  router.post("/login", ...deps.guards, requireJson, json, async (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new SoloError("invalid_request", {}, "The body must be a JSON object.");
    }
    const { device, takeover, ...credentials } = body as Record<string, unknown>;
    if (device !== undefined && (typeof device !== "object" || device === null || Array.isArray(device))) {
      throw new SoloError("invalid_request", {}, '"device" must be an object like {"name": "Work laptop"}.');
    }
    if (takeover !== undefined && typeof takeover !== "boolean") {
      throw new SoloError("invalid_request", {}, '"takeover" must be true or false.');
    }
    // A malformed login name is refused before it is counted and before authenticate sees it.
    const name = deps.loginLimiter ? deps.loginLimiter.loginName(credentials as Credentials) : null;
    const address = deps.clientAddress ? deps.clientAddress(req) : (req.socket.remoteAddress ?? "unknown");
    let attempt: Awaited<ReturnType<LoginLimiter["begin"]>> | null = null;
    try {
      attempt = (await deps.loginLimiter?.begin(address, name)) ?? null;
    } catch (error) {
      if (error instanceof SoloError && error.code === "rate_limited")
        deps.logger.warn({ ip: address }, "login rate limited");
      throw error;
    }
    const user = checkUser(await deps.authenticate(credentials as Credentials, req));
    if (!user) {
      throw new SoloError("invalid_credentials");
    }
    try {
      // Counted before the claim: a login refused here opens no session and ends none.
      await attempt?.succeeded(user.userId);
    } catch (error) {
      if (error instanceof SoloError && error.code === "rate_limited")
        deps.logger.warn({ ip: address }, "successful logins rate limited");
      throw error;
    }
    const info = describeDevice(req.get("user-agent"), req.ip, (device as { name?: unknown } | undefined)?.name);
    const opened = await deps.service.open(user, info, takeover === true);
    deps.cookie.set(req, res, opened.token, opened.session.expiresAt, deps.clock());
    const answer: LoginResponse = {
      token: opened.token,
      session: sessionView(opened.session),
      replaced: opened.replaced.map(sessionView),
    };
    res.status(200).json(answer);
  });

  router.get("/session", async (req, res) => {
    const { session } = await deps.service.check(deps.cookie.token(req));
    deps.service.activity(session);
    const answer: SessionResponse = { session: sessionView(session) };
    res.json(answer);
  });

  router.post("/logout", ...deps.guards, async (req, res) => {
    const scope = req.query.scope;
    if (scope !== undefined && scope !== "all" && scope !== "session") {
      throw new SoloError("invalid_request", {}, 'scope must be "session" or "all".');
    }
    try {
      const { session } = await deps.service.check(deps.cookie.token(req));
      if (scope === "all") await deps.service.endAll(session.userId, "logout", session.userId);
      else await deps.service.end(session.id, "logout", session.userId);
    } catch (error) {
      // Logging out of a session that has already ended is done: idempotent.
      if (!(error instanceof SoloError && isSessionEndedCode(error.code))) throw error;
    }
    // Clear the cookie when it held the session that was ended (or every session was).
    if (scope === "all" || !deps.cookie.holdsOther(req)) deps.cookie.clear(req, res);
    res.status(204).end();
  });

  router.get("/jwks.json", (_req, res) => {
    res.set("Cache-Control", "public, max-age=300");
    res.json(deps.service.tokens.jwks);
  });

  for (const extra of deps.extra ?? []) router.use(extra);

  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const solo = toSoloError(error);
    if (solo.code === "internal_error") {
      deps.logger.error({ err: error, path: req.path, reqId: res.get("x-request-id") }, "auth route failed");
    }
    deps.cookie.clearIfRefused(req, res, solo.code);
    sendError(res, solo);
  });

  return router;
}

/** Login bodies must be JSON: a cross-site form cannot send that without a CORS preflight. */
function requireJson(req: Request, _res: Response, next: NextFunction): void {
  if (!req.is("application/json")) {
    next(new SoloError("invalid_request", {}, "Send the credentials as application/json."));
    return;
  }
  next();
}

/** Validates what the app's authenticate returned. */
function checkUser(user: AuthenticatedUser | null | undefined): AuthenticatedUser | null {
  if (user === null || user === undefined) return null;
  if (typeof user !== "object" || typeof user.userId !== "string" || user.userId === "" || user.userId.length > 256) {
    throw new TypeError("authenticate() must return { userId: non-empty string, roles?: string[] } or null");
  }
  if (user.roles !== undefined && !(Array.isArray(user.roles) && user.roles.every((r) => typeof r === "string"))) {
    throw new TypeError("authenticate() returned roles that are not an array of strings");
  }
  return user;
}
