import type { Logger } from "pino";
import type { Namespace, Socket } from "socket.io";
import type { AuditTrail } from "./audit.js";
import { SoloError } from "./errors.js";
import { auditEventView } from "./http/admin.js";
import type { SessionCookie } from "./http/cookies.js";
import { isSecure, originAllowed } from "./http/origin.js";
import { toSoloError } from "./http/respond.js";
import {
  ADMIN_EVENTS,
  ADMIN_NAMESPACE,
  type AdminClientToServerEvents,
  type AdminServerToClientEvents,
  type ConnectErrorData,
} from "./protocol.js";
import type { SoloIo } from "./realtime.js";
import type { SessionService } from "./sessions.js";

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
  /** Reads a handshake's token from its headers (Bearer, else the session cookie) when `auth.token` is absent. */
  cookie: Pick<SessionCookie, "token">;
  allowedOrigins: readonly string[];
  trustProxy: boolean;
  logger: Logger;
}

const sessionRoom = (sessionId: string) => `s:${sessionId}`;

/**
 * The admin feed: Socket.IO namespace `/admin`, for sessions with the role `admin`
 * (handshake like `/session`: token in `auth` or the cookie; otherwise `connect_error` with
 * the code, `forbidden` for a non-admin). Every audit event is pushed as `admin:audit` once
 * the store has it, and every delivery change as `admin:delivery`, so an admin view can stay
 * current without polling. With a cluster adapter the events reach admins on every node.
 * An admin socket is disconnected as soon as its session ends.
 *
 * @example
 * ```ts
 * const feed = new AdminFeed({ service, audit, cookie, allowedOrigins: [], trustProxy: false, logger });
 * feed.attach(realtime.attach(httpServer));
 * ```
 */
export class AdminFeed {
  readonly #deps: AdminFeedDeps;
  #nsp: AdminNamespace | null = null;

  constructor(deps: AdminFeedDeps) {
    this.#deps = deps;
    deps.audit.on("appended", (event) => this.#nsp?.emit(ADMIN_EVENTS.audit, auditEventView(event)));
    deps.audit.on("delivery", (sessionId, status) => this.#nsp?.emit(ADMIN_EVENTS.delivery, { sessionId, status }));
    deps.service.on("ended", (session) => this.#nsp?.in(sessionRoom(session.id)).disconnectSockets(true));
  }

  /** Adds the `/admin` namespace to the Socket.IO server. */
  attach(io: SoloIo): void {
    const nsp = io.of(ADMIN_NAMESPACE) as unknown as AdminNamespace;
    this.#nsp = nsp;
    nsp.use((socket, next) => {
      this.#authenticate(socket).then(
        () => next(),
        (error: unknown) => next(handshakeError(error)),
      );
    });
    nsp.on("connection", (socket) => {
      const { sessionId } = socket.data;
      socket.join(sessionRoom(sessionId));
      // The session may have ended while the handshake was in flight: look once more.
      this.#deps.service.store.get(sessionId).then(
        (session) => {
          if (!session || session.ended) socket.disconnect(true);
        },
        (error: unknown) => {
          this.#deps.logger.warn({ err: error }, "admin socket check failed");
          socket.disconnect(true);
        },
      );
    });
  }

  /** Disconnects this node's admin sockets. */
  close(): void {
    this.#nsp?.local.disconnectSockets(true);
    this.#nsp = null;
  }

  async #authenticate(socket: AdminSocket): Promise<void> {
    const req = socket.request;
    if (!originAllowed(req, this.#deps.allowedOrigins, isSecure(req, this.#deps.trustProxy))) {
      throw new SoloError("origin_not_allowed");
    }
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    if (auth?.token !== undefined && typeof auth.token !== "string") throw new SoloError("invalid_token");
    const token = typeof auth?.token === "string" ? auth.token : this.#deps.cookie.token(req);
    const { claims, session } = await this.#deps.service.check(token);
    if (!claims.roles.includes("admin")) throw new SoloError("forbidden");
    socket.data = { userId: session.userId, sessionId: session.id };
  }
}

/** A handshake refusal: `err.message` is the code, `err.data` the details. */
function handshakeError(error: unknown): Error & { data: ConnectErrorData } {
  const solo = toSoloError(error);
  const err = new Error(solo.code) as Error & { data: ConnectErrorData };
  err.data = { code: solo.code, message: solo.message, ...solo.details };
  return err;
}
