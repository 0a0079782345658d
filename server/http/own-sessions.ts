import express, { type Request, type RequestHandler, type Router } from "express";
import type { OwnSessionsResponse } from "../../protocol/index.js";
import { SoloError } from "../errors/solo-error.js";
import type { SessionCookie } from "../request/cookies.js";
import type { Actor } from "../sessions/audit.js";
import type { SessionService } from "../sessions/service.js";
import { sessionView } from "../sessions/views.js";
import { requestActor } from "./require-session.js";

/** What the user's own session routes need. */
export interface OwnSessionsRouterDeps {
  service: SessionService;
  /** `requireSession()`: 401 without a live session; the CSRF check for a cookie-carried token on `DELETE`. */
  requireSession: RequestHandler;
  cookie: SessionCookie;
}

/** Longest session id looked up; a longer one is unknown. */
const MAX_ID = 512;

/**
 * The signed-in user's own sessions ("Your devices"), mounted on the auth router:
 *
 * - `GET /sessions`: the user's live sessions, newest first, this one marked `current`.
 * - `DELETE /sessions/:id`: ends one of them (reason `revoked`; its device is told at once;
 *   audited as ended by this user, from this session's device); 204. Any id that is not a live
 *   session of this user, another user's included, is 404 `not_found`, so that nothing says
 *   whether it exists. Ending this very session clears its cookie, like a logout.
 *
 * (`POST /logout?scope=others`, every session but this one, is the logout route's.)
 *
 * @example
 * ```ts
 * createAuthRouter({ ...deps, extra: [createOwnSessionsRouter({ service, requireSession: requireSession(), cookie })] });
 * ```
 */
export function createOwnSessionsRouter(deps: OwnSessionsRouterDeps): Router {
  const router = express.Router();
  const { service } = deps;

  router.get("/sessions", deps.requireSession, async (req, res) => {
    const { userId, sessionId } = signedIn(req);
    const sessions = await service.liveSessions(userId);
    const answer: OwnSessionsResponse = {
      sessions: sessions.map((s) => ({ ...sessionView(s), current: s.id === sessionId })),
    };
    res.json(answer);
  });

  router.delete("/sessions/:id", deps.requireSession, async (req, res) => {
    const { userId, sessionId, actor } = signedIn(req);
    const id = req.params.id;
    const target = typeof id === "string" && id.length <= MAX_ID ? await service.store.get(id) : null;
    const ended =
      target && target.userId === userId && target.ended === null
        ? await service.endSession(target.id, "revoked", actor)
        : null;
    if (!ended) throw new SoloError("not_found", {}, "You have no live session with this id.");
    if (ended.id === sessionId && !deps.cookie.holdsOther(req)) deps.cookie.clear(req, res);
    res.status(204).end();
  });

  return router;
}

/** The request's live session (set by `requireSession()`) and the actor it makes. */
function signedIn(req: Request): { userId: string; sessionId: string; actor: Actor } {
  const actor = requestActor(req);
  if (!req.solo || !actor) throw new SoloError("missing_token");
  return { userId: req.solo.userId, sessionId: req.solo.sessionId, actor };
}
