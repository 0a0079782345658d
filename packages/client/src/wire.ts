/**
 * The wire types as the SDK exports them: aliases of the protocol's (`solo-session/protocol`),
 * never copies, so that an app needs only `@solo-session/client`.
 *
 * @module
 */

import type * as Protocol from "solo-session/protocol";

/**
 * A session as the server shows it: id, user, times (ISO 8601) and the device.
 *
 * @example
 * ```ts
 * const { userId, createdAt, device }: SessionView = solo.session!;
 * ```
 */
export type SessionView = Protocol.SessionView;

/**
 * The device a session was opened from (parsed from its User-Agent; null when unknown).
 *
 * @example
 * ```ts
 * const d: DeviceView = session.device; // { name: null, browser: "Firefox 132", os: "Windows 10", ip: "203.0.113.7" }
 * ```
 */
export type DeviceView = Protocol.DeviceView;

/**
 * Who took over a replaced session, and when.
 *
 * @example
 * ```ts
 * const by: ReplacedBy | undefined = revocation.by; // for reason "replaced"
 * ```
 */
export type ReplacedBy = Protocol.ReplacedBy;

/**
 * Why a session ended.
 *
 * @example
 * ```ts
 * const why: RevocationReason = revocation.reason; // "replaced" | "logout" | "revoked" | "expired" | "idle"
 * ```
 */
export type RevocationReason = Protocol.RevocationReason;

/**
 * The codes of an ended session (a 401 with one of them is a revocation).
 *
 * @example
 * ```ts
 * const ended: SessionEndedCode[] = ["session_replaced", "session_revoked", "session_expired", "session_idle"];
 * ```
 */
export type SessionEndedCode = Protocol.SessionEndedCode;

/**
 * Every error code of the server (one closed union).
 *
 * @example
 * ```ts
 * if (error instanceof SoloClientError && error.code === ("rate_limited" satisfies ErrorCode)) wait();
 * ```
 */
export type ErrorCode = Protocol.ErrorCode;

/**
 * The JSON body of the server's error answers.
 *
 * @example
 * ```ts
 * const body: ErrorBody | null = error.body; // { error: "session_active", message, active, takeover }
 * ```
 */
export type ErrorBody = Protocol.ErrorBody;

/**
 * The `session:revoked` notice pushed on the session channel.
 *
 * @example
 * ```ts
 * const notice: RevocationNotice = { reason: "replaced", sessionId, at, by: { device, at } };
 * ```
 */
export type RevocationNotice = Protocol.RevocationNotice;

/**
 * What a refused Socket.IO handshake carries (`err.data`).
 *
 * @example
 * ```ts
 * const refused: ConnectErrorData = { code: "session_replaced", message: "...", reason: "replaced" };
 * ```
 */
export type ConnectErrorData = Protocol.ConnectErrorData;

/**
 * One of the user's own sessions, as `solo.sessions()` lists it: a {@link SessionView} and
 * `current` (this device).
 *
 * @example
 * ```ts
 * const here: OwnSessionView | undefined = (await solo.sessions()).find((s) => s.current);
 * ```
 */
export type OwnSessionView = Protocol.OwnSessionView;

/**
 * The server's answer to a dispute (`POST /auth/dispute`): the disputed sign-in and what was ended.
 *
 * @example
 * ```ts
 * const { disputed, ended }: DisputeResponse = await solo.dispute();
 * ```
 */
export type DisputeResponse = Protocol.DisputeResponse;
