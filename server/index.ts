/**
 * solo-session, server side (`solo-session/server`): one live session per user, enforced
 * instantly. What is exported here is the public API; everything else is internal.
 *
 * @example
 * ```ts
 * const solo = await createSoloServer({ authenticate: async ({ username, password }) => check(username, password) });
 * app.use("/auth", solo.router);
 * app.use("/api", solo.requireSession());
 * solo.attach(httpServer);
 * ```
 * @module
 */

export type {
  AdminAuditResponse,
  AdminEndResponse,
  AdminEventsResponse,
  AdminSessionsResponse,
  AuditEventView,
  AuditKind,
  ClientToServerEvents,
  ConnectErrorData,
  DeliveryStatus,
  DeliveryUpdate,
  DeviceView,
  ErrorBody,
  ErrorCode,
  IntrospectionResponse,
  LoginBody,
  LoginResponse,
  LogoutTokenClaims,
  OptionalSessionResponse,
  OutboxEventView,
  ReceiverFormat,
  ReplacedBy,
  RevocationNotice,
  RevocationReason,
  ServerToClientEvents,
  SessionEvent,
  SessionResponse,
  SessionRevokedClaims,
  SessionView,
  Transport,
} from "../protocol/index.js";
export { BACKCHANNEL_LOGOUT_EVENT, EVENT_TOKEN_TYPE, SESSION_REVOKED_EVENT } from "../protocol/index.js";
export { SoloError, type SoloErrorDetails } from "./errors/solo-error.js";
export type { DeliveryOptions, ReceiverOption } from "./events/receivers.js";
export {
  SessionEventError,
  type SessionEventErrorCode,
  type VerifySessionEventOptions,
  verifySessionEvent,
} from "./events/verify.js";
export type { CorsOptions } from "./http/cors.js";
export type { RequireSessionOptions, SoloRequestContext } from "./http/require-session.js";
export { logId, REDACT_PATHS } from "./observability/logger.js";
export { parseDuration } from "./options/parse-duration.js";
export type {
  Authenticate,
  CookieOptions,
  DisputeEvent,
  DisputeOptions,
  OnDispute,
  PostgresOptions,
  PostgresPoolOptions,
  RedisOptions,
  SoloServerOptions,
} from "./options/types.js";
export type { LoginKey, RateLimit, RateLimitOptions } from "./ratelimit/limits.js";
export { RATE_LIMIT_DEFAULTS } from "./ratelimit/limits.js";
export type { SoloIo } from "./realtime/types.js";
export type { DisputeEnds } from "./sessions/disputes.js";
export type { PolicyOption, PolicySpec } from "./sessions/policy.js";
export type { AuthenticatedUser, Credentials } from "./sessions/user.js";
export { createSoloServer, type SoloServer } from "./solo-server.js";
export { STORE_DEFAULTS } from "./store/defaults.js";
export { MemoryStore, type MemoryStoreOptions } from "./store/memory/store.js";
export { PostgresStore, type PostgresStoreOptions } from "./store/postgres/store.js";
export type {
  RedisClient,
  RedisConnectionOptions,
  RedisConnections,
  RedisNode,
  ReplicasOption,
} from "./store/redis/connection.js";
export { RedisStore, type RedisStoreOptions } from "./store/redis/store.js";
export { auditBefore, auditCursor, liveAfter, liveCursor } from "./store/shared/paging.js";
export { applyDecision } from "./store/shared/sessions.js";
export { SqliteStore, type SqliteStoreOptions } from "./store/sqlite/store.js";
export type {
  AuditEvent,
  AuditQuery,
  ClaimDecision,
  ClaimResult,
  Decide,
  DeliveryFailure,
  DeviceInfo,
  EndedBy,
  EventOutbox,
  ListLiveQuery,
  LivePage,
  NewAuditEvent,
  OutboxEvent,
  OutboxQuery,
  OutboxState,
  SessionEnd,
  SessionRecord,
  SessionStore,
} from "./store/types.js";
export { REPLACED_TOMBSTONES_PER_USER } from "./store/types.js";
export type { RotateOptions, Rotation } from "./tokens/key-file.js";
export { rotateKeyFile } from "./tokens/key-file.js";
export type { PrivateJwk, PrivateJwks, PublicJwk } from "./tokens/key-ring.js";
