import { EventEmitter } from "node:events";
import { isFurther } from "../store/shared/audit.js";
import type {
  AuditEvent,
  AuditKind,
  DeliveryStatus,
  DeviceInfo,
  NewAuditEvent,
  SessionRecord,
  SessionStore,
} from "../store/types.js";
import { BoundedMap } from "../util/bounded-map.js";

/**
 * Who did something the audit trail records, besides its subject: a user and, when it was done
 * from a session, that session and its device (the protocol's `AuditActor`, server side).
 */
export type Actor = NonNullable<AuditEvent["by"]>;

/**
 * The actor of a session: its user, the session itself and its device.
 *
 * @example
 * ```ts
 * await service.end(id, "revoked", actorOf(current)); // audited as ended by this user, from this device
 * ```
 */
export function actorOf(session: Pick<SessionRecord, "id" | "userId" | "device">): Actor {
  return { userId: session.userId, sessionId: session.id, device: session.device };
}

/** Events of the audit trail, emitted once the store has the write (for the admin feed). */
export interface AuditTrailEvents {
  appended: [event: AuditEvent];
  delivery: [sessionId: string, status: DeliveryStatus];
}

/** Delivery statuses remembered per session, so repeats are not written again. */
const DELIVERY_MEMO = 10_000;

/**
 * Writes the audit trail into the store: who signed in, who was refused, who was kicked and
 * by whom, and whether the kicked device got the notice. Failures to write are reported to
 * `onError` and never fail the operation being audited.
 */
export class AuditTrail extends EventEmitter<AuditTrailEvents> {
  readonly #store: SessionStore;
  readonly #node: string;
  readonly #onError: (error: unknown) => void;
  /** The furthest delivery status this node has recorded, per session (bounded, oldest forgotten). */
  readonly #delivery = new BoundedMap<string, DeliveryStatus>(DELIVERY_MEMO);

  constructor(store: SessionStore, node: string, onError: (error: unknown) => void) {
    super();
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

  /** An ended session; `delivery` is where its notice stands right now; `actor` is who ended it. */
  ended(s: SessionRecord, delivery: DeliveryStatus, actor: Actor | null): void {
    if (!s.ended) return;
    const kind: AuditKind = s.ended.reason;
    const by = s.ended.by ? { sessionId: s.ended.by.sessionId, userId: s.userId, device: s.ended.by.device } : actor;
    if (delivery !== "pending") this.#remember(s.id, delivery);
    this.#append(kind, s.ended.at, s.userId, s.id, s.device, by, delivery, null);
  }

  /**
   * A dispute: from the device of the `replaced` session, the person said that the session
   * that took over (`disputed`) was not them. Ends nothing by itself (the sessions the dispute
   * ended are audited as `revoked`, by the same actor). `detail` says which sessions it ends.
   */
  disputed(disputed: SessionRecord, replaced: SessionRecord, at: number, detail: string): void {
    this.#append("disputed", at, disputed.userId, disputed.id, disputed.device, actorOf(replaced), null, detail);
  }

  /**
   * Moves the delivery status of a session's notice forward. Returns false (and writes
   * nothing) when this node already recorded that status or a later one.
   */
  delivery(sessionId: string, status: DeliveryStatus): boolean {
    const known = this.#delivery.get(sessionId);
    if (known !== undefined && !isFurther(status, known)) return false;
    this.#remember(sessionId, status);
    this.#store
      .updateDelivery(sessionId, status)
      .then(() => this.emit("delivery", sessionId, status))
      .catch(this.#onError);
    return true;
  }

  #remember(sessionId: string, status: DeliveryStatus): void {
    this.#delivery.set(sessionId, status);
  }

  #append(
    kind: AuditKind,
    at: number,
    userId: string,
    sessionId: string | null,
    device: DeviceInfo | null,
    by: Actor | null,
    delivery: DeliveryStatus | null,
    detail: string | null,
  ): void {
    const event: NewAuditEvent = { kind, at, userId, sessionId, device, node: this.#node, by, delivery, detail };
    this.#store
      .appendAudit(event)
      .then((id) => this.emit("appended", { ...event, id }))
      .catch(this.#onError);
  }
}
