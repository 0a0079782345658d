import type { AuditKind, DeliveryStatus, RevocationReason } from "../../protocol/index.js";

export type { AuditKind, DeliveryStatus } from "../../protocol/index.js";

/** The device a session was opened from (server side; times are not involved). */
export interface DeviceInfo {
  name: string | null;
  browser: string | null;
  os: string | null;
  ip: string | null;
}

/** Who ended a replaced session. */
export interface EndedBy {
  sessionId: string;
  device: DeviceInfo;
  /** Epoch milliseconds of the login that took over. */
  at: number;
}

/** How a session ended. */
export interface SessionEnd {
  /** Epoch milliseconds. */
  at: number;
  reason: RevocationReason;
  /** For `replaced`: the session that took over. */
  by: EndedBy | null;
}

/**
 * One session in the registry. A live session has `ended === null`; an ended one is kept
 * (a tombstone) at least until its token expires, so a device that comes back learns why.
 * All times are epoch milliseconds.
 */
export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: number;
  /** Last recorded activity (written at most once per touch interval). */
  lastSeenAt: number;
  /** Absolute end of the session and expiry of its token. */
  expiresAt: number;
  device: DeviceInfo;
  /** Last time a node confirmed a live socket for this session, or when its last socket closed. */
  presenceAt: number | null;
  ended: SessionEnd | null;
}

/**
 * A policy's verdict on a new login, given the user's live sessions.
 * `admit` lists the sessions to end as `replaced`; `refuse` names the session that blocks it.
 */
export type ClaimDecision =
  | { readonly kind: "admit"; readonly evict: readonly string[] }
  | { readonly kind: "refuse"; readonly active: SessionRecord };

/** A pure decision function, run inside the store's atomic section. */
export type Decide = (live: readonly SessionRecord[]) => ClaimDecision;

/** The outcome of {@link SessionStore.claim}. */
export type ClaimResult =
  | { readonly kind: "admitted"; readonly session: SessionRecord; readonly evicted: readonly SessionRecord[] }
  | { readonly kind: "refused"; readonly active: SessionRecord };

/** Filter and page for listing live sessions. */
export interface ListLiveQuery {
  userId?: string;
  /** Opaque cursor: the `next` of the previous page (see `liveCursor`). */
  cursor?: string;
  /** Page size, 1 to 500. @default 50 */
  limit?: number;
}

