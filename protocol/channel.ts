/**
 * The session channel: Socket.IO namespace `/session`, its events and payloads.
 *
 * @module
 */

import type { ErrorCode } from "./errors.js";
import type { ReplacedBy, RevocationReason } from "./sessions.js";

/** The Socket.IO namespace of the session channel. */
export const SESSION_NAMESPACE = "/session";

/**
 * An Engine.IO transport. The server accepts only WebSocket by default, and the SDK uses
 * only WebSocket by default; `"polling"` (long-polling, never JSONP) is opt-in on both sides.
 */
export type Transport = "websocket" | "polling";

/** Event names, defined once. */
export const EVENTS = {
  /** Server → client: this session has ended. Acknowledge it; the server then disconnects. */
  revoked: "session:revoked",
  /** Client → server: the person interacted with the page (rate-limited by the client and the server). */
  activity: "session:activity",
} as const;

/** The payload of `session:revoked`. */
export interface RevocationNotice {
  reason: RevocationReason;
  sessionId: string;
  /** When the session ended (ISO 8601). */
  at: string;
  /** For `replaced`: the device that took over. */
  by?: ReplacedBy;
  /**
   * For `replaced`, while the dispute window is open: the single-use capability for
   * `POST /auth/dispute` ("This wasn't me"; see `DisputeBody`). Absent for every other reason.
   */
  dispute?: string;
}

/** Events the server sends to the SDK. */
export interface ServerToClientEvents {
  "session:revoked": (notice: RevocationNotice, ack: () => void) => void;
}

/** Events the SDK sends to the server. */
export interface ClientToServerEvents {
  "session:activity": () => void;
}

/** `err.data` of a refused handshake (`connect_error`). `err.message` is `code`. */
export interface ConnectErrorData {
  code: ErrorCode;
  message: string;
  reason?: RevocationReason;
  by?: ReplacedBy;
  /** For `session_replaced`, while the dispute window is open: see {@link RevocationNotice.dispute}. */
  dispute?: string;
}
