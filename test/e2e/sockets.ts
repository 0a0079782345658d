import type { Standalone } from "../../standalone/standalone.js";

/** A namespace whose handshake sets `socket.data.sessionId`. */
export type Watched = "/session" | "/admin";

/**
 * The server's Socket.IO sockets of one session, watched through the namespaces' events.
 * Tests count a session's own sockets, never the server-wide total: a socket of an earlier
 * test (a browser that vanished without closing its connection) may outlive that test.
 */
export interface SessionSockets {
  /** How many sockets of `sessionId` the server holds on `namespace` now. */
  count(sessionId: string, namespace?: Watched): number;
  /** The server times (ms) at which sockets of `sessionId` joined `namespace` since the watch began, in order. */
  connections(sessionId: string, namespace?: Watched): number[];
  /** Stops watching. */
  close(): void;
}

/** Watches the `/session` and `/admin` namespaces of a running server. */
export function watchSockets(io: Standalone["io"]): SessionSockets {
  const joined = new Map<string, number[]>();
  const key = (namespace: Watched, sessionId: string) => `${namespace} ${sessionId}`;
  const stops: (() => void)[] = [];
  for (const namespace of ["/session", "/admin"] as const) {
    const nsp = io.of(namespace);
    const onConnection = (socket: Parameters<Parameters<typeof nsp.on<"connection">>[1]>[0]) => {
      const list = joined.get(key(namespace, socket.data.sessionId)) ?? [];
      list.push(Date.now());
      joined.set(key(namespace, socket.data.sessionId), list);
    };
    nsp.on("connection", onConnection);
    stops.push(() => nsp.off("connection", onConnection));
  }
  return {
    count(sessionId, namespace = "/session") {
      let n = 0;
      for (const socket of io.of(namespace).sockets.values()) if (socket.data.sessionId === sessionId) n++;
      return n;
    },
    connections: (sessionId, namespace = "/session") => [...(joined.get(key(namespace, sessionId)) ?? [])],
    close() {
      for (const stop of stops.splice(0)) stop();
    },
  };
}
