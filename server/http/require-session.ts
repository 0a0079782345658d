import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";
import type { SessionView } from "../../protocol/index.js";
import { SoloError } from "../errors/solo-error.js";
import type { SessionCookie } from "../request/cookies.js";
import type { Actor } from "../sessions/audit.js";
import type { Checked, SessionService } from "../sessions/service.js";
import { sessionView } from "../sessions/views.js";
import type { SessionRecord } from "../store/types.js";
import type { SessionClaims } from "../tokens/tokens.js";
import { sendError, toSoloError } from "./respond.js";

/** What `requireSession()` puts on `req.solo`. */
export interface SoloRequestContext {
  readonly userId: string;
  readonly sessionId: string;
  readonly roles: readonly string[];
  /** The session as the API shows it (built on first use). */
  readonly session: SessionView;
  readonly claims: SessionClaims;
}

declare module "express-serve-static-core" {
  interface Request {
    /** Set by `requireSession()`: the verified, live session of this request. */
    solo?: SoloRequestContext;
  }
}

/** Options of `requireSession()`. */
export interface RequireSessionOptions {
  /**
   * Let requests without any credential through, with `req.solo` undefined (anonymous reads an
   * app personalises when signed in). A credential that is there is still checked: an ended
   * session's token is refused with its reason, a malformed one with `invalid_token`.
   * @default false
   */
  optional?: boolean;
  /** Only sessions whose user has at least one of these roles pass; others get 403 `forbidden`. */
  roles?: readonly string[];
  /**
   * What a refusal does. By default it goes to `next(error)` as a {@link SoloError} (`status`,
   * `code`, details such as `by`), so the app's own error handler and format apply;
   * `solo.errorHandler()` writes solo-session's documented body. Give a function to answer it
   * here instead.
   */
  onError?: (error: SoloError, req: Request, res: Response, next: NextFunction) => void;
}

/** What the middleware needs. */
export interface MiddlewareDeps {
  service: SessionService;
  cookie: SessionCookie;
  /** The CSRF check for cookie-authenticated state-changing requests. */
  csrf: (req: Request) => SoloError | null;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** `req.solo`: the ids at hand, the SessionView built on first use (most routes need only the ids). */
class SoloContext implements SoloRequestContext {
  readonly userId: string;
  readonly sessionId: string;
  readonly roles: readonly string[];
  readonly claims: SessionClaims;
  readonly #record: SessionRecord;
  #view: SessionView | undefined;

  constructor(record: SessionRecord, claims: SessionClaims) {
    this.userId = record.userId;
    this.sessionId = record.id;
    this.roles = claims.roles;
    this.claims = claims;
    this.#record = record;
  }

  get session(): SessionView {
    this.#view ??= sessionView(this.#record);
    return this.#view;
  }
}

/**
 * Builds `requireSession()`: each request's token (see the `token` option: bearer or cookie by
 * default) is verified and its session checked in the store. A present but malformed
 * credential is `invalid_token`, never a fall back to the cookie; a cookie-carried token on a
 * state-changing request must pass the CSRF check. A refusal goes to `next(error)` as a
 * `SoloError` (401 with the stable code, `by` for a replaced session; 403 `forbidden` for a
 * missing role) unless `onError` answers it; a pass sets `req.solo` and counts as activity.
 * Works in Express 4 and 5 apps alike.
 */
export function createRequireSession(deps: MiddlewareDeps) {
  return function requireSession(options: RequireSessionOptions = {}): RequestHandler {
    const { optional = false, roles, onError } = options;
    if (typeof optional !== "boolean") throw new TypeError("requireSession: options.optional must be true or false");
    if (
      roles !== undefined &&
      (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => typeof r === "string" && r !== ""))
    ) {
      throw new TypeError("requireSession: options.roles must be a non-empty array of role names");
    }
    if (onError !== undefined && typeof onError !== "function") {
      throw new TypeError("requireSession: options.onError must be a function (error, req, res, next)");
    }
    /** Sets `req.solo` for a checked session, or throws `forbidden`. */
    const admit = (req: Request, { claims, session }: Checked): void => {
      if (roles !== undefined && !roles.some((role) => claims.roles.includes(role))) throw new SoloError("forbidden");
      deps.service.activity(session);
      req.solo = new SoloContext(session, claims);
    };
    const refuse = (req: Request, res: Response, next: NextFunction, error: unknown): void => {
      const solo = toSoloError(error);
      deps.cookie.clearIfRefused(req, res, solo.code);
      if (onError) onError(solo, req, res, next);
      else next(solo);
    };
    return function soloRequireSession(req: Request, res: Response, next: NextFunction): void {
      let token: string | null;
      let cached: Checked | null;
      try {
        // The token actually used decides the CSRF check: a cookie is ambient, a header is not.
        // A malformed Authorization header throws invalid_token here (never the cookie instead).
        const carried = deps.cookie.requestToken(req);
        if (!SAFE_METHODS.has(req.method) && carried.fromCookie) {
          const refused = deps.csrf(req);
          if (refused) throw refused;
        }
        token = carried.token;
        if (token === null && optional) {
          req.solo = undefined;
          next();
          return;
        }
        cached = deps.service.checkCached(token); // the common path: no await at all
        if (cached) admit(req, cached);
      } catch (error) {
        refuse(req, res, next, error);
        return;
      }
      if (cached) {
        next();
        return;
      }
      deps.service.check(token).then(
        (checked) => {
          try {
            admit(req, checked);
          } catch (error) {
            refuse(req, res, next, error);
            return;
          }
          next();
        },
        (error: unknown) => refuse(req, res, next, error),
      );
    };
  };
}

/**
 * Who made a request that `requireSession()` let through, for the audit trail: its user, its
 * session and that session's device. Null for an anonymous request.
 *
 * @example
 * ```ts
 * await service.end(id, "revoked", requestActor(req));
 * ```
 */
export function requestActor(req: Request): Actor | null {
  const solo = req.solo;
  return solo ? { userId: solo.userId, sessionId: solo.sessionId, device: { ...solo.session.device } } : null;
}

/**
 * The error handler for `requireSession()`'s refusals: answers a {@link SoloError} with
 * solo-session's documented body (`{ error, message, ...details }`, its status, `Retry-After`
 * where due) and passes anything else on to the app's next error handler.
 *
 * @example
 * ```ts
 * app.use("/api", solo.requireSession(), apiRoutes);
 * app.use(solo.errorHandler());
 * ```
 */
export function createErrorHandler(): ErrorRequestHandler {
  return function soloErrorHandler(error: unknown, _req: Request, res: Response, next: NextFunction): void {
    if (!(error instanceof SoloError) || res.headersSent) {
      next(error);
      return;
    }
    sendError(res, error);
  };
}
