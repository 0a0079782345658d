import { io, type Socket } from "socket.io-client";
import { expect } from "vitest";
import type {
  AdminAuditResponse,
  AdminClientToServerEvents,
  AdminServerToClientEvents,
  AuditEventView,
  RevocationNotice,
} from "../../protocol/index.js";
import { type ClientSocket, call, login } from "./client.js";
import type { TestServer } from "./server.js";

export type AdminSocket = Socket<AdminServerToClientEvents, AdminClientToServerEvents>;

/** Signs in as the demo admin; returns the token. */
export async function adminToken(url: string): Promise<string> {
  return (await login(url, { username: "admin", password: "admin" })).token;
}

/** The audit trail through the admin API (newest first); fails the test on a non-200. */
export async function auditTrail(
  url: string,
  token: string,
  query: Record<string, string> = {},
): Promise<AuditEventView[]> {
  const res = await call(url, `/auth/admin/audit?${new URLSearchParams(query)}`, token);
  expect(res.status).toBe(200);
  return (res.body as AdminAuditResponse).events;
}

/** The event that ended a session, or undefined. */
export async function endingEvent(url: string, token: string, sessionId: string): Promise<AuditEventView | undefined> {
  const events = await auditTrail(url, token, { session: sessionId });
  return events.find((e) => e.kind !== "login" && e.kind !== "login_refused");
}

/** Resolves with the next `session:revoked` and its ack, without acknowledging it. */
export function heldRevocation(
  socket: ClientSocket,
  ms = 5000,
): Promise<{ notice: RevocationNotice; ack: () => void }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no session:revoked")), ms);
    socket.once("session:revoked", (notice, ack) => {
      clearTimeout(timer);
      resolve({ notice, ack });
    });
  });
}

/** Connects to the admin feed with a token; rejects with the connect_error. */
export function connectAdmin(url: string, token: string): Promise<AdminSocket> {
  const socket: AdminSocket = io(`${url}/admin`, {
    auth: { token },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** One scrape of `/metrics`: each sample line as `name{labels}` → value. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** A sample's value; fails the test when the series is missing. */
export function sample(samples: Map<string, number>, series: string): number {
  const value = samples.get(series);
  expect(value, `${series} is exported`).toBeTypeOf("number");
  return value as number;
}

/** A node's `solo_redis_up`, as its `/metrics` renders it (null when not exported). */
export async function redisUp(node: TestServer): Promise<number | null> {
  const match = /^solo_redis_up (\d+)$/m.exec(await node.solo.registry.metrics());
  return match ? Number(match[1]) : null;
}
