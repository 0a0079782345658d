import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/**
 * The address a request came from: the socket's peer, or with `trustProxy` the last entry of
 * `X-Forwarded-For` (the address the trusted proxy saw; entries before it are the client's word).
 *
 * @example
 * ```ts
 * clientAddress(req, true); // "203.0.113.7" behind a proxy that appended it
 * ```
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers["x-forwarded-for"];
    const value = Array.isArray(forwarded) ? forwarded[forwarded.length - 1] : forwarded;
    const last = value?.split(",").pop()?.trim();
    if (last && isIP(last)) return last;
  }
  return req.socket.remoteAddress ?? "unknown";
}
