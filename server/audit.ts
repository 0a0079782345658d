import type { AuditKind, DeliveryStatus, DeviceInfo, SessionRecord, SessionStore } from "./store/types.js";

/**
 * Writes the audit trail into the store: who signed in, who was refused, who was kicked and
 * by whom, and whether the kicked device got the notice. Failures to write are reported to
 * `onError` and never fail the operation being audited.
 */
export class AuditTrail {
  readonly #store: SessionStore;
  readonly #node: string;
  readonly #onError: (error: unknown) => void;

  constructor(store: SessionStore, node: string, onError: (error: unknown) => void) {
    this.#store = store;
    this.#node = node;
    this.#onError = onError;
  }

  login(s: SessionRecord): void {
    this.#append("login", s.createdAt, s.userId, s.id, s.device, null, null, null);
  }

  refused(userId: string, device: DeviceInfo, at: number, active: SessionRecord, policy: string): void {
    this.#append(
      "login_refused",
      at,
      userId,
      null,
      device,
      { sessionId: active.id, userId: active.userId, device: active.device },
      null,
      policy,
    );
  }

  /** An ended session; `delivery` is where its notice stands right now. */
  ended(s: SessionRecord, delivery: DeliveryStatus, actor: string | null): void {
    if (!s.ended) return;
    const kind: AuditKind = s.ended.reason;
    const by = s.ended.by
      ? { sessionId: s.ended.by.sessionId, userId: s.userId, device: s.ended.by.device }
      : actor
        ? { sessionId: null, userId: actor, device: null }
        : null;
    this.#append(kind, s.ended.at, s.userId, s.id, s.device, by, delivery, null);
  }

  delivery(sessionId: string, status: DeliveryStatus): void {
    this.#store.updateDelivery(sessionId, status).catch(this.#onError);
  }

  #append(
    kind: AuditKind,
    at: number,
    userId: string,
    sessionId: string | null,
    device: DeviceInfo | null,
    by: { sessionId: string | null; userId: string | null; device: DeviceInfo | null } | null,
    delivery: DeliveryStatus | null,
    detail: string | null,
  ): void {
    this.#store
      .appendAudit({ kind, at, userId, sessionId, device, node: this.#node, by, delivery, detail })
      .catch(this.#onError);
  }
}
