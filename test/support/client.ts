import { io, type Socket } from "socket.io-client";
import type {
  ClientToServerEvents,
  ConnectErrorData,
  ErrorBody,
  LoginResponse,
  RevocationNotice,
  ServerToClientEvents,
} from "../../protocol/index.js";

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Default test User-Agents, so device descriptions are predictable. */
export const UA = {
  firefoxWindows: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
  chromeMac:
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
} as const;

/** Logs in; throws with the error body on a non-200. */
export async function login(
  baseUrl: string,
  body: Record<string, unknown> = { username: "alice", password: "demo" },
  headers: Record<string, string> = {},
): Promise<LoginResponse & { cookie: string | null }> {
  const res = await fetch(`${baseUrl}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": UA.chromeMac, ...headers },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as LoginResponse | ErrorBody;
  if (res.status !== 200) throw Object.assign(new Error(`login ${res.status}`), { status: res.status, body: json });
  return { ...(json as LoginResponse), cookie: res.headers.get("set-cookie") };
}

/** A request with a bearer token; returns status and parsed JSON (or null). */
export async function call(
  baseUrl: string,
  path: string,
  token: string | null,
  init: RequestInit = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  const res = await fetch(`${baseUrl}${path}`, { ...init, headers });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

/** Connects to `/session` with a token; resolves once connected, rejects with the connect_error. */
export function connect(
  baseUrl: string,
  token: string | null,
  extra: Parameters<typeof io>[1] = {},
): Promise<ClientSocket> {
  const socket: ClientSocket = io(`${baseUrl}/session`, {
    auth: token === null ? {} : { token },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    ...extra,
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** The connect_error a token gets on the handshake. */
export async function handshakeError(
  baseUrl: string,
  token: string | null,
  extra: Parameters<typeof io>[1] = {},
): Promise<Error & { data?: ConnectErrorData }> {
  try {
    const socket = await connect(baseUrl, token, extra);
    socket.close();
  } catch (error) {
    return error as Error & { data?: ConnectErrorData };
  }
  throw new Error("handshake was accepted");
}

/** Resolves with the next `session:revoked`, acknowledging it; rejects after `ms`. */
export function nextRevocation(socket: ClientSocket, ms = 5000): Promise<RevocationNotice> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no session:revoked")), ms);
    socket.once("session:revoked", (notice, ack) => {
      clearTimeout(timer);
      ack();
      resolve(notice);
    });
  });
}

/** Resolves with the disconnect reason; rejects after `ms`. */
export function nextDisconnect(socket: ClientSocket, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    if (socket.disconnected) {
      resolve("already disconnected");
      return;
    }
    const timer = setTimeout(() => reject(new Error("no disconnect")), ms);
    socket.once("disconnect", (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}
