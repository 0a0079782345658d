/**
 * Operations: the admin API (`/auth/admin`) and its live feed (namespace `/admin`).
 *
 * @module
 */

import type { AuditActor, AuditKind, DeliveryStatus, DeviceView, RevocationReason, SessionView } from "./sessions.js";

/** One audit event as the admin API shows it. Times are ISO 8601 strings. */
export interface AuditEventView {
  /** Increasing; identifies the event. To page back, pass the page's `next` as `before`. */
  id: string;
  kind: AuditKind;
  at: string;
  userId: string;
  /** The session concerned; null for `login_refused` (no session was opened). */
  sessionId: string | null;
  device: DeviceView | null;
  /** The server node that recorded the event. */
  node: string;
  /** Who else the event names (see {@link AuditActor}). */
  by: AuditActor | null;
  /** For an event that ended a session: where its `session:revoked` notice stands. */
  delivery: DeliveryStatus | null;
  /** E.g. the refusing policy of a `login_refused`. */
  detail: string | null;
}

/** `GET /auth/admin/sessions` 200 body: live sessions, newest first. */
export interface AdminSessionsResponse {
  sessions: SessionView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next: string | null;
}

/** `DELETE /auth/admin/users/:userId/sessions` 200 body. */
export interface AdminEndResponse {
  /** How many live sessions were ended. */
  ended: number;
}

/** A session event waiting for (or given up on by) a receiver, as the admin API shows it. */
export interface OutboxEventView {
  id: string;
  receiver: string;
  sessionId: string;
  userId: string;
  reason: RevocationReason;
  /** ISO 8601: when the session ended. */
  endedAt: string;
  /** Failed attempts so far. */
  attempts: number;
  /** ISO 8601: the next attempt (pending). */
  nextAt: string;
  state: "pending" | "dead";
  /** What the last attempt got (`http_503`, `timeout`, `network`), null before any failure. */
  lastError: string | null;
}

/** `GET /auth/admin/events` 200 body: the outbox, oldest first. */
export interface AdminEventsResponse {
  events: OutboxEventView[];
}

/** `GET /auth/admin/audit` 200 body: events, newest first. */
export interface AdminAuditResponse {
  events: AuditEventView[];
  /** Pass as `before` for the next (older) page; null when this page was the last. */
  next: string | null;
}

/** The Socket.IO namespace of the admin feed (admins only). */
export const ADMIN_NAMESPACE = "/admin";

/** Event names of the admin feed. */
export const ADMIN_EVENTS = {
  /** Server → admin: an audit event was recorded (a login, a refusal, a session that ended). */
  audit: "admin:audit",
  /** Server → admin: the notice of an ended session moved forward. */
  delivery: "admin:delivery",
} as const;

/** The payload of `admin:delivery`. Apply it to the ending event of `sessionId`, never backwards. */
export interface DeliveryUpdate {
  sessionId: string;
  status: DeliveryStatus;
}

/** Events the server sends on the admin feed. */
export interface AdminServerToClientEvents {
  "admin:audit": (event: AuditEventView) => void;
  "admin:delivery": (update: DeliveryUpdate) => void;
}

/** The admin feed takes no events from clients. */
export type AdminClientToServerEvents = Record<never, never>;
