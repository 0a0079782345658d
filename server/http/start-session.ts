import type { Request, Response } from "express";
import type { Logger } from "pino";
import { isSessionEndedCode, type LogoutScope, type SessionView } from "../../protocol/index.js";
import { SoloError } from "../errors/solo-error.js";
import type { LoginAttempt, LoginLimiter } from "../ratelimit/login.js";
import type { SessionCookie } from "../request/cookies.js";
import { actorOf } from "../sessions/audit.js";
import { describeDevice } from "../sessions/device.js";
import type { SessionService } from "../sessions/service.js";
import { type AuthenticatedUser, toSessionUser } from "../sessions/user.js";
import { sessionView } from "../sessions/views.js";

/** What `startSession` takes: the user the app authenticated, and the login's options. */
export interface StartSessionInput extends AuthenticatedUser {
  /** A name the person chose for this device, e.g. "Work laptop" (cleaned, at most 64 characters). */
  device?: { name?: string };
  /** Under the `confirm` policy: take over the active session. @default false */
  takeover?: boolean;
}

/** A started session: what `POST /auth/login` answers, for the app to answer in its own shape. */
export interface StartedSession {
  /** The session token (also set as the HttpOnly cookie). */
  token: string;
  session: SessionView;
  /** The sessions this sign-in ended (their devices were told at once). */
  replaced: SessionView[];
}

/** Options of `endSession`. */
export interface EndSessionOptions {
  /**
   * `"session"` ends this request's session; `"all"` every session of its user; `"others"`
   * every session of its user but this one (reason `revoked`: "sign out my other devices"; the
   * cookie stays). @default "session"
   */
  scope?: LogoutScope;
}

/** What starting and ending sessions from a request needs. */
export interface SessionStarterDeps {
  service: SessionService;
  cookie: SessionCookie;
  /** The CSRF check of a cookie-carried token on `endSession`. */
  csrf: (req: Request) => SoloError | null;
  /** Counts successful sign-ins per user and address (429 `rate_limited` over a limit). */
  limiter: LoginLimiter | null;
  clientAddress: (req: Request) => string;
  clock: () => number;
  logger: Logger;
}

/**
 * Starts and ends sessions from a request: `POST /auth/login` and `POST /auth/logout` are built
 * on it, and so is an app's own login route (`solo.startSession`) and logout (`solo.endSession`).
 * Starting counts the success limits, opens the session through the policy and the store's
 * atomic claim (kicking the replaced devices), sets the cookie and returns the token.
 *
 * @example
 * ```ts
 * const starter = new SessionStarter({ service, cookie, csrf, limiter, clientAddress, clock, logger });
 * app.post("/users/login", async (req, res) => {
 *   const user = await users.check(req.body);            // the app's own checks
 *   const { token } = await starter.start(req, res, { userId: user.id });
 *   res.json({ user: { ...user, token } });               // the app's own shape
 * });
 * ```
 */
export class SessionStarter {
  readonly #deps: SessionStarterDeps;

  constructor(deps: SessionStarterDeps) {
    this.#deps = deps;
  }

  /**
   * Opens a session for `input` (the app has authenticated the user). Throws a `SoloError`:
   * `session_active` under a refusing policy, `rate_limited` over a success limit,
   * `store_unavailable`; a TypeError for a malformed `input` (a bug in the caller). `attempt` is
   * the login route's counted attempt (its failures are then refunded).
   */
  async start(req: Request, res: Response, input: StartSessionInput, attempt?: LoginAttempt): Promise<StartedSession> {
    const user = toSessionUser(input, "startSession()");
    if (input.takeover !== undefined && typeof input.takeover !== "boolean") {
      throw new TypeError("startSession(): takeover must be true or false");
    }
    const deps = this.#deps;
    const address = deps.clientAddress(req);
    try {
      // Counted before the claim: a sign-in refused here opens no session and ends none.
      if (attempt) await attempt.succeeded(user.userId);
      else await deps.limiter?.countSuccess(address, user.userId);
    } catch (error) {
      if (error instanceof SoloError && error.code === "rate_limited")
        deps.logger.warn({ ip: address }, "successful logins rate limited");
      throw error;
    }
    const device = describeDevice(req.get("user-agent"), req.ip, input.device?.name);
    const opened = await deps.service.open(user, device, input.takeover === true);
    deps.cookie.set(req, res, opened.token, opened.session.expiresAt, deps.clock());
    return {
      token: opened.token,
      session: sessionView(opened.session),
      replaced: opened.replaced.map(sessionView),
    };
  }

  /**
   * Ends the request's session (or, with `scope: "all"`, every session of its user) and clears
   * the cookie; with `scope: "others"`, ends every other session of its user (reason `revoked`)
   * and keeps this one and its cookie. Ending a session that has already ended is done
   * (idempotent: false), except for `"others"`, which needs this session live. Resolves true when
   * a session was ended. Audited as done by this user, from this session's device. Throws
   * `missing_token`, `invalid_token`, `origin_not_allowed` (a cookie-carried token from a
   * foreign origin), `store_unavailable`; for `"others"`, an ended session's code too.
   */
  async end(req: Request, res: Response, options: EndSessionOptions = {}): Promise<boolean> {
    const deps = this.#deps;
    const scope = options.scope ?? "session";
    if (scope !== "session" && scope !== "all" && scope !== "others") {
      throw new TypeError('endSession(): scope must be "session", "all" or "others"');
    }
    const carried = deps.cookie.requestToken(req);
    if (carried.fromCookie) {
      const refused = deps.csrf(req);
      if (refused) throw refused;
    }
    if (scope === "others") {
      const { session } = await deps.service.check(carried.token);
      return (await deps.service.endOthers(session.userId, session.id, actorOf(session))).length > 0;
    }
    let ended = false;
    try {
      const { session } = await deps.service.check(carried.token);
      if (scope === "all") ended = (await deps.service.endAll(session.userId, "logout", actorOf(session))) > 0;
      else ended = await deps.service.end(session.id, "logout", actorOf(session));
    } catch (error) {
      // Logging out of a session that has already ended is done: idempotent.
      if (!(error instanceof SoloError && isSessionEndedCode(error.code))) throw error;
    }
    // Clear the cookie when it held the session that was ended (or every session was).
    if (scope === "all" || !deps.cookie.holdsOther(req)) deps.cookie.clear(req, res);
    return ended;
  }
}