/** A page of live sessions. */
export interface LivePage {
  sessions: SessionRecord[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next: string | null;
}

/** One line of the audit trail. */
export interface AuditEvent {
  /** Assigned by the store; increasing in the store's own order (compare with care across stores). */
  id: string;
  kind: AuditKind;
  /** Epoch milliseconds. */
  at: number;
  userId: string;
  sessionId: string | null;
  device: DeviceInfo | null;
  /** Which server node recorded the event. */
  node: string;
  /** For a kick: the session that took over, or who ended it. */
  by: { sessionId: string | null; userId: string | null; device: DeviceInfo | null } | null;
  /** For an ended session: the state of the `session:revoked` notice. */
  delivery: DeliveryStatus | null;
  /** Free-form detail, e.g. the refusing policy. */
  detail: string | null;
}

/** An audit event before the store assigns its id. */
export type NewAuditEvent = Omit<AuditEvent, "id">;

/** Filter for {@link SessionStore.queryAudit}. */
export interface AuditQuery {
  userId?: string;
  sessionId?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  /**
   * Opaque cursor: return the events older than the one it was made from (newest-first
   * paging). Made by `auditCursor(lastEventOfThePreviousPage)`; the admin API answers it as `next`.
   */
  before?: string;
  /** Page size, 1 to 500. @default 100 */
  limit?: number;
}

/** Where an {@link OutboxEvent} stands: due or waiting for a retry, or given up on. */
export type OutboxState = "pending" | "dead";

/**
 * An ended session waiting to be told to one receiver (a service registered in the server's
 * `receivers` option). The store writes one per receiver in the same atomic step that ends
 * the session, and deletes it once delivered.
 */
export interface OutboxEvent {
  /** Assigned by the store; increasing in the order the ends committed. */
  id: string;
  /** The receiver's id (its `id` option, else its URL). */
  receiver: string;
  sessionId: string;
  userId: string;
  end: SessionEnd;
  /** Failed attempts so far. */
  attempts: number;
  /** Epoch milliseconds before which it is not tried (again). */
  nextAt: number;
  state: OutboxState;
  /** What the last attempt got: an HTTP status (`"http_503"`) or a failure (`"timeout"`, `"network"`). */
  lastError: string | null;
}

/** What an attempt at delivering an {@link OutboxEvent} came to, when it did not deliver. */
export interface DeliveryFailure {
  /** Epoch milliseconds of the next attempt (ignored when `dead`). */
  nextAt: number;
  /** Give up: the event is dead-lettered (kept and listed until retried or purged). */
  dead: boolean;
  /** As {@link OutboxEvent.lastError}. */
  error: string;
}

/** Filter of {@link EventOutbox.list}. */
export interface OutboxQuery {
  state?: OutboxState;
  receiver?: string;
  /** 1 to 500. @default 100 */
  limit?: number;
}

/**
 * The store's outbox of session events for other services: at-least-once delivery that
 * survives restarts. Each receiver's events are handed out one at a time, oldest first, under
 * a lease (so several nodes share the work without sending one event twice at once, and a
 * killed node's lease runs out and another node takes over).
 */
export interface EventOutbox {
  /** The receivers the store writes events for with every end (fixed when the store opens). */
  readonly receivers: readonly string[];
  /**
   * For each receiver: its oldest pending event, leased to `owner` until `until`, if it is due
   * (`nextAt <= now`) and no other owner holds an unexpired lease on it. A receiver whose
   * oldest event is not due yields nothing, so its events stay in order.
   */
  lease(owner: string, now: number, until: number): Promise<OutboxEvent[]>;
  /** The event was delivered: it is deleted. False if `owner` no longer held its lease. */
  delivered(id: string, owner: string): Promise<boolean>;
  /** An attempt failed: counts it and schedules the next, or dead-letters it. False if the lease was lost. */
  failed(id: string, owner: string, failure: DeliveryFailure): Promise<boolean>;
  /** Pending and dead events, oldest first. */
  list(query: OutboxQuery): Promise<OutboxEvent[]>;
  /** Puts a dead event back in line (no attempts, due at `now`). False if it is not dead. */
  retry(id: string, now: number): Promise<boolean>;
  /** How many events are pending (all receivers). */
  depth(): Promise<number>;
}

/**
 * The session registry. The store is the source of truth: every request and every socket
 * handshake is checked against it. Implementations: memory (tests, `SOLO_STORE=memory`),
 * SQLite (the embedded default) and Redis (several nodes); an app may bring its own, and
 * check it with the contract suite (`runStoreContract` from `solo-session/server/testing`).
 *
 * Every method that changes a session is atomic with respect to the others for that user.
 * A method that cannot reach its backend right now rejects with
 * `SoloError("store_unavailable")` (answered as 503), and so does every method after
 * `close()`. The audit trail keeps at most `auditMaxLength` events (100,000 by default), the
 * oldest going first.
 */
export interface SessionStore {
  /**
   * The central operation: "this user now has this new session". Reads the user's live
   * sessions, runs `decide` on them and applies the verdict, all atomically: either the
   * new session is stored and the evicted ones are ended as `replaced` by it, or nothing
   * changes and the blocking session is returned.
   *
   * A claim that ends sessions as `replaced` also deletes the user's `replaced` tombstones
   * beyond the newest {@link REPLACED_TOMBSTONES_PER_USER} (by `ended.at`), so that one
   * account signing in over and over cannot make the store keep unbounded rows. (This
   * bookkeeping may complete just after the claim resolves.)
   */
  claim(session: SessionRecord, decide: Decide): Promise<ClaimResult>;
  /** A session, live or ended; null if unknown or purged. */
  get(id: string): Promise<SessionRecord | null>;
  /**
   * The user's live sessions, oldest first: the set a claim decides on. The server does not
   * call it (a claim reads that set inside its own atomic section); the contract suite and
   * tests read it to check what a claim left behind.
   */
  listLive(userId: string): Promise<SessionRecord[]>;
  /** Live sessions of all users (or one), newest first (ties by id), paginated. A malformed cursor is `invalid_request`. */
  listAllLive(query: ListLiveQuery): Promise<LivePage>;
  /** Ends a live session. Returns the ended record, or null if it was not live. */
  end(id: string, end: SessionEnd): Promise<SessionRecord | null>;
  /** Ends every live session of a user. Returns the ended records. */
  endAll(userId: string, end: SessionEnd): Promise<SessionRecord[]>;
  /** Records activity. Never moves `lastSeenAt` backwards; no-op on an ended session. */
  touch(id: string, at: number): Promise<void>;
  /** Records that these sessions have a live socket (or just lost it) at `at`. */
  markPresence(ids: readonly string[], at: number): Promise<void>;
  /** Live sessions whose `lastSeenAt` is at or before `idleBefore`, or whose `expiresAt` is at or before `now`. */
  findStale(now: number, idleBefore: number, limit: number): Promise<SessionRecord[]>;
  /**
   * Forgets what no one needs any more: ended sessions whose `expiresAt` is before
   * `sessionsBefore` (their tokens are long expired), single-use markers ({@link useOnce})
   * whose `until` is before `sessionsBefore`, and audit events older than `auditBefore`.
   * Returns how many sessions were deleted.
   */
  purge(sessionsBefore: number, auditBefore: number): Promise<number>;
  /**
   * A single-use marker: resolves true the first time `key` is used, false every later time
   * while its marker stands, atomically (of any number of concurrent calls for one key, on any
   * number of nodes, exactly one resolves true). The marker stands at least until `until`
   * (epoch ms); after that it may be forgotten (by {@link purge}, or by the backend's own
   * expiry), and the key counts as unused again. Keys are opaque strings of up to 512
   * characters. The server uses it to spend a dispute capability once.
   */
  useOnce(key: string, until: number): Promise<boolean>;
  /** Number of live sessions. */
  countLive(): Promise<number>;

