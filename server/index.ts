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
  OptionalSessionResponse,
  ReplacedBy,
  RevocationNotice,
  RevocationReason,
  ServerToClientEvents,
  SessionResponse,
  SessionView,
  Transport,
} from "../protocol/index.js";
export { SoloError, type SoloErrorDetails } from "./errors/solo-error.js";
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
  DeviceInfo,
  EndedBy,
  ListLiveQuery,
  LivePage,
  NewAuditEvent,
  SessionEnd,
  SessionRecord,
  SessionStore,
} from "./store/types.js";
export { REPLACED_TOMBSTONES_PER_USER } from "./store/types.js";
export type { RotateOptions, Rotation } from "./tokens/key-file.js";
export { rotateKeyFile } from "./tokens/key-file.js";
export type { PrivateJwk, PrivateJwks, PublicJwk } from "./tokens/key-ring.js";
