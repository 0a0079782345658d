import type { Namespace, Server, Socket } from "socket.io";
import type { ClientToServerEvents, RevocationNotice, ServerToClientEvents } from "../../protocol/index.js";

/** Events between server nodes (over the cluster adapter); server-only, not part of the wire contract. */
export interface InterServerEvents {
  "solo:revoke": (notice: RevocationNotice) => void;
}

/** What the server keeps on each authenticated `/session` socket (`socket.data`). */
export interface SocketData {
  userId: string;
  sessionId: string;
  roles: readonly string[];
  /** Set once `session:revoked` was sent to this socket. */
  revoked: boolean;
  /** Epoch ms of the last activity signal that was passed on to the store. */
  lastActivityAt: number;
}

/** The Socket.IO server of solo-session, typed with the session channel's events. */
export type SoloIo = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
/** The `/session` namespace. */
export type SoloNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
/** A `/session` socket. */
export type SoloSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** What a scale-out (Redis, PostgreSQL) needs from the realtime side. */
export interface Reconcilable {
  /** Re-checks this node's sockets against the store; revokes the ended ones. Returns how many. */
  reconcile(): Promise<number>;
  /** Call after the namespace adapter was replaced. */
  refreshAdapter(): void;
  /** Applies a revocation made anywhere in the cluster (this node's own included: a repeat is harmless). */
  revokeHeard(notice: RevocationNotice): void;
}