  /** Appends an audit event; returns its id. Beyond `auditMaxLength` events, the oldest are dropped. */
  appendAudit(event: NewAuditEvent): Promise<string>;
  /**
   * Moves the delivery status of the audit event that ended this session forward
   * (pending → delivered → acknowledged); never backwards.
   */
  updateDelivery(sessionId: string, status: DeliveryStatus): Promise<void>;
  /** Audit events, newest first, filtered and paged. A malformed `before` is `invalid_request`. */
  queryAudit(query: AuditQuery): Promise<AuditEvent[]>;

  /**
   * Resolves once the store can serve (connected, its schema in place); rejects when it cannot
   * within its own timeout. Optional: a store without it is ready at once. `createSoloServer`'s
   * `ready` waits for it, and no session is opened or checked before.
   */
  ready?(): Promise<unknown>;
  /** Resolves when the store is reachable; rejects otherwise. */
  ping(): Promise<void>;
  /** Releases the backend. Idempotent; every other method rejects with `store_unavailable` after it. */
  close(): Promise<void>;
  /**
   * The outbox of session events for other services, on a store opened with receivers
   * (memory and SQLite today). A server configured with receivers refuses a store without it.
   */
  readonly outbox?: EventOutbox;
}

/**
 * The most `replaced` tombstones a store keeps per user: a claim deletes older ones. A device
 * whose tombstone went this way learns `invalid_token` instead of `session_replaced`; it takes
 * 50 later sign-ins of the same account within the tombstone's lifetime.
 */
export const REPLACED_TOMBSTONES_PER_USER = 50;
