/**
 * The session channel: one Socket.IO connection to the `/session` namespace while signed in.
 * It only moves events; the client decides what they mean. Only the leader tab opens it.
 * Replaceable through the `transport` option (tests).
 *
 * @module
 */

import { io, type Socket } from "socket.io-client";
import {
  type ClientToServerEvents,
  type ConnectErrorData,
  EVENTS,
  isErrorCode,
  type RevocationNotice,
  SESSION_NAMESPACE,
  type ServerToClientEvents,
  type Transport,
} from "solo-session/protocol";

/**
 * What the channel tells its owner.
 *
 * @example
 * ```ts
 * const handlers: ChannelHandlers = { connected() {}, disconnected() {}, revoked(n) {}, refused(d) {} };
 * ```
 */
export interface ChannelHandlers {
  /** Connected (first time or again). */
  connected(): void;
  /**
   * Lost. `network`: the connection broke and Socket.IO reconnects by itself.
   * `server`: the server closed it without a notice (another connection of the same session
   * took over, or the server is shutting down); nothing reconnects until `reconnect()`.
   */
  disconnected(cause: "network" | "server"): void;
  /** `session:revoked` arrived; it has been acknowledged. */
  revoked(notice: RevocationNotice): void;
  /** The server refused the handshake; nothing reconnects until `reconnect()`. */
  refused(data: ConnectErrorData): void;
}

/**
 * A running channel.
 *
 * @example
 * ```ts
 * const channel: Channel = socketChannel(options, handlers);
 * channel.close();
 * ```
 */
export interface Channel {
  /** Tells the server the person interacted (the caller rate-limits). */
  activity(): void;
  /** Connects again now (after `pause()`, a refusal, or a server disconnect). */
  reconnect(): void;
  /** Drops the connection without reconnecting (the browser went offline). */
  pause(): void;
  /** Closes for good. */
  close(): void;
}

/**
 * Where and how to connect.
 *
 * @example
 * ```ts
 * const options: ChannelOptions = { url: "https://app.example", path: "/socket.io", transports: ["websocket"], token: null, reconnectDelay: 1000, reconnectDelayMax: 30000 };
 * ```
 */
export interface ChannelOptions {
  /** Origin of the Socket.IO server. */
  url: string;
  /** Socket.IO path. */
  path: string;
  /** Engine.IO transports, in the order tried. */
  transports: readonly Transport[];
  /** The session token if the page has it; otherwise the cookie is sent. */
  token: string | null;
  reconnectDelay: number;
  reconnectDelayMax: number;
}

/**
 * Makes a channel: the `transport` option (tests replace Socket.IO with a fake).
 *
 * @example
 * ```ts
 * const transport: ChannelFactory = (options, handlers) => ({ activity() {}, reconnect() {}, pause() {}, close() {} });
 * createSoloClient({ transport });
 * ```
 */
export type ChannelFactory = (options: ChannelOptions, handlers: ChannelHandlers) => Channel;

type SessionSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * The Socket.IO channel. Socket.IO's own reconnection (with backoff and jitter) covers a
 * broken connection; refusals and server disconnects are left to the owner.
 *
 * @example
 * ```ts
 * const channel = socketChannel({ url: location.origin, path: "/socket.io", transports: ["websocket"], token: null, reconnectDelay: 1000, reconnectDelayMax: 30000 }, handlers);
 * ```
 */
export const socketChannel: ChannelFactory = (options, handlers) => {
  const socket: SessionSocket = io(options.url + SESSION_NAMESPACE, {
    path: options.path,
    transports: options.transports as Transport[],
    // The token goes in the handshake body, never the URL; without it the cookie is used.
    auth: options.token === null ? {} : { token: options.token },
    withCredentials: true,
    forceNew: true,
    reconnectionDelay: options.reconnectDelay,
    reconnectionDelayMax: options.reconnectDelayMax, // with Socket.IO's jitter (randomizationFactor 0.5)
  });
  let closed = false;
  socket.on("connect", () => handlers.connected());
  socket.on("disconnect", (reason) => {
    if (closed || reason === "io client disconnect") return;
    handlers.disconnected(reason === "io server disconnect" ? "server" : "network");
  });
  socket.on("connect_error", (error: Error & { data?: unknown }) => {
    // With data, the namespace middleware refused us (Socket.IO will not retry); without,
    // the transport failed and Socket.IO retries by itself.
    if (closed || socket.active) return;
    handlers.refused(refusal(error));
  });
  socket.on(EVENTS.revoked, (notice, ack) => {
    ack();
    if (!closed) handlers.revoked(notice);
  });
  return {
    activity: () => {
      if (socket.connected) socket.emit(EVENTS.activity);
    },
    reconnect: () => {
      if (closed) return;
      socket.disconnect();
      socket.connect();
    },
    pause: () => {
      if (!closed) socket.disconnect();
    },
    close: () => {
      closed = true;
      socket.disconnect();
      socket.removeAllListeners();
    },
  };
};

function refusal(error: Error & { data?: unknown }): ConnectErrorData {
  const data = error.data as Partial<ConnectErrorData> | undefined;
  if (data && isErrorCode(data.code)) return { ...(data as ConnectErrorData), message: String(data.message ?? "") };
  const code = isErrorCode(error.message) ? error.message : "internal_error";
  return { code, message: error.message };
}
