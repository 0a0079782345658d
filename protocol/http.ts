/**
 * The JSON bodies of the `/auth` routes.
 *
 * @module
 */

import type { SessionView } from "./sessions.js";

/**
 * The fields of the `POST /auth/login` body that solo-session reads itself; every other field
 * is the app's credentials, passed to its `authenticate`.
 */
export interface LoginBody {
  device?: { name?: string };
  /** Under the `confirm` policy: take over the active session. */
  takeover?: boolean;
}

/** `POST /auth/login` 200 body. */
export interface LoginResponse {
  token: string;
  session: SessionView;
  /** The sessions this login ended (they were told with `session:revoked`). */
  replaced: SessionView[];
}

/** `GET /auth/session` 200 body. */
export interface SessionResponse {
  session: SessionView;
}

/**
 * `GET /auth/session?optional=true` 200 body: the session, or `null` when the request carried
 * no credential at all (no `Authorization` header, no session cookie). A credential that is
 * there is checked as without the parameter: an ended session's is still a 401 with its reason.
 * (Without the parameter, no credential is 401 `missing_token`.) The browser SDK asks this way,
 * so that an anonymous page load is not an error in the browser's console.
 */
export interface OptionalSessionResponse {
  session: SessionView | null;
}

/** `POST /auth/introspect` 200 body (RFC 7662). Anything not live is just `{ active: false }`. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      /** The user id. */
      sub: string;
      /** The session id (equal to `jti`). */
      sid: string;
      jti: string;
      /** Epoch seconds. */
      exp: number;
      iat: number;
      iss: string;
      aud: string;
      token_type: "session+jwt";
      roles: string[];
    };

/** One of the signed-in user's own live sessions, as `GET /auth/sessions` shows it. */
export interface OwnSessionView extends SessionView {
  /** True for the session of the request that asked (this device). */
  current: boolean;
}

/** `GET /auth/sessions` 200 body: the signed-in user's live sessions, newest first. */
export interface OwnSessionsResponse {
  sessions: OwnSessionView[];
}

/**
 * `POST /auth/logout?scope=`: `session` (the default) ends the request's session, `all` every
 * session of its user, `others` every session of its user but the request's own.
 */
export type LogoutScope = "session" | "all" | "others";

/** `POST /auth/dispute` body ("This wasn't me"). */
export interface DisputeBody {
  /**
   * The single-use capability a replacement notice carried (`dispute` of the pushed
   * `session:revoked`, of a refused handshake's data, or of the 401 `session_replaced` body).
   */
  capability: string;
}

/** `POST /auth/dispute` 200 body. */
export interface DisputeResponse {
  /** The session that took over: the one the person said was not them. */
  disputed: SessionView;
  /** The sessions the dispute ended (reason `revoked`), newest first; empty when none was live any more. */
  ended: SessionView[];
}
