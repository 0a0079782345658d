import type { IncomingMessage } from "node:http";

/**
 * The Origin check shared by the Socket.IO handshake and the HTTP CSRF defence.
 *
 * A request without an `Origin` header comes from a non-browser client (browsers always
 * send it on WebSocket handshakes and cross-origin or state-changing requests) and is
 * allowed, unless the browser says through `Sec-Fetch-Site: cross-site` that another site
 * made it. `Origin: null` (sandboxed frames, `file:`, some redirects) is refused. Otherwise
 * the origin must be the server's own (scheme and `Host` of the request) or in the
 * allowlist. Origins are compared after normalisation: `HTTPS://App.Example:443` and
 * `https://app.example` are the same origin.
 *
 * @example
 * ```ts
 * if (!originAllowed(req, ["https://app.example.com"], isSecure(req, false))) refuse(403, "origin_not_allowed");
 * ```
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[], secure: boolean): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers["sec-fetch-site"] !== "cross-site";
  const normalized = normalizeOrigin(origin);
  if (normalized === null) return false;
  if (allowed.includes(normalized)) return true;
  return normalized === ownOrigin(req, secure);
}

/** True when the request's Origin is in the explicit allowlist (the cross-origin frontends CORS is for). */
export function originListed(req: IncomingMessage, allowed: readonly string[]): string | null {
  const origin = req.headers.origin;
  if (typeof origin !== "string") return null;
  const normalized = normalizeOrigin(origin);
  return normalized !== null && allowed.includes(normalized) ? normalized : null;
}

/**
 * The serialised origin (`scheme://host[:port]`, lower case, default port dropped) of an
 * `Origin` header value, or null for `null`, anything with a path, credentials, a query, or
 * a scheme other than http(s).
 */
export function normalizeOrigin(value: string): string | null {
  if (value.length > 2048 || !/^https?:\/\/[^/?#@\\\s]+\/?$/i.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  return url.origin;
}

/** The server's own origin as this request reached it: scheme and `Host` header. */
function ownOrigin(req: IncomingMessage, secure: boolean): string | null {
  const host = req.headers.host;
  if (typeof host !== "string" || !/^[A-Za-z0-9.\-:[\]]+$/.test(host)) return null;
  return normalizeOrigin(`${secure ? "https" : "http"}://${host}`);
}

/** Whether the request came over TLS (directly or, with `X-Forwarded-Proto`, through a trusted proxy). */
export function isSecure(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  if (!trustProxy) return false;
  const proto = req.headers["x-forwarded-proto"];
  return typeof proto === "string" && proto.split(",")[0]?.trim() === "https";
}
