import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Logger } from "pino";
import { type Namespace, Server, type Socket } from "socket.io";
import { Adapter } from "socket.io-adapter";
import { SoloError } from "./errors.js";
import type { SessionCookie } from "./http/cookies.js";
import { isSecure, originAllowed } from "./http/origin.js";
import { toSoloError } from "./http/respond.js";
import { logId } from "./logging.js";
import {
  type ClientToServerEvents,
  type ConnectErrorData,
  EVENTS,
  type InterServerEvents,
  type RevocationNotice,
  SESSION_NAMESPACE,
  type ServerToClientEvents,
  type SocketData,
} from "./protocol.js";
import { clientAddress, type HandshakeLimiter } from "./ratelimit.js";
import type { Notifier, SessionService } from "./sessions.js";
import { revocationNotice } from "./views.js";

export type SoloIo = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type SoloNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type SoloSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** What the realtime side needs. */
export interface RealtimeDeps {
  service: SessionService;
  /** Reads a handshake's token from its headers (Bearer, else the session cookie) when `auth.token` is absent. */
  cookie: Pick<SessionCookie, "token">;
  allowedOrigins: readonly string[];
  trustProxy: boolean;
  /** Handshakes per address and per session. */
  handshakeLimiter: HandshakeLimiter;
  /** A connection that has not joined the namespace this long after opening is closed (ms). */
  handshakeTimeout: number;
  ackTimeout: number;
  /** Activity signals are passed to the store at most this often per socket. */
  touchInterval: number;
  /**
   * How often this node confirms its sockets' presence in the store; 0 turns presence
   * tracking off (only `oldest-wins` reads it, to tell an abandoned session from one in use).
   */
  presenceInterval: number;
  clock: () => number;
  logger: Logger;
}

/**
 * Largest Socket.IO message accepted from a client, in bytes: room for a handshake carrying the
 * longest token that is read at all (4 KB); clients otherwise send only tiny signals. A larger
 * message closes the connection before it is buffered.
 */
export const MAX_CLIENT_MESSAGE = 8 * 1024;

/** Sessions confirmed per store write by the presence heartbeat. */
const PRESENCE_BATCH = 500;

const sessionRoom = (sessionId: string) => `s:${sessionId}`;

/**
 * The session channel: Socket.IO namespace `/session`. Authenticates each handshake against
 * the store, keeps one live socket per session, and delivers `session:revoked` (then
 * disconnects) when a session ends, on whichever node holds the socket.
 */
export class Realtime implements Notifier {
  readonly #deps: RealtimeDeps;
  #io: SoloIo | null = null;
  #nsp: SoloNamespace | null = null;
  #ownsIo = false;
  #cluster = false;
  #presenceTimer: NodeJS.Timeout | null = null;
  /** Namespace handshakes seen per engine connection: only the first was paid for in `allowRequest`. */
  readonly #connects = new WeakMap<object, number>();

  constructor(deps: RealtimeDeps) {
    this.#deps = deps;
  }

  /** The Socket.IO server, once attached. */
  get io(): SoloIo | null {
    return this.#io;
  }

