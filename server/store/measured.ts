import type {
  AuditEvent,
  AuditQuery,
  ClaimResult,
  Decide,
  DeliveryStatus,
  ListLiveQuery,
  LivePage,
  NewAuditEvent,
  SessionEnd,
  SessionRecord,
  SessionStore,
} from "./types.js";

/** Starts timing one operation; the returned function stops it. */
export type StartTimer = (op: string) => () => void;

/**
 * A {@link SessionStore} that times every operation of the store it wraps (for
 * `solo_store_operation_seconds{op}`) and otherwise passes everything through unchanged.
 *
 * @example
 * ```ts
 * const store = new MeasuredStore(new SqliteStore({ filename }), (op) => metrics.storeOperation(op));
 * ```
 */
export class MeasuredStore implements SessionStore {
  readonly #inner: SessionStore;
  readonly #start: StartTimer;

  constructor(inner: SessionStore, start: StartTimer) {
    this.#inner = inner;
    this.#start = start;
  }

  claim(session: SessionRecord, decide: Decide): Promise<ClaimResult> {
    return this.#time("claim", () => this.#inner.claim(session, decide));
  }
  get(id: string): Promise<SessionRecord | null> {
    return this.#time("get", () => this.#inner.get(id));
  }
  listLive(userId: string): Promise<SessionRecord[]> {
    return this.#time("listLive", () => this.#inner.listLive(userId));
  }
  listAllLive(query: ListLiveQuery): Promise<LivePage> {
    return this.#time("listAllLive", () => this.#inner.listAllLive(query));
  }
  end(id: string, end: SessionEnd): Promise<SessionRecord | null> {
    return this.#time("end", () => this.#inner.end(id, end));
  }
  endAll(userId: string, end: SessionEnd): Promise<SessionRecord[]> {
    return this.#time("endAll", () => this.#inner.endAll(userId, end));
  }
  touch(id: string, at: number): Promise<void> {
    return this.#time("touch", () => this.#inner.touch(id, at));
  }
  markPresence(ids: readonly string[], at: number): Promise<void> {
    return this.#time("markPresence", () => this.#inner.markPresence(ids, at));
  }
  findStale(now: number, idleBefore: number, limit: number): Promise<SessionRecord[]> {
    return this.#time("findStale", () => this.#inner.findStale(now, idleBefore, limit));
  }
  purge(sessionsBefore: number, auditBefore: number): Promise<number> {
    return this.#time("purge", () => this.#inner.purge(sessionsBefore, auditBefore));
  }
  useOnce(key: string, until: number): Promise<boolean> {
    return this.#time("useOnce", () => this.#inner.useOnce(key, until));
  }
  countLive(): Promise<number> {
    return this.#time("countLive", () => this.#inner.countLive());
  }
  appendAudit(event: NewAuditEvent): Promise<string> {
    return this.#time("appendAudit", () => this.#inner.appendAudit(event));
  }
  updateDelivery(sessionId: string, status: DeliveryStatus): Promise<void> {
    return this.#time("updateDelivery", () => this.#inner.updateDelivery(sessionId, status));
  }
  queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    return this.#time("queryAudit", () => this.#inner.queryAudit(query));
  }
  ping(): Promise<void> {
    return this.#time("ping", () => this.#inner.ping());
  }
  close(): Promise<void> {
    return this.#inner.close();
  }

  async #time<T>(op: string, run: () => Promise<T>): Promise<T> {
    const stop = this.#start(op);
    try {
      return await run();
    } finally {
      stop();
    }
  }
}
