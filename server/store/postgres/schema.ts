/**
 * The PostgreSQL store's schema: the names of its tables, indexes and notification channel in
 * a configurable schema with a table prefix, the versioned migrations that create them, and the
 * mapping between rows and records.
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
  SessionEnd,
  SessionRecord,
} from "../types.js";

/** A schema name: lowercase letters, digits and `_`, starting with a letter or `_`. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;
/** A table prefix: lowercase letters, digits and `_` (may be empty). */
export const TABLE_PREFIX = /^([a-z_][a-z0-9_]{0,19})?$/;
/**
 * The longest schema plus prefix: the Socket.IO adapter's channels (`<schema>.<prefix>io#/session`)
 * must fit PostgreSQL's 63-byte identifiers.
 */
export const MAX_QUALIFIED = 40;

/**
 * Checks a schema and table prefix; returns a message naming what is wrong, or null.
 *
 * @example
 * ```ts
 * const problem = namingProblem("app", "solo_"); // null
 * ```
 */
export function namingProblem(schema: unknown, prefix: unknown): string | null {
  if (typeof schema !== "string" || !SCHEMA_NAME.test(schema)) {
    return "schema must be 1-40 lowercase letters, digits or _, starting with a letter or _";
  }
  if (typeof prefix !== "string" || !TABLE_PREFIX.test(prefix)) {
    return "tablePrefix must be up to 20 lowercase letters, digits or _, starting with a letter or _";
  }
  if (schema.length + prefix.length > MAX_QUALIFIED) {
    return `schema and tablePrefix together must be at most ${MAX_QUALIFIED} characters`;
  }
  return null;
}

/** Double-quotes an identifier already checked by {@link namingProblem}. */
function ident(name: string): string {
  return `"${name}"`;
}

/**
 * Where the store's objects live: `<schema>.<prefix>sessions`, `<prefix>audit`, `<prefix>ends`,
 * `<prefix>io_attachments` (the Socket.IO adapter's large payloads), `<prefix>once` (single-use
 * markers) and `<prefix>migrations`,
 * and the notification channel `<schema>.<prefix>ends`.
 */
export class PgNames {
  readonly schema: string;
  readonly prefix: string;

  constructor(schema: string, prefix: string) {
    const problem = namingProblem(schema, prefix);
    if (problem) throw new TypeError(`PostgresStore: ${problem}`);
    this.schema = schema;
    this.prefix = prefix;
  }

  /** A table, schema-qualified and quoted. */
  table(name: "sessions" | "audit" | "ends" | "io_attachments" | "migrations" | "once"): string {
    return `${ident(this.schema)}.${ident(this.prefix + name)}`;
  }

  /** An index name (indexes live in their table's schema). */
  index(name: string): string {
    return ident(`${this.prefix}${name}`);
  }

  /** The schema, quoted. */
  get quotedSchema(): string {
    return ident(this.schema);
  }

  /** The channel every end is announced on (`NOTIFY`), and every node listens to. */
  get endsChannel(): string {
    return `${this.schema}.${this.prefix}ends`;
  }

  /** Prefix of the Socket.IO PostgreSQL adapter's channels (`<prefix>#<namespace>`). */
  get adapterChannelPrefix(): string {
    return `${this.schema}.${this.prefix}io`;
  }

  /** What the advisory locks of this store are keyed on, besides the user (so two stores in one database never share a lock). */
  get lockScope(): string {
    return `solo-session:${this.schema}.${this.prefix}`;
  }
}

/** One step of the schema's history: applied once, in order, never changed once released. */
export interface Migration {
  version: number;
  name: string;
  /** The statements, run in one transaction. */
  sql(names: PgNames): string;
}

