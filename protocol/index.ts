/**
 * The wire contract of solo-session (`solo-session/protocol`), shared by the server and the
 * browser SDK.
 *
 * Everything that crosses the network is defined here once: the error codes and their HTTP
 * statuses, the JSON bodies of the `/auth` routes, the Socket.IO namespaces, their event
 * names and payloads, and the lists (reasons, audit kinds, delivery states) that the stores'
 * SQL and Lua are built from. It imports nothing, so the SDK bundles it without any server
 * code.
 *
 * @module
 */

export type {
  AdminAuditResponse,
  AdminClientToServerEvents,
  AdminEndResponse,
  AdminEventsResponse,
  AdminServerToClientEvents,
  AdminSessionsResponse,
  AuditEventView,
  DeliveryUpdate,
  OutboxEventView,
} from "./admin.js";
export { ADMIN_EVENTS, ADMIN_NAMESPACE } from "./admin.js";
export type {
  ClientToServerEvents,
  ConnectErrorData,
  RevocationNotice,
  ServerToClientEvents,
  Transport,
} from "./channel.js";
export { EVENTS, SESSION_NAMESPACE } from "./channel.js";
export type { ErrorBody, ErrorCode, SessionEndedCode } from "./errors.js";
export { ENDED_CODE, ENDED_REASON, ERROR_CODES, ERROR_STATUS, isErrorCode, isSessionEndedCode } from "./errors.js";
export type {
  LogoutTokenClaims,
  OpaqueId,
  ReceiverFormat,
  SessionEvent,
  SessionRevokedClaims,
} from "./events.js";
export {
  BACKCHANNEL_LOGOUT_EVENT,
  EVENT_TOKEN_TYPE,
  INITIATING_ENTITY,
  LOGOUT_TOKEN_LIFETIME,
  REASON_ADMIN,
  RECEIVER_FORMATS,
  SESSION_REVOKED_EVENT,
} from "./events.js";
export type {
  DisputeBody,
  DisputeResponse,
  IntrospectionResponse,
  LoginBody,
  LoginResponse,
  LogoutScope,
  OptionalSessionResponse,
  OwnSessionsResponse,
  OwnSessionView,
  SessionResponse,
} from "./http.js";
export type {
  AuditActor,
  AuditKind,
  DeliveryStatus,
  DeviceView,
  ReplacedBy,
  RevocationReason,
  SessionView,
} from "./sessions.js";
export {
  AUDIT_KINDS,
  DELIVERY_RANK,
  DELIVERY_STATUSES,
  ENDING_KINDS,
  isEndingKind,
  REVOCATION_REASONS,
} from "./sessions.js";
