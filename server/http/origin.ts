import type { IncomingMessage } from "node:http";

/**
 * The Origin check shared by the Socket.IO handshake and the HTTP CSRF defence.
 *
 * A request without an `Origin` header comes from a non-browser client (browsers always
 * send it on WebSocket handshakes and cross-origin or state-changing requests) and is
 * allowed. `Origin: null` (sandboxed frames, `file:`, some redirects) is refused. Otherwise
 * the origin must be the server's own (scheme and `Host` of the request) or in the allowlist.
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[], secure: boolean): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (typeof origin !== "string" || origin === "null") return false;
  if (allowed.includes(origin)) return true;
  const host = req.headers.host;
  if (!host) return false;
  return origin === `${secure ? "https" : "http"}://${host}`;
}

/** Whether the request came over TLS (directly or, with `X-Forwarded-Proto`, through a trusted proxy). */
export function isSecure(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  if (!trustProxy) return false;
  const proto = req.headers["x-forwarded-proto"];
  return typeof proto === "string" && proto.split(",")[0]?.trim() === "https";
}
