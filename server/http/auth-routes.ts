import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import type { LoginResponse, OptionalSessionResponse, SessionResponse } from "../../protocol/index.js";
import { SoloError } from "../errors/solo-error.js";
import type { Authenticate } from "../options/types.js";
import type { LoginLimiter } from "../ratelimit/login.js";
import type { SessionCookie } from "../request/cookies.js";
import type { SessionService } from "../sessions/service.js";
import type { Credentials } from "../sessions/user.js";
import { sessionView } from "../sessions/views.js";
import { sendError, toSoloError } from "./respond.js";
import type { SessionStarter } from "./start-session.js";

/** What the auth router needs. */
export interface AuthRouterDeps {
  service: SessionService;
  /** Checks a login's credentials; null: no built-in login (the app starts sessions itself). */
  authenticate: Authenticate | null;
  cookie: SessionCookie;
  /** Opens the session of a login (success limits, claim, cookie) and ends the one of a logout. */
  starter: SessionStarter;
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
  clientAddress: (req: Request) => string;
  /** Extra routes mounted on the router (admin API, introspection). */
  extra?: Router[];
  /** Runs first on every request (request ids, observers). */
  before?: express.RequestHandler[];
}

/** Largest JSON body accepted by the auth routes. */
export const MAX_BODY = "8kb";

/**
 * The `/auth` routes: `POST /login`, `GET /session` (`?optional=true`), `POST /logout` (`?scope=session|all|others`),
 * `GET /jwks.json`, then the `extra` routers (the user's own sessions, disputes, introspection,
 * the admin API). Every error is `{ error, message, ...details }` with its status; nothing is cached.
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

  router.post("/login", builtInLogin(deps.authenticate), ...deps.guards, requireJson, json, async (req, res) => {
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
    const address = deps.clientAddress(req);
    let attempt: Awaited<ReturnType<LoginLimiter["begin"]>> | null = null;
    try {
      attempt = (await deps.loginLimiter?.begin(address, name)) ?? null;
    } catch (error) {
      if (error instanceof SoloError && error.code === "rate_limited")
        deps.logger.warn({ ip: address }, "login rate limited");
      throw error;
    }
    const user = await (deps.authenticate as Authenticate)(credentials as Credentials, req);
    if (user === null || user === undefined) throw new SoloError("invalid_credentials");
    const deviceName = (device as { name?: unknown } | undefined)?.name;
    const answer: LoginResponse = await deps.starter.start(
      req,
      res,
      { ...user, device: typeof deviceName === "string" ? { name: deviceName } : {}, takeover: takeover === true },
      attempt ?? undefined,
    );
    res.status(200).json(answer);
  });

  router.get("/session", async (req, res) => {
    const optional = optionalQuery(req.query.optional);
    const token = deps.cookie.token(req);
    // `?optional=true` (the SDK's start-up check): no credential at all is an anonymous visitor,
    // not an error. A credential that is there is checked all the same.
    if (token === null && optional) {
      const anonymous: OptionalSessionResponse = { session: null };
      res.json(anonymous);
      return;
    }
    const { session } = await deps.service.check(token);
    deps.service.activity(session);
    const answer: SessionResponse = { session: sessionView(session) };
    res.json(answer);
  });

  router.post("/logout", ...deps.guards, async (req, res) => {
    const scope = req.query.scope;
    if (scope !== undefined && scope !== "all" && scope !== "session" && scope !== "others") {
      throw new SoloError("invalid_request", {}, 'scope must be "session", "all" or "others".');
    }
    await deps.starter.end(req, res, { scope: scope ?? "session" });
    res.status(204).end();
  });

  router.get("/jwks.json", async (_req, res) => {
    await deps.service.tokens.ready();
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

/** Without `authenticate`, the app signs in through its own route (`startSession`): 404 here. */
function builtInLogin(authenticate: Authenticate | null) {
  return (_req: Request, _res: Response, next: NextFunction): void => {
    next(
      authenticate
        ? undefined
        : new SoloError("not_found", {}, "This server has no built-in login: sign in through the app."),
    );
  };
}

/** `?optional=`: absent or `false` is false, `true` is true; anything else is 400 `invalid_request`. */
function optionalQuery(value: unknown): boolean {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  throw new SoloError("invalid_request", {}, 'optional must be "true" or "false".');
}

/**
 * Login and dispute bodies must be JSON: a cross-site form cannot send that without a CORS preflight.
 *
 * @example
 * ```ts
 * router.post("/dispute", ...guards, requireJson, express.json(), handler);
 * ```
 */
export function requireJson(req: Request, _res: Response, next: NextFunction): void {
  if (!req.is("application/json")) {
    next(new SoloError("invalid_request", {}, "Send the credentials as application/json."));
    return;
  }
  next();
}
