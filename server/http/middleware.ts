import type { NextFunction, Request, RequestHandler, Response } from "express";
import { SoloError } from "../errors.js";
import type { SessionView } from "../protocol.js";
import type { SessionService } from "../sessions.js";
import type { SessionClaims } from "../tokens.js";
import { sessionView } from "../views.js";
import type { SessionCookie } from "./cookies.js";
import { usesCookie } from "./credentials.js";
import { sendError, toSoloError } from "./respond.js";

/** What `requireSession()` puts on `req.solo`. */
export interface SoloRequestContext {
  userId: string;
  sessionId: string;
  roles: readonly string[];
  session: SessionView;
  claims: SessionClaims;
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

/**
 * Builds `requireSession()`: each request's token (bearer or cookie) is verified and its
 * session checked in the store. A refusal answers 401 with the stable code (and `by` for a
 * replaced session); a pass sets `req.solo` and counts as activity.
 */
export function createRequireSession(deps: MiddlewareDeps) {
  return function requireSession(options: RequireSessionOptions = {}): RequestHandler {
    if (options.role !== undefined && (typeof options.role !== "string" || options.role === "")) {
      throw new TypeError("requireSession: options.role must be a non-empty string");
    }
    return async function soloRequireSession(req: Request, res: Response, next: NextFunction): Promise<void> {
      try {
        if (!SAFE_METHODS.has(req.method) && usesCookie(req)) {
          const refused = deps.csrf(req);
          if (refused) throw refused;
        }
        const { claims, session } = await deps.service.check(deps.cookie.token(req));
        if (options.role !== undefined && !claims.roles.includes(options.role)) throw new SoloError("forbidden");
        deps.service.activity(session);
        let view: SessionView | undefined;
        req.solo = {
          userId: session.userId,
          sessionId: session.id,
          roles: claims.roles,
          get session() {
            view ??= sessionView(session); // built on first use: most routes need only the ids
            return view;
          },
          claims,
        };
      } catch (error) {
        const solo = toSoloError(error);
        deps.cookie.clearIfRefused(req, res, solo.code);
        sendError(res, solo);
        return;
      }
      next();
    };
  };
}
