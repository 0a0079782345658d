import type { IncomingMessage } from "node:http";

/** The prefix browsers only accept on a Secure, host-only cookie with `Path=/`. */
export const HOST_PREFIX = "__Host-";

/**
 * The session token of a request: `Authorization: Bearer <token>`, else the session cookie.
 * Null when neither is present. Never the URL.
 *
 * `secure` says which cookie the server sets for this request: true, only `__Host-<name>` is
 * read (an unprefixed cookie could have been planted by a sibling subdomain or over plain
 * http, which is what the prefix rules out); false, only `<name>`; undefined, either.
 */
export function tokenFrom(req: IncomingMessage, cookieName: string, secure?: boolean): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === "string") {
    const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(auth);
    if (match) return match[1] as string;
  }
  if (secure === true) return cookieValue(req.headers.cookie, HOST_PREFIX + cookieName);
  if (secure === false) return cookieValue(req.headers.cookie, cookieName);
  return cookieValue(req.headers.cookie, HOST_PREFIX + cookieName) ?? cookieValue(req.headers.cookie, cookieName);
}

/** True when the request carries its token in a cookie rather than a header (CSRF applies). */
export function usesCookie(req: IncomingMessage): boolean {
  const auth = req.headers.authorization;
  return !(typeof auth === "string" && /^Bearer[ \t]/i.test(auth));
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
