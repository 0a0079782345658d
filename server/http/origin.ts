import type { IncomingMessage } from "node:http";

/** Which browser origins the server accepts: its own, and an allowlist. */
export interface OriginPolicy {
  /** Origins allowed besides the server's own (normalised, e.g. `https://app.example.com`). */
  allowedOrigins: readonly string[];
  /**
   * The server's own origin, as browsers reach it. When null, each request's scheme and
   * `Host` header stand for it (which a DNS-rebinding page controls: set it in production).
   */
  publicOrigin: string | null;
  /** Trust `X-Forwarded-Proto` to tell https (only used without `publicOrigin`). */
  trustProxy: boolean;
}

/**
 * The Origin check shared by the HTTP CSRF defence and every Socket.IO request (the engine's
 * handshake, each long-polling request and the WebSocket upgrade, and every namespace).
 *
 * - With an `Origin` header: it must be the server's own origin (`publicOrigin`, or without
 *   it the scheme and `Host` of the request) or in `allowedOrigins`. `Origin: null`
 *   (sandboxed frames, `file:`, some redirects) is refused. Origins are compared after
 *   normalisation: `HTTPS://App.Example:443` and `https://app.example` are the same origin.
 * - Without `Origin`: browsers omit it on same-origin GETs and on `<script>`/`<img>` loads.
 *   Refused when the browser says through `Sec-Fetch-Site: cross-site` that another site made
 *   it, and when the request carries a cookie and `Sec-Fetch-Site` is `same-site` (a sibling
 *   subdomain or another port riding on the user's cookie). Everything else passes: clients
 *   that are not browsers (curl, python-socketio, Node) send neither header.
 *
 * @example
 * ```ts
 * const policy = { allowedOrigins: ["https://app.example.com"], publicOrigin: null, trustProxy: false };
 * if (!originAllowed(req, policy)) refuse(403, "origin_not_allowed");
 * ```
 */
export function originAllowed(req: IncomingMessage, policy: OriginPolicy): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) {
    const site = req.headers["sec-fetch-site"];
    if (site === "cross-site") return false;
    return !(site === "same-site" && typeof req.headers.cookie === "string" && req.headers.cookie !== "");
  }
  const normalized = normalizeOrigin(origin);
  if (normalized === null) return false;
  if (policy.allowedOrigins.includes(normalized)) return true;
  return normalized === (policy.publicOrigin ?? hostOrigin(req, isSecure(req, policy.trustProxy)));
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
 *
 * @example
 * ```ts
 * normalizeOrigin("HTTPS://App.Example:443"); // "https://app.example"
 * ```
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

/** The server's origin as this request reached it: scheme and `Host` header. */
function hostOrigin(req: IncomingMessage, secure: boolean): string | null {
  const host = req.headers.host;
  if (typeof host !== "string" || !/^[A-Za-z0-9.\-:[\]]+$/.test(host)) return null;
  return normalizeOrigin(`${secure ? "https" : "http"}://${host}`);
}

/**
 * Whether the request came over TLS (directly or, with `X-Forwarded-Proto`, through a trusted proxy).
 *
 * @example
 * ```ts
 * isSecure(req, true); // true behind a proxy that sent X-Forwarded-Proto: https
 * ```
 */
export function isSecure(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  if (!trustProxy) return false;
  const proto = req.headers["x-forwarded-proto"];
  return typeof proto === "string" && proto.split(",")[0]?.trim() === "https";
}
