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
