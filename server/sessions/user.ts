/**
 * Who signed in, as the app's `authenticate` (or its own login route, through `startSession`)
 * says. A numeric id (every SQL table's) is welcome: it is stored and compared as a string.
 */
export interface AuthenticatedUser {
  /** Stable user id; becomes the token's `sub` (as a string: `42` → `"42"`). */
  userId: string | number;
  /** Roles, e.g. `["admin"]`; carried in the token. @default [] */
  roles?: readonly string[];
}

/** A user as the session service holds it: the id as a string, the roles as a list. */
export interface SessionUser {
  readonly userId: string;
  readonly roles: readonly string[];
}

/** The credentials of a login: the JSON body without the `device` and `takeover` fields. */
export type Credentials = Readonly<Record<string, unknown>>;

/** Longest user id, in characters. */
export const MAX_USER_ID = 256;

/**
 * Validates a user from the app (`authenticate`'s answer, or `startSession`'s argument) and
 * gives it the service's shape. Throws a TypeError naming `where` for anything else: a bug in
 * the app, answered 500 `internal_error`, never a session for a malformed user.
 *
 * @example
 * ```ts
 * toSessionUser({ userId: 42 }, "authenticate()"); // → { userId: "42", roles: [] }
 * ```
 */
export function toSessionUser(user: AuthenticatedUser, where: string): SessionUser {
  if (typeof user !== "object" || user === null) {
    throw new TypeError(`${where} must give { userId: string | number, roles?: string[] }`);
  }
  const id = user.userId;
  const userId = typeof id === "number" && Number.isFinite(id) ? String(id) : id;
  if (typeof userId !== "string" || userId === "" || userId.length > MAX_USER_ID) {
    throw new TypeError(
      `${where}: userId must be a non-empty string (at most ${MAX_USER_ID} characters) or a finite number`,
    );
  }
  const roles = user.roles ?? [];
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === "string")) {
    throw new TypeError(`${where}: roles must be an array of strings`);
  }
  return { userId, roles: [...roles] };
}
