/**
 * The in-process store, for unit tests and `SOLO_STORE=memory`.
 *
 * @module
 */

import { STORE_DEFAULTS } from "../defaults.js";
import { storeClosed } from "../shared/errors.js";
import { clampLimit, liveAfter, pageLive } from "../shared/paging.js";
import { applyDecision, isStale } from "../shared/sessions.js";
import {
  type AuditEvent,
  type AuditQuery,
  type ClaimResult,
  type Decide,
  type DeliveryStatus,
  type ListLiveQuery,
  type LivePage,
  type NewAuditEvent,
  REPLACED_TOMBSTONES_PER_USER,
  type SessionEnd,
  type SessionRecord,
  type SessionStore,
} from "../types.js";
import { MemoryAuditLog } from "./audit-log.js";
import { OnceMarkers } from "./once.js";
import { MemoryOutbox } from "./outbox.js";

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Audit events kept (the oldest are dropped first), as on every backend. @default 100_000 */
  auditMaxLength?: number;
  /** The receivers (ids) of session events: with any, {@link MemoryStore.outbox} is there. @default [] */
  receivers?: readonly string[];
}

/**
 * An in-process store. For unit tests and `SOLO_STORE=memory` only: it forgets
 * everything on restart and is not shared between processes.
 *
 * @example
 * ```ts
 * const solo = await createSoloServer({ authenticate, store: new MemoryStore() });
 * ```
 */
