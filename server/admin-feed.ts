import type { Logger } from "pino";
import type { Namespace, Socket } from "socket.io";
import type { AuditTrail } from "./audit.js";
import { SoloError } from "./errors.js";
import type { Handshake } from "./handshake.js";
import { auditEventView } from "./http/admin.js";
import {
  ADMIN_EVENTS,
  ADMIN_NAMESPACE,
  type AdminClientToServerEvents,
  type AdminServerToClientEvents,
} from "./protocol.js";
import type { SessionFollower, SoloIo } from "./realtime.js";
import type { SessionService } from "./sessions.js";
import type { SessionRecord } from "./store/types.js";

/** What an admin socket keeps. */
interface AdminSocketData {
  userId: string;
  sessionId: string;
}

type AdminNamespace = Namespace<AdminClientToServerEvents, AdminServerToClientEvents, object, AdminSocketData>;
type AdminSocket = Socket<AdminClientToServerEvents, AdminServerToClientEvents, object, AdminSocketData>;

/** What the admin feed needs. */
export interface AdminFeedDeps {
  service: SessionService;
  audit: AuditTrail;
  /** The handshake every namespace goes through. */
  handshake: Handshake;
  /**
   * This node re-reads the session of each of its admin sockets from the store this often
   * (ms): the bound for an end this node was not told of (`sessionCacheTtl`). At least 100.
   */
  recheckInterval: number;
  clock: () => number;
  logger: Logger;
}

const sessionRoom = (sessionId: string) => `s:${sessionId}`;

/**
 * The admin feed: Socket.IO namespace `/admin`, for sessions with the role `admin`
 * (the shared handshake: token in `auth` or the cookie, the same origin check and limits as
 * `/session`; then `forbidden` for a non-admin). Every audit event is pushed as `admin:audit`
 * once the store has it, and every delivery change as `admin:delivery`, so an admin view can
 * stay current without polling. With a cluster adapter the events reach admins on every node.
 *
 * An admin socket is disconnected as soon as its session ends: on the revocation (local, or
 * from another node through the adapter: the feed follows the session channel), in every
 * reconciliation pass, and, should both be missed, by its node's own re-check of the session
 * in the store every `recheckInterval`.
 *
 * @example
 * ```ts
 * const feed = new AdminFeed({ service, audit, handshake, recheckInterval: 1000, clock: Date.now, logger });
 * feed.attach(realtime.attach(httpServer));
 * realtime.follow(feed);
 * ```
 */
export class AdminFeed implements SessionFollower {
  readonly #deps: AdminFeedDeps;
  #nsp: AdminNamespace | null = null;
  #timer: NodeJS.Timeout | null = null;
  #checking: Promise<number> | null = null;

  constructor(deps: AdminFeedDeps) {
    this.#deps = deps;
    deps.audit.on("appended", (event) => this.#nsp?.emit(ADMIN_EVENTS.audit, auditEventView(event)));
    deps.audit.on("delivery", (sessionId, status) => this.#nsp?.emit(ADMIN_EVENTS.delivery, { sessionId, status }));
  }

  /** Adds the `/admin` namespace to the Socket.IO server and starts the periodic re-check. */
  attach(io: SoloIo): void {
    const nsp = io.of(ADMIN_NAMESPACE) as unknown as AdminNamespace;
    this.#nsp = nsp;
    this.#deps.handshake.guard<AdminSocket>(nsp, (socket, { claims, session }) => {
      if (!claims.roles.includes("admin")) throw new SoloError("forbidden");
      socket.data = { userId: session.userId, sessionId: session.id };
    });
    nsp.on("connection", (socket) => {
      const { sessionId } = socket.data;
      socket.join(sessionRoom(sessionId));
      // The session may have ended while the handshake was in flight: look once more.
      this.#deps.service.store.get(sessionId).then(
        (session) => {
          if (!this.#live(session)) socket.disconnect();
        },
        (error: unknown) => {
          this.#deps.logger.warn({ err: error }, "admin socket check failed");
          socket.disconnect();
        },
      );
    });
    this.#timer = setInterval(
      () => {
        this.reconcile().catch((error: unknown) =>
          this.#deps.logger.warn({ err: error }, "admin sockets check failed"),
        );
      },
      Math.max(100, this.#deps.recheckInterval),
    );
    this.#timer.unref();
  }

  /** Disconnects this node's admin sockets of an ended session. */
  drop(sessionId: string): void {
    this.#nsp?.local.in(sessionRoom(sessionId)).disconnectSockets();
  }

  /**
   * Reads the session of every admin socket on this node from the store and disconnects those
   * whose session has ended, expired or is gone. Returns how many it disconnected. Checks
   * never overlap: a call during one waits for it.
   */
  reconcile(): Promise<number> {
    this.#checking ??= this.#recheck().finally(() => {
      this.#checking = null;
    });
    return this.#checking;
  }

  /** Stops the re-check and disconnects this node's admin sockets. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#nsp?.local.disconnectSockets(true);
    this.#nsp = null;
  }

  async #recheck(): Promise<number> {
    const nsp = this.#nsp;
    if (!nsp || nsp.sockets.size === 0) return 0;
    const sessions = new Set<string>();
    for (const socket of nsp.sockets.values()) sessions.add(socket.data.sessionId);
    let dropped = 0;
    for (const sessionId of sessions) {
      if (this.#live(await this.#deps.service.store.get(sessionId))) continue;
      // Nobody told this node: its check cache may still hold the session as live.
      this.#deps.service.forget(sessionId);
      const room = nsp.adapter.rooms.get(sessionRoom(sessionId));
      dropped += room?.size ?? 0;
      this.drop(sessionId);
    }
    return dropped;
  }

  #live(session: SessionRecord | null): boolean {
    return session !== null && session.ended === null && session.expiresAt > this.#deps.clock();
  }
}
