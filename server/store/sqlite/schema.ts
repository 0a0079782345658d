/**
 * The SQLite schema, and the mapping between its rows and the store's records.
 *
 * @module
 */

import type { RevocationReason } from "../../../protocol/index.js";
import type {
  AuditEvent,
  AuditKind,
  DeliveryStatus,
  DeviceInfo,
  EndedBy,
  NewAuditEvent,
  SessionRecord,
} from "../types.js";

/**
 * Three tables: `sessions` (live and ended, with partial indexes on the live ones for the
 * claim, the listing and the sweep), `audit` (append-only, ids increasing) and `outbox` (the
 * session events waiting for other services; see `outbox.ts`).
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  device_name   TEXT,
  browser       TEXT,
  os            TEXT,
  ip            TEXT,
  presence_at   INTEGER,
  ended_at      INTEGER,
  end_reason    TEXT,
  ended_by      TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS sessions_live_user ON sessions (user_id, created_at) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS sessions_live_created ON sessions (created_at, id) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS sessions_live_seen ON sessions (last_seen_at) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS sessions_live_expiry ON sessions (expires_at) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS sessions_ended_expiry ON sessions (expires_at) WHERE ended_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_replaced_user ON sessions (user_id, ended_at, created_at) WHERE end_reason = 'replaced';
CREATE TABLE IF NOT EXISTS audit (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  kind        TEXT NOT NULL,
  at          INTEGER NOT NULL,
  user_id     TEXT NOT NULL,
  session_id  TEXT,
  device      TEXT,
  node        TEXT NOT NULL,
  by_json     TEXT,
  delivery    TEXT,
  detail      TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS audit_user ON audit (user_id, id);
CREATE INDEX IF NOT EXISTS audit_session ON audit (session_id, id);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TABLE IF NOT EXISTS outbox (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  receiver     TEXT NOT NULL,
  session_id   TEXT NOT NULL,
  user_id      TEXT NOT NULL,
  ended_at     INTEGER NOT NULL,
  end_reason   TEXT NOT NULL,
  ended_by     TEXT,
  attempts     INTEGER NOT NULL DEFAULT 0,
  next_at      INTEGER NOT NULL,
  state        TEXT NOT NULL DEFAULT 'pending',
  lease_owner  TEXT,
  lease_until  INTEGER,
  last_error   TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS outbox_line ON outbox (receiver, state, id);
`;

/** A row of `sessions`. */
export interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  device_name: string | null;
  browser: string | null;
  os: string | null;
  ip: string | null;
  presence_at: number | null;
  ended_at: number | null;
  end_reason: string | null;
  ended_by: string | null;
}

/** A row of `audit`. */
export interface AuditRow {
  id: number;
  kind: string;
  at: number;
  user_id: string;
  session_id: string | null;
  device: string | null;
  node: string;
  by_json: string | null;
  delivery: string | null;
  detail: string | null;
}

/** The `audit` column of each audit event field a query filters on. */
export const AUDIT_COLUMN = { userId: "user_id", sessionId: "session_id", at: "at" } as const;

/** The columns a new session is inserted with (it is live: no end columns). */
export function toRow(s: SessionRecord) {
  return {
    id: s.id,
    user_id: s.userId,
    created_at: s.createdAt,
    last_seen_at: s.lastSeenAt,
    expires_at: s.expiresAt,
    device_name: s.device.name,
    browser: s.device.browser,
    os: s.device.os,
    ip: s.device.ip,
    presence_at: s.presenceAt,
  };
}

/** A session row as a record. */
export function fromRow(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    userId: r.user_id,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
    device: { name: r.device_name, browser: r.browser, os: r.os, ip: r.ip },
    presenceAt: r.presence_at,
    ended:
      r.ended_at === null
        ? null
        : {
            at: r.ended_at,
            reason: r.end_reason as RevocationReason,
            by: r.ended_by ? (JSON.parse(r.ended_by) as EndedBy) : null,
          },
  };
}

/** The columns an audit event is inserted with (the id is the table's). */
export function toAuditRow(event: NewAuditEvent): Omit<AuditRow, "id"> {
  return {
    kind: event.kind,
    at: event.at,
    user_id: event.userId,
    session_id: event.sessionId,
    device: event.device ? JSON.stringify(event.device) : null,
    node: event.node,
    by_json: event.by ? JSON.stringify(event.by) : null,
    delivery: event.delivery,
    detail: event.detail,
  };
}

/** An audit row as an event. */
export function fromAuditRow(r: AuditRow): AuditEvent {
  return {
    id: String(r.id),
    kind: r.kind as AuditKind,
    at: r.at,
    userId: r.user_id,
    sessionId: r.session_id,
    device: r.device ? (JSON.parse(r.device) as DeviceInfo) : null,
    node: r.node,
    by: r.by_json ? (JSON.parse(r.by_json) as AuditEvent["by"]) : null,
    delivery: r.delivery as DeliveryStatus | null,
    detail: r.detail,
  };
}