/**
 * The migrations, oldest first. A released migration is never edited: a change is a new one
 * with the next version. They only add (tables, columns, indexes), so a node of an older
 * release keeps working on a schema a newer one migrated.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "sessions, audit, ends, io_attachments",
    sql: (n) => `
CREATE TABLE ${n.table("sessions")} (
  id            text PRIMARY KEY,
  user_id       text NOT NULL,
  created_at    bigint NOT NULL,
  last_seen_at  bigint NOT NULL,
  expires_at    bigint NOT NULL,
  device_name   text,
  browser       text,
  os            text,
  ip            text,
  presence_at   bigint,
  ended_at      bigint,
  end_reason    text,
  ended_by      jsonb
);
CREATE INDEX ${n.index("sessions_live_user")} ON ${n.table("sessions")} (user_id, created_at, id) WHERE ended_at IS NULL;
CREATE INDEX ${n.index("sessions_live_created")} ON ${n.table("sessions")} (created_at, id) WHERE ended_at IS NULL;
CREATE INDEX ${n.index("sessions_live_seen")} ON ${n.table("sessions")} (last_seen_at) WHERE ended_at IS NULL;
CREATE INDEX ${n.index("sessions_live_expiry")} ON ${n.table("sessions")} (expires_at) WHERE ended_at IS NULL;
CREATE INDEX ${n.index("sessions_ended_expiry")} ON ${n.table("sessions")} (expires_at) WHERE ended_at IS NOT NULL;
CREATE INDEX ${n.index("sessions_replaced_user")} ON ${n.table("sessions")} (user_id, ended_at, created_at) WHERE end_reason = 'replaced';
CREATE TABLE ${n.table("audit")} (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind        text NOT NULL,
  at          bigint NOT NULL,
  user_id     text NOT NULL,
  session_id  text,
  device      jsonb,
  node        text NOT NULL,
  by_json     jsonb,
  delivery    text,
  detail      text
);
CREATE INDEX ${n.index("audit_user")} ON ${n.table("audit")} (user_id, id);
CREATE INDEX ${n.index("audit_session")} ON ${n.table("audit")} (session_id, id);
CREATE INDEX ${n.index("audit_at")} ON ${n.table("audit")} (at);
CREATE TABLE ${n.table("ends")} (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id  text NOT NULL,
  ended       jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ${n.table("io_attachments")} (
  id          bigserial UNIQUE,
  created_at  timestamptz DEFAULT now(),
  payload     bytea
);
`,
  },
  {
    version: 2,
    name: "once (single-use markers)",
    sql: (n) => `
CREATE TABLE ${n.table("once")} (
  key    text PRIMARY KEY,
  until  bigint NOT NULL
);
CREATE INDEX ${n.index("once_until")} ON ${n.table("once")} (until);
`,
  },
];

/** A row of `sessions` as node-postgres returns it (`bigint` columns as strings, `jsonb` parsed). */
export interface SessionRow {
  id: string;
  user_id: string;
  created_at: string | number;
  last_seen_at: string | number;
  expires_at: string | number;
  device_name: string | null;
  browser: string | null;
  os: string | null;
  ip: string | null;
  presence_at: string | number | null;
  ended_at: string | number | null;
  end_reason: string | null;
  ended_by: unknown;
}

/** A row of `audit`. */
export interface AuditRow {
  id: string | number;
  kind: string;
  at: string | number;
  user_id: string;
  session_id: string | null;
  device: unknown;
  node: string;
  by_json: unknown;
  delivery: string | null;
  detail: string | null;
}

/** The `audit` column of each audit event field a query filters on. */
export const AUDIT_COLUMN = { userId: "user_id", sessionId: "session_id", at: "at" } as const;

/** A `jsonb` value as read: parsed by the driver's default type parser, or text if an app replaced it. */
function json<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

/** A nullable `bigint` column as a number. */
function num(value: string | number | null): number | null {
  return value === null ? null : Number(value);
}

/** The parameters a new (live) session is inserted with, in the column order of the insert. */
export function sessionParams(s: SessionRecord): (string | number | null)[] {
  return [
    s.id,
    s.userId,
    s.createdAt,
    s.lastSeenAt,
    s.expiresAt,
    s.device.name,
    s.device.browser,
    s.device.os,
    s.device.ip,
    s.presenceAt,
  ];
}

/** A session row as a record. */
export function fromRow(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    userId: r.user_id,
    createdAt: Number(r.created_at),
    lastSeenAt: Number(r.last_seen_at),
    expiresAt: Number(r.expires_at),
    device: { name: r.device_name, browser: r.browser, os: r.os, ip: r.ip },
    presenceAt: num(r.presence_at),
    ended:
      r.ended_at === null
        ? null
        : { at: Number(r.ended_at), reason: r.end_reason as RevocationReason, by: json<EndedBy>(r.ended_by) },
  };
}

/** The `ended_by` column of an end. */
export function endedByParam(end: SessionEnd): string | null {
  return end.by ? JSON.stringify(end.by) : null;
}

/** An audit event as the row `jsonb_to_recordset` inserts (see the audit queue). */
export function toAuditRow(event: NewAuditEvent): Omit<AuditRow, "id"> {
  return {
    kind: event.kind,
    at: event.at,
    user_id: event.userId,
    session_id: event.sessionId,
    device: event.device,
    node: event.node,
    by_json: event.by,
    delivery: event.delivery,
    detail: event.detail,
  };
}

/** An audit row as an event. */
export function fromAuditRow(r: AuditRow): AuditEvent {
  return {
    id: String(r.id),
    kind: r.kind as AuditKind,
    at: Number(r.at),
    userId: r.user_id,
    sessionId: r.session_id,
    device: json<DeviceInfo>(r.device),
    node: r.node,
    by: json<AuditEvent["by"]>(r.by_json),
    delivery: r.delivery as DeliveryStatus | null,
    detail: r.detail,
  };
}