export class MemoryStore implements SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #liveByUser = new Map<string, Set<string>>();
  /** Each user's `replaced` tombstones, oldest first, at most {@link REPLACED_TOMBSTONES_PER_USER}. */
  readonly #replacedByUser = new Map<string, string[]>();
  readonly #audit: MemoryAuditLog;
  readonly #outbox: MemoryOutbox | undefined;
  readonly #once = new OnceMarkers();
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.#audit = new MemoryAuditLog(options.auditMaxLength ?? STORE_DEFAULTS.auditMaxLength);
    this.#outbox = options.receivers?.length ? new MemoryOutbox(options.receivers, () => this.#open()) : undefined;
  }

  /** The session events for other services, when the store was opened with receivers. */
  get outbox(): MemoryOutbox | undefined {
    return this.#outbox;
  }

  async claim(session: SessionRecord, decide: Decide): Promise<ClaimResult> {
    this.#open();
    const live = this.#live(session.userId);
    const outcome = applyDecision(session, live, decide);
    if (outcome.kind === "refused") return outcome;
    for (const ended of outcome.evicted) this.#putEnded(ended);
    this.#put(session);
    this.#capReplaced(session.userId, outcome.evicted);
    return outcome;
  }

  async get(id: string): Promise<SessionRecord | null> {
    this.#open();
    return clone(this.#sessions.get(id) ?? null);
  }

  async listLive(userId: string): Promise<SessionRecord[]> {
    this.#open();
    return this.#live(userId).map((s) => clone(s));
  }

  async listAllLive(query: ListLiveQuery): Promise<LivePage> {
    this.#open();
    const limit = clampLimit(query.limit, STORE_DEFAULTS.page.live);
    const after = liveAfter(query.cursor);
    const live: SessionRecord[] = [];
    for (const s of this.#sessions.values()) {
      if (s.ended === null && (query.userId === undefined || s.userId === query.userId)) live.push(s);
    }
    const page = pageLive(live, after, limit);
    return { sessions: page.sessions.map((s) => clone(s)), next: page.next };
  }

  async end(id: string, end: SessionEnd): Promise<SessionRecord | null> {
    this.#open();
    const current = this.#sessions.get(id);
    if (!current || current.ended !== null) return null;
    const ended: SessionRecord = { ...current, ended: end };
    this.#putEnded(ended);
    return clone(ended);
  }

  async endAll(userId: string, end: SessionEnd): Promise<SessionRecord[]> {
    this.#open();
    return this.#live(userId).map((s) => {
      const ended: SessionRecord = { ...s, ended: end };
      this.#putEnded(ended);
      return clone(ended);
    });
  }

  async touch(id: string, at: number): Promise<void> {
    this.#open();
    const current = this.#sessions.get(id);
    if (current && current.ended === null && at > current.lastSeenAt) current.lastSeenAt = at;
  }

  async markPresence(ids: readonly string[], at: number): Promise<void> {
    this.#open();
    for (const id of ids) {
      const current = this.#sessions.get(id);
      if (current && current.ended === null && (current.presenceAt === null || at > current.presenceAt))
        current.presenceAt = at;
    }
  }

  async findStale(now: number, idleBefore: number, limit: number): Promise<SessionRecord[]> {
    this.#open();
    const out: SessionRecord[] = [];
    for (const s of this.#sessions.values()) {
      if (out.length >= limit) break;
      if (s.ended === null && isStale(s, now, idleBefore)) out.push(clone(s));
    }
    return out;
  }

  async purge(sessionsBefore: number, auditBefore: number): Promise<number> {
    this.#open();
    let n = 0;
    for (const [id, s] of this.#sessions) {
      if (s.ended !== null && s.expiresAt < sessionsBefore) {
        this.#sessions.delete(id);
        if (s.ended.reason === "replaced") this.#forgetReplaced(s.userId, id);
        n++;
      }
    }
    this.#once.purge(sessionsBefore);
    this.#audit.purge(auditBefore);
    this.#outbox?.purgeDead(auditBefore);
    return n;
  }

  async useOnce(key: string, until: number): Promise<boolean> {
    this.#open();
    return this.#once.use(key, until);
  }

  async countLive(): Promise<number> {
    this.#open();
    let n = 0;
    for (const set of this.#liveByUser.values()) n += set.size;
    return n;
  }

  async appendAudit(event: NewAuditEvent): Promise<string> {
    this.#open();
    return this.#audit.append(event);
  }

  async updateDelivery(sessionId: string, status: DeliveryStatus): Promise<void> {
    this.#open();
    this.#audit.updateDelivery(sessionId, status);
  }

  async queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    this.#open();
    return this.#audit.query(query);
  }

  async ping(): Promise<void> {
    this.#open();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw storeClosed();
  }

  #live(userId: string): SessionRecord[] {
    const ids = this.#liveByUser.get(userId);
    if (!ids) return [];
    const out: SessionRecord[] = [];
    for (const id of ids) {
      const s = this.#sessions.get(id);
      if (s) out.push(s);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Remembers newly replaced sessions and deletes the user's tombstones beyond the cap. */
  #capReplaced(userId: string, replaced: readonly SessionRecord[]): void {
    if (replaced.length === 0) return;
    let ids = this.#replacedByUser.get(userId);
    if (!ids) {
      ids = [];
      this.#replacedByUser.set(userId, ids);
    }
    ids.push(...replaced.map((s) => s.id));
    for (const id of ids.splice(0, Math.max(0, ids.length - REPLACED_TOMBSTONES_PER_USER))) {
      this.#sessions.delete(id);
    }
  }

  #forgetReplaced(userId: string, id: string): void {
    const ids = this.#replacedByUser.get(userId);
    if (!ids) return;
    const at = ids.indexOf(id);
    if (at !== -1) ids.splice(at, 1);
    if (ids.length === 0) this.#replacedByUser.delete(userId);
  }

  /** Stores a session that has just ended, with its outbox events. */
  #putEnded(record: SessionRecord): void {
    this.#put(record);
    this.#outbox?.recordEnd(record);
  }

  #put(record: SessionRecord): void {
    this.#sessions.set(record.id, clone(record));
    let ids = this.#liveByUser.get(record.userId);
    if (record.ended === null) {
      if (!ids) {
        ids = new Set();
        this.#liveByUser.set(record.userId, ids);
      }
      ids.add(record.id);
    } else if (ids) {
      ids.delete(record.id);
      if (ids.size === 0) this.#liveByUser.delete(record.userId);
    }
  }
}

function clone<T extends SessionRecord | null>(record: T): T {
  return record === null ? record : (structuredClone(record) as T);
}
