/** Who signed in, as the app's `authenticate` (or its own login route) says. */
export interface AuthenticatedUser {
  /** Stable user id; becomes the token's `sub`. */
  userId: string;
  /** Roles, e.g. `["admin"]`; carried in the token. @default [] */
  roles?: readonly string[];
}

/** The credentials of a login: the JSON body without the `device` and `takeover` fields. */
export type Credentials = Readonly<Record<string, unknown>>;
