/**
 * The `/session` namespace (`Realtime`): one live socket per session, the revocation notice and
 * its acknowledgement, presence, and reconciliation against the store. Just over 300 lines:
 * the socket's life from handshake to disconnect is one state machine, kept in one place.
 *
 * @module
 */

import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Logger } from "pino";
import { Server } from "socket.io";
import { Adapter } from "socket.io-adapter";
import { EVENTS, type RevocationNotice, SESSION_NAMESPACE } from "../../protocol/index.js";
import type { Notifier, SessionService } from "../sessions/service.js";
import type { Handshake } from "./handshake.js";
import { createIoServer, type IoServerDeps } from "./io-server.js";
import type { SoloIo, SoloNamespace, SoloSocket } from "./types.js";

/**
 * Another namespace whose sockets belong to sessions (the admin feed): it follows the
 * session channel's revocations, local and from other nodes, and its reconciliation.
 */
export interface SessionFollower {
  /** The session ended (here or on another node): disconnect its sockets on this node. */
  drop(sessionId: string): void;
  /** Re-checks this node's sockets against the store; disconnects those whose session ended. Returns how many. */
  reconcile(): Promise<number>;
}

/** What the realtime side needs. */
export interface RealtimeDeps {
  service: SessionService;
  /** The handshake every namespace goes through. */
  handshake: Handshake;
  /** How the Socket.IO server is built when `attach()` gets an http(s) server. */
  server: Omit<IoServerDeps, "handshake">;
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
  readonly #followers: SessionFollower[] = [];

  constructor(deps: RealtimeDeps) {
    this.#deps = deps;
  }

  /** The Socket.IO server, once attached. */
  get io(): SoloIo | null {
    return this.#io;
  }

  /**
   * Attaches to an http(s) server (creating a locked-down Socket.IO server, see
   * {@link createIoServer}) or to an existing Socket.IO server (adding the `/session`
   * namespace; that server's engine, transports and default namespace stay the app's).
   */
  attach(target: HttpServer | HttpsServer | Server): SoloIo {
    if (this.#io) throw new Error("solo-session: attach() was already called");
    if (target instanceof Server) {
      this.#io = target as unknown as SoloIo;
    } else {
      this.#io = createIoServer(target, { ...this.#deps.server, handshake: this.#deps.handshake });
      this.#ownsIo = true;
    }
    const nsp = this.#io.of(SESSION_NAMESPACE);
    this.#nsp = nsp;
    this.#cluster = hasClusterAdapter(nsp);
    this.#deps.handshake.guard<SoloSocket>(nsp, (socket, { claims, session }) => {
      socket.data = {
        userId: session.userId,
        sessionId: session.id,
        roles: claims.roles,
        revoked: false,
        lastActivityAt: this.#deps.clock(),
      };
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

  /**
   * Makes another namespace follow the session channel: its sockets are dropped when their
   * session ends (here or, through the adapter, on another node) and re-checked by
   * {@link reconcile}.
   */
  follow(follower: SessionFollower): void {
    this.#followers.push(follower);
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
    for (const follower of this.#followers) follower.drop(notice.sessionId);
    if (this.#cluster) nsp.serverSideEmit("solo:revoke", notice);
    return reached;
  }

  /**
   * Applies a revocation another node made (heard through the adapter or read from the Redis
   * ends stream): forgets the cached session, tells this node's sockets of it and drops the
   * session's sockets of the following namespaces (`/admin`). Hearing the same notice twice is
   * harmless: a socket is revoked once.
   */
  revokeHeard(notice: RevocationNotice): void {
    this.#deps.service.forget(notice.sessionId);
    // A replacement heard without its dispute capability (the Redis ends stream carries none)
    // gets it here first, and only when this node holds a socket of the session.
    const completing = this.#holds(notice.sessionId) ? this.#deps.service.completeNotice(notice) : null;
    if (completing) void completing.then((complete) => this.#deliverLocal(complete, true));
    else this.#deliverLocal(notice, true);
    for (const follower of this.#followers) follower.drop(notice.sessionId);
  }

  /**
   * Re-checks every socket on this node against the store, those of the following
   * namespaces (`/admin`) too: revokes those whose session has ended (so a notice lost in
   * transit cannot leave a zombie socket) and confirms the presence of the others. Returns
   * how many were revoked or disconnected.
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
        // Nobody told this node: its check cache may still hold the session as live.
        this.#deps.service.forget(socket.data.sessionId);
        if (session) this.#deliver(socket, await this.#deps.service.notice(session));
        else socket.disconnect(true);
        revoked++;
      } else {
        present.push(session.id);
      }
    }
    await this.#markPresence(present);
    for (const follower of this.#followers) revoked += await follower.reconcile();
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
      // Never live: the client may not even listen yet (Socket.IO delivers CONNECT and the
      // notice in one go), so it is told and disconnected without waiting for an ack.
      if (session) this.#deliver(socket, await this.#deps.service.notice(session), { wait: false });
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

  /** True when this node holds a socket of the session. */
  #holds(sessionId: string): boolean {
    return (this.#nsp?.adapter.rooms.get(sessionRoom(sessionId))?.size ?? 0) > 0;
  }

  /** Delivers to this node's sockets of the session; returns how many were sent the notice. */
  #deliverLocal(notice: RevocationNotice, report: boolean): number {
    const nsp = this.#nsp;
    const ids = nsp?.adapter.rooms.get(sessionRoom(notice.sessionId));
    if (!nsp || !ids) return 0;
    let reached = 0;
    for (const id of [...ids]) {
      const socket = nsp.sockets.get(id);
      if (socket && this.#deliver(socket, notice, { report })) reached++;
    }
    return reached;
  }

  /**
   * Sends the notice, waits (bounded) for the acknowledgement, then disconnects; with
   * `wait: false` disconnects right after sending. Reports the delivery when asked (the
   * caller reports it otherwise) and the acknowledgement always.
   */
  #deliver(socket: SoloSocket, notice: RevocationNotice, { report = true, wait = true } = {}): boolean {
    if (socket.data.revoked) return false;
    socket.data.revoked = true;
    const service = this.#deps.service;
    if (!wait) {
      // Engine.IO sends what is buffered before it closes the connection.
      socket.emit(EVENTS.revoked, notice, () => {});
      socket.disconnect(true);
      if (report) service.delivered(notice.sessionId, "delivered");
      return true;
    }
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