  /**
   * Attaches to an http(s) server (creating a Socket.IO server with the origin check in
   * `allowRequest`) or to an existing Socket.IO server (adding the `/session` namespace).
   */
  attach(target: HttpServer | HttpsServer | Server): SoloIo {
    if (this.#io) throw new Error("solo-session: attach() was already called");
    if (target instanceof Server) {
      this.#io = target as unknown as SoloIo;
    } else {
      this.#io = new Server(target, {
        serveClient: false,
        maxHttpBufferSize: MAX_CLIENT_MESSAGE,
        connectTimeout: this.#deps.handshakeTimeout,
        // WebSocket is not covered by CORS: the origin is checked here, before any upgrade.
        allowRequest: (req, callback) => {
          if (!originAllowed(req, this.#deps.allowedOrigins, isSecure(req, this.#deps.trustProxy))) {
            callback("origin_not_allowed", false);
            return;
          }
          this.#deps.handshakeLimiter.byAddress(clientAddress(req, this.#deps.trustProxy)).then(
            (refused) => callback(refused ? refused.code : null, refused === null),
            () => callback("store_unavailable", false),
          );
        },
        cors: {
          origin: [...this.#deps.allowedOrigins],
          credentials: true,
        },
      });
      this.#ownsIo = true;
    }
    const nsp = this.#io.of(SESSION_NAMESPACE);
    this.#nsp = nsp;
    this.#cluster = hasClusterAdapter(nsp);
    nsp.use((socket, next) => {
      this.#authenticate(socket).then(
        () => next(),
        (error: unknown) => next(handshakeError(error)),
      );
    });
    nsp.on("connection", (socket) => {
      this.#onConnection(socket).catch((error: unknown) => {
        this.#deps.logger.error({ err: error }, "socket setup failed");
        socket.disconnect(true);
      });
    });
    nsp.on("solo:revoke", (notice: RevocationNotice) => this.revokeHeard(notice));
    if (this.#deps.presenceInterval > 0) {
      this.#presenceTimer = setInterval(() => {
        this.#heartbeat().catch((error: unknown) =>
          this.#deps.logger.warn({ err: error }, "presence heartbeat failed"),
        );
      }, this.#deps.presenceInterval);
      this.#presenceTimer.unref();
    }
    return this.#io;
  }

  /** Call after replacing the namespace adapter (cluster mode) so revocations go to every node. */
  refreshAdapter(): void {
    if (this.#nsp) this.#cluster = hasClusterAdapter(this.#nsp);
  }

  /**
   * Tells the ended session's sockets, here and (through the adapter) on every other node.
   * Returns how many sockets of this node were sent the notice; the caller records that
   * delivery (other nodes report theirs).
   */
  revoke(notice: RevocationNotice): number {
    const nsp = this.#nsp;
    if (!nsp) return 0;
    const reached = this.#deliverLocal(notice, false);
    if (this.#cluster) nsp.serverSideEmit("solo:revoke", notice);
    return reached;
  }

  /**
   * Applies a revocation another node made (heard through the adapter or read from the Redis
   * ends stream): forgets the cached session and tells this node's sockets of it. Hearing the
   * same notice twice is harmless: a socket is revoked once.
   */
  revokeHeard(notice: RevocationNotice): void {
    this.#deps.service.forget(notice.sessionId);
    this.#deliverLocal(notice, true);
  }

  /**
   * Re-checks every socket on this node against the store: revokes those whose session has
   * ended (so a notice lost in transit cannot leave a zombie socket) and confirms the
   * presence of the others. Returns how many were revoked.
   */
  async reconcile(): Promise<number> {
    const nsp = this.#nsp;
    if (!nsp) return 0;
    let revoked = 0;
    const present: string[] = [];
    for (const socket of [...nsp.sockets.values()]) {
      if (socket.data.revoked) continue;
      const session = await this.#deps.service.store.get(socket.data.sessionId);
      if (session === null || session.ended) {
        if (session) this.#deliver(socket, revocationNotice(session));
        else socket.disconnect(true);
        revoked++;
      } else {
        present.push(session.id);
      }
    }
    await this.#markPresence(present);
    return revoked;
  }

  /** Number of sockets connected to this node. */
  get localSockets(): number {
    return this.#nsp?.sockets.size ?? 0;
  }

  /** Stops timers, disconnects this node's sockets and, if it created it, closes the Socket.IO server. */
  async close(): Promise<void> {
    if (this.#presenceTimer) clearInterval(this.#presenceTimer);
    this.#presenceTimer = null;
    const io = this.#io;
    if (!io) return;
    this.#nsp?.local.disconnectSockets(true);
    if (this.#ownsIo) await new Promise<void>((resolve) => io.close(() => resolve()));
    this.#io = null;
    this.#nsp = null;
  }

  async #authenticate(socket: SoloSocket): Promise<void> {
    const req = socket.request;
    if (!originAllowed(req, this.#deps.allowedOrigins, isSecure(req, this.#deps.trustProxy))) {
      throw new SoloError("origin_not_allowed");
    }
    // Several namespace handshakes can come over one connection; all but the first pay here.
    const seen = this.#connects.get(socket.conn) ?? 0;
    this.#connects.set(socket.conn, seen + 1);
    if (seen > 0 || !this.#ownsIo) {
      const refused = await this.#deps.handshakeLimiter.byAddress(clientAddress(req, this.#deps.trustProxy));
      if (refused) throw refused;
    }
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const token = typeof auth?.token === "string" ? auth.token : this.#deps.cookie.token(req);
    if (auth?.token !== undefined && typeof auth.token !== "string") throw new SoloError("invalid_token");
    const { claims, session } = await this.#deps.service.check(token);
    // One live socket per session, and a bounded rate of new ones: a flood for one session is refused.
    const flood = await this.#deps.handshakeLimiter.bySession(session.id);
    if (flood) {
      this.#deps.logger.warn({ session: logId(session.id) }, "session handshake flood refused");
      throw flood;
    }
    socket.data = {
      userId: session.userId,
      sessionId: session.id,
      roles: claims.roles,
      revoked: false,
      lastActivityAt: this.#deps.clock(),
    };
  }

  async #onConnection(socket: SoloSocket): Promise<void> {
    const { sessionId } = socket.data;
    // Join first, then look at the store once more: a claim that ended this session while the
    // handshake was in flight either finds the socket in the room or is seen by this check.
    socket.join(sessionRoom(sessionId));
    releaseHandshake(socket);
    socket.on(EVENTS.activity, () => this.#onActivity(socket));
    socket.on("disconnect", () => this.#onDisconnect(socket));
    const session = await this.#deps.service.store.get(sessionId);
    if (!session || session.ended) {
      if (session) this.#deliver(socket, revocationNotice(session));
      else socket.disconnect(true);
      return;
    }
    // One live socket per session: a newer socket quietly replaces older ones, on any node.
    this.#nsp?.in(sessionRoom(sessionId)).except(socket.id).disconnectSockets(true);
    await this.#markPresence([sessionId]);
  }

  #onActivity(socket: SoloSocket): void {
    const now = this.#deps.clock();
    if (socket.data.revoked || now - socket.data.lastActivityAt < this.#deps.touchInterval) return;
    socket.data.lastActivityAt = now;
    this.#deps.service.activityById(socket.data.sessionId).catch((error: unknown) => {
      this.#deps.logger.warn({ err: error }, "activity not recorded");
    });
  }

  #onDisconnect(socket: SoloSocket): void {
    if (socket.data.revoked || !socket.data.sessionId) return;
    const still = this.#nsp?.adapter.rooms.get(sessionRoom(socket.data.sessionId));
    if (still && still.size > 0) return;
    this.#markPresence([socket.data.sessionId]).catch(() => {});
  }

  /** Delivers to this node's sockets of the session; returns how many were sent the notice. */
  #deliverLocal(notice: RevocationNotice, report: boolean): number {
    const nsp = this.#nsp;
    const ids = nsp?.adapter.rooms.get(sessionRoom(notice.sessionId));
    if (!nsp || !ids) return 0;
    let reached = 0;
    for (const id of [...ids]) {
      const socket = nsp.sockets.get(id);
      if (socket && this.#deliver(socket, notice, report)) reached++;
    }
    return reached;
  }

  /**
   * Sends the notice, waits (bounded) for the acknowledgement, then disconnects. Reports the
   * delivery when asked (the caller reports it otherwise) and the acknowledgement always.
   */
  #deliver(socket: SoloSocket, notice: RevocationNotice, report = true): boolean {
    if (socket.data.revoked) return false;
    socket.data.revoked = true;
    const service = this.#deps.service;
    const sentAt = performance.now();
    socket.timeout(this.#deps.ackTimeout).emit(EVENTS.revoked, notice, (error: Error | null) => {
      if (!error) service.delivered(notice.sessionId, "acknowledged", (performance.now() - sentAt) / 1000);
      socket.disconnect(true);
    });
    if (report) service.delivered(notice.sessionId, "delivered");
    return true;
  }

  /** Confirms this node's live sockets in the store, in batches that leave the event loop free in between. */
  async #heartbeat(): Promise<void> {
    const nsp = this.#nsp;
    if (!nsp || nsp.sockets.size === 0) return;
    const ids = new Set<string>();
    for (const socket of nsp.sockets.values()) if (!socket.data.revoked) ids.add(socket.data.sessionId);
    await this.#markPresence([...ids]);
  }

  async #markPresence(ids: readonly string[]): Promise<void> {
    if (this.#deps.presenceInterval <= 0 || ids.length === 0) return;
    for (let i = 0; i < ids.length; i += PRESENCE_BATCH) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      await this.#deps.service.store.markPresence(ids.slice(i, i + PRESENCE_BATCH), this.#deps.clock());
    }
  }
}

/**
 * Drops the handshake's `auth` payload (the token) once the socket is authenticated, so no
 * copy of the token lingers for the socket's lifetime. (The request's headers stay: other
 * namespaces multiplexed on the same connection authenticate from the same request.)
 */
function releaseHandshake(socket: SoloSocket): void {
  socket.handshake.auth = {};
}

/** True when the namespace's adapter talks to other nodes (it implements serverSideEmit). */
function hasClusterAdapter(nsp: SoloNamespace): boolean {
  return nsp.adapter.serverSideEmit !== Adapter.prototype.serverSideEmit;
}

/** A handshake refusal: `err.message` is the code, `err.data` the details. */
function handshakeError(error: unknown): Error & { data: ConnectErrorData } {
  const solo = toSoloError(error);
  const err = new Error(solo.code) as Error & { data: ConnectErrorData };
  err.data = { code: solo.code, message: solo.message, ...solo.details };
  return err;
}
