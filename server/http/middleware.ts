import type { NextFunction, Request, RequestHandler, Response } from "express";
import { SoloError } from "../errors.js";
import type { SessionView } from "../protocol.js";
import type { Checked, SessionService } from "../sessions.js";
import type { SessionRecord } from "../store/types.js";
import type { SessionClaims } from "../tokens.js";
import { sessionView } from "../views.js";
import type { SessionCookie } from "./cookies.js";
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
  /** Only sessions whose user has this role pass; others get 403 `forbidden`. */
  role?: string;
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
 * Builds `requireSession()`: each request's token (bearer or cookie) is verified and its
 * session checked in the store. A present but malformed `Authorization` header is 401
 * `invalid_token`, never a fall back to the cookie; a cookie-carried token on a state-changing
 * request must pass the CSRF check. A refusal answers 401 with the stable code (and `by` for a
 * replaced session); a pass sets `req.solo` and counts as activity.
 */
export function createRequireSession(deps: MiddlewareDeps) {
  return function requireSession(options: RequireSessionOptions = {}): RequestHandler {
    if (options.role !== undefined && (typeof options.role !== "string" || options.role === "")) {
      throw new TypeError("requireSession: options.role must be a non-empty string");
    }
    /** Sets `req.solo` for a checked session, or throws `forbidden`. */
    const admit = (req: Request, { claims, session }: Checked): void => {
      if (options.role !== undefined && !claims.roles.includes(options.role)) throw new SoloError("forbidden");
      deps.service.activity(session);
      req.solo = new SoloContext(session, claims);
    };
    const refuse = (req: Request, res: Response, error: unknown): void => {
      const solo = toSoloError(error);
      deps.cookie.clearIfRefused(req, res, solo.code);
      sendError(res, solo);
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
        cached = deps.service.checkCached(token); // the common path: no await at all
        if (cached) admit(req, cached);
      } catch (error) {
        refuse(req, res, error);
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
            refuse(req, res, error);
            return;
          }
          next();
        },
        (error: unknown) => refuse(req, res, error),
      );
    };
  };
}
