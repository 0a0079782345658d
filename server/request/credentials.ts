import type { IncomingMessage } from "node:http";
import { SoloError } from "../errors/solo-error.js";

/** The prefix browsers only accept on a Secure, host-only cookie with `Path=/`. */
export const HOST_PREFIX = "__Host-";

/** The `Authorization` schemes a session token is read under by default (compared case-insensitively). */
export const TOKEN_SCHEMES: readonly string[] = ["Bearer"];

/**
 * Where a request's session token is read (the `token` option of `createSoloServer`, resolved).
 * `read` replaces the other two when given.
 */
export interface TokenSource {
  /** `Authorization` schemes that carry the token. */
  readonly schemes: readonly string[];
  /** Whether the session cookie is read when the request has no `Authorization` header. */
  readonly cookie: boolean;
  /**
   * The app's own reader: the token, or null when the request carries none; throws
   * `SoloError("invalid_token")` for a malformed credential.
   */
  readonly read: ((req: IncomingMessage) => string | null) | null;
}

/**
 * What a request's `Authorization` header says: nothing (`absent`), a credential under one of
 * the accepted schemes (`credential`), or something else (`malformed`: another scheme, no
 * credential, more than one, or an empty header). A malformed header is refused, never
 * ignored: ignoring it would fall back to the cookie behind the caller's back.
 */
export type AuthorizationHeader =
  | { readonly kind: "absent" }
  | { readonly kind: "credential"; readonly scheme: string; readonly credential: string }
  | { readonly kind: "malformed" };

/**
 * Parses an `Authorization` header: `<scheme> <credential>` with one credential of visible
 * characters (RFC 9110 §11.6.2; blanks around it allowed), the scheme one of `schemes`.
 *
 * @example
 * ```ts
 * parseAuthorization("Bearer eyJ...");   // → { kind: "credential", scheme: "Bearer", credential: "eyJ..." }
 * parseAuthorization("Bearer a b");      // → { kind: "malformed" }
 * parseAuthorization(undefined);         // → { kind: "absent" }
 * ```
 */
export function parseAuthorization(
  header: string | readonly string[] | undefined,
  schemes: readonly string[] = TOKEN_SCHEMES,
): AuthorizationHeader {
  if (header === undefined) return { kind: "absent" };
  if (typeof header !== "string") return { kind: "malformed" };
  const match = /^[ \t]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]+([^\s]+)[ \t]*$/.exec(header);
  if (!match) return { kind: "malformed" };
  const given = (match[1] as string).toLowerCase();
  const scheme = schemes.find((s) => s.toLowerCase() === given);
  return scheme === undefined ? { kind: "malformed" } : { kind: "credential", scheme, credential: match[2] as string };
}

/** Where a request's session token came from. */
export interface RequestToken {
  /** The token, or null when the request carries none. */
  readonly token: string | null;
  /** True when it came from the cookie (the browser attaches it by itself: CSRF applies). */
  readonly fromCookie: boolean;
}

/**
 * The session token of a request: `Authorization: <scheme> <token>` for one of `source.schemes`
 * (`Bearer` by default), else (only when there is no `Authorization` header at all) the session
 * cookie, if `source.cookie`; or whatever the app's `source.read` returns. Never the URL. A
 * present but malformed `Authorization` header throws `invalid_token`: it never falls back to
 * the cookie. A token from `source.read` counts as ambient (`fromCookie`): the CSRF check
 * applies to it, since solo-session cannot know where the app found it.
 *
 * `secure` says which cookie the server sets for this request: true, only `__Host-<name>` is
 * read (an unprefixed cookie could have been planted by a sibling subdomain or over plain
 * http, which is what the prefix rules out); false, only `<name>`; undefined, either.
 *
 * @example
 * ```ts
 * const { token, fromCookie } = requestToken(req, "solo_session", false);
 * if (fromCookie && !sameOrigin(req)) refuse();
 * ```
 */
export function requestToken(
  req: IncomingMessage,
  cookieName: string,
  secure?: boolean,
  source: TokenSource = { schemes: TOKEN_SCHEMES, cookie: true, read: null },
): RequestToken {
  if (source.read) {
    const token = source.read(req);
    if (token !== null && (typeof token !== "string" || token === "")) throw new SoloError("invalid_token");
    return { token, fromCookie: token !== null };
  }
  const auth = parseAuthorization(req.headers.authorization, source.schemes);
  if (auth.kind === "malformed") throw new SoloError("invalid_token");
  if (auth.kind === "credential") return { token: auth.credential, fromCookie: false };
  if (!source.cookie) return { token: null, fromCookie: false };
  const cookie = req.headers.cookie;
  let token: string | null;
  if (secure === true) token = cookieValue(cookie, HOST_PREFIX + cookieName);
  else if (secure === false) token = cookieValue(cookie, cookieName);
  else token = cookieValue(cookie, HOST_PREFIX + cookieName) ?? cookieValue(cookie, cookieName);
  return { token, fromCookie: token !== null };
}

/** The value of one cookie in a Cookie header; the first one wins. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    return value === "" ? null : value;
  }
  return null;
}
