import { type Server as HttpServer, type IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { Server, type Socket } from "socket.io";
import type { Transport } from "../../protocol/index.js";
import { SoloError } from "../errors/solo-error.js";
import type { ConnectionLimiter, HandshakeLimiter } from "../ratelimit/sockets.js";
import { clientAddress } from "../request/client-address.js";
import { type OriginPolicy, originAllowed } from "../request/origin.js";
import type { Handshake } from "./handshake.js";
import type { SoloIo } from "./types.js";

/** An Engine.IO connection (what several namespace sockets share). */
type EngineConnection = Socket["conn"];

/**
 * Largest Socket.IO message accepted from a client, in bytes: room for a handshake carrying the
 * longest token that is read at all (4 KB); clients otherwise send only tiny signals. A larger
 * message closes the connection before it is buffered.
 */
export const MAX_CLIENT_MESSAGE = 8 * 1024;

/** What the Socket.IO server that solo-session creates needs. */
export interface IoServerDeps {
  /** The namespace handshake; told which engine handshakes were already counted. */
  handshake: Handshake;
  origins: OriginPolicy;
  /** Engine handshakes per address. */
  limiter: HandshakeLimiter;
  /** Open connections per address. */
  connections: ConnectionLimiter;
  transports: readonly Transport[];
  /** A connection in no namespace this long (after opening, or after leaving the last one) is closed (ms). */
  handshakeTimeout: number;
  /** The Engine.IO heartbeat: a ping this often (ms)... */
  pingInterval: number;
  /** ...and a connection whose answer does not come within this long (ms) is closed. */
  pingTimeout: number;
}

/**
 * Creates the Socket.IO server on an http(s) server, locked down:
 *
 * - only the configured transports (WebSocket by default); JSONP polling (`j=` in the query)
 *   is refused with `invalid_request` whatever the transports;
 * - every Engine.IO request, not only the handshake (each long-polling GET and POST carrying a
 *   `sid`, and the WebSocket upgrade) passes the origin check ({@link originAllowed}), else
 *   `origin_not_allowed`;
 * - the engine handshake is counted against the client's address (`rate_limited`) and its
 *   open connections are capped (`too_many_connections`, released when a connection closes);
 * - the default namespace `/` admits no one (`forbidden`);
 * - a connection that is in no namespace `handshakeTimeout` after opening, or after leaving
 *   its last one, is closed.
 *
 * Refusals of the engine's own requests answer like Engine.IO does, with the solo-session
 * code as the message: long-polling gets the code's status and `{"code": n, "message": code}`,
 * the WebSocket upgrade the code's status and the code as the body.
 *
 * @example
 * ```ts
 * const io = createIoServer(httpServer, {
 *   handshake, origins, limiter, connections,
 *   transports: ["websocket"], handshakeTimeout: 10_000, pingInterval: 10_000, pingTimeout: 5000,
 * });
 * ```
 */
export function createIoServer(target: HttpServer | HttpsServer, deps: IoServerDeps): SoloIo {
  const { handshake, origins, limiter, connections } = deps;
  const io: SoloIo = new Server(target, {
    serveClient: false,
    maxHttpBufferSize: MAX_CLIENT_MESSAGE,
    connectTimeout: deps.handshakeTimeout,
    pingInterval: deps.pingInterval,
    pingTimeout: deps.pingTimeout,
    transports: [...deps.transports],
    // Runs for the engine handshake only (a request without `sid`), after the guard below.
    allowRequest: (req, callback) => {
      const address = clientAddress(req, origins.trustProxy);
      limiter.byAddress(address).then(
        (refused) => {
          if (refused) return callback(refused.code, false);
          if (!connections.reserve(address)) return callback("too_many_connections", false);
          handshake.prepaid(req);
          callback(null, true);
        },
        () => callback("store_unavailable", false),
      );
    },
    cors: { origin: [...origins.allowedOrigins], credentials: true },
  });
  // Engine.IO runs its middlewares for every HTTP request and every upgrade, before anything else.
  io.engine.use(
    (
      req: IncomingMessage & { _query?: Record<string, string> },
      res: ServerResponse | object,
      next: (error?: Error) => void,
    ) => {
      const refusal =
        req._query?.j !== undefined
          ? new SoloError("invalid_request", {}, "JSONP polling is not supported.")
          : !originAllowed(req, origins)
            ? new SoloError("origin_not_allowed")
            : null;
      if (!refusal) return next();
      refuse(req, res, refusal);
      next(refusal);
    },
  );
  const idle = new IdleConnections(deps.handshakeTimeout);
  io.engine.on("connection", (conn: EngineConnection) => {
    const closed = connections.opened(clientAddress(conn.request, origins.trustProxy));
    idle.watch(conn);
    conn.once("close", () => {
      closed();
      idle.forget(conn);
    });
  });
  io.on("new_namespace", (nsp) => nsp.on("connection", (socket) => idle.joined(socket)));
  handshake.refuseAll(io.of("/"));
  return io;
}

/** Answers a refused Engine.IO request itself, with the solo-session code (see {@link createIoServer}). */
function refuse(req: IncomingMessage, res: ServerResponse | object, error: SoloError): void {
  if (res instanceof ServerResponse) {
    if (res.headersSent) return;
    res.writeHead(error.status, { "Content-Type": "application/json" });
    // Engine.IO's own codes: 3 is "Bad request", 4 "Forbidden".
    res.end(JSON.stringify({ code: error.status === 400 ? 3 : 4, message: error.code }));
    return;
  }
  const socket = req.socket;
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${error.status} ${error.status === 400 ? "Bad Request" : "Forbidden"}\r\n` +
        `Connection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(error.code)}\r\n\r\n${error.code}`,
    );
  }
  socket.destroy();
}

/**
 * Closes Engine.IO connections that hold no namespace socket: `timeout` ms after opening,
 * and again after their last socket left (a client can leave a namespace and keep the
 * connection). Socket.IO's own `connectTimeout` only covers the first join.
 */
class IdleConnections {
  readonly #timeout: number;
  readonly #state = new Map<EngineConnection, { sockets: number; timer: NodeJS.Timeout | null }>();

  constructor(timeout: number) {
    this.#timeout = timeout;
  }

  watch(conn: EngineConnection): void {
    const state = { sockets: 0, timer: null };
    this.#state.set(conn, state);
    this.#arm(conn, state);
  }

  joined(socket: Socket): void {
    const state = this.#state.get(socket.conn);
    if (!state) return;
    state.sockets++;
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
    socket.once("disconnect", () => {
      state.sockets--;
      if (state.sockets === 0 && this.#state.get(socket.conn) === state) this.#arm(socket.conn, state);
    });
  }

  forget(conn: EngineConnection): void {
    const state = this.#state.get(conn);
    if (state?.timer) clearTimeout(state.timer);
    this.#state.delete(conn);
  }

  #arm(conn: EngineConnection, state: { sockets: number; timer: NodeJS.Timeout | null }): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = null;
      if (state.sockets === 0) conn.close();
    }, this.#timeout);
    state.timer.unref();
  }
}
