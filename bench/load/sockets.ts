import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../../protocol/index.js";
import type { ServerKind } from "../lib/messages.js";

export type BenchSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Connects one client to `/session` over the websocket transport, as the SDK does: with the
 * session token for our server, with the room name for the floor. Resolves once connected.
 */
export function connectSocket(kind: ServerKind, baseUrl: string, credential: string, timeoutMs = 20_000) {
  const socket: BenchSocket = io(`${baseUrl}/session`, {
    auth: kind === "solo" ? { token: credential } : { room: credential },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
  });
  return new Promise<BenchSocket>((resolve, reject) => {
    socket.once("connect", () => {
      socket.off("connect_error");
      resolve(socket);
    });
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}
