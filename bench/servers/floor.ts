/**
 * The floor: a bare Express + Socket.IO server doing the least a kick needs. Clients connect to
 * `/session` with `auth: { room }` and join that room; `POST /kick` with `{ room }` emits
 * `session:revoked` (same payload shape and size as ours, with an acknowledgement) to the
 * room and answers 200. `GET /hello` is the same bare route as the solo bench server's.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import express from "express";
import { Server } from "socket.io";
import { serve } from "./control.js";

const app = express();
const http = createServer(app);
const io = new Server(http, { serveClient: false });
const nsp = io.of("/session");
// Experiment knob: the memory lever of Socket.IO's "Memory usage" page (drop the first HTTP request).
if (process.env.FLOOR_RELEASE_REQUEST === "1") {
  io.engine.on("connection", (raw: { request: unknown }) => {
    raw.request = null;
  });
}
nsp.on("connection", (socket) => {
  const room = (socket.handshake.auth as { room?: unknown }).room;
  if (typeof room === "string") socket.join(room);
});

app.post("/kick", express.json(), (req, res) => {
  const room = (req.body as { room?: unknown } | undefined)?.room;
  if (typeof room !== "string") {
    res.status(400).json({ error: "invalid_request" });
    return;
  }
  const at = new Date().toISOString();
  const notice = {
    reason: "replaced",
    sessionId: randomBytes(16).toString("base64url"),
    at,
    by: { device: { name: null, browser: "Chrome 131", os: "macOS 10.15.7", ip: "127.0.0.1" }, at },
  };
  nsp
    .to(room)
    .timeout(3000)
    .emit("session:revoked", notice, () => {});
  res.status(200).json({ ok: true });
});
app.get("/hello", (_req, res) => {
  res.json({ hello: "world" });
});

await serve(
  http,
  { module: "express + socket.io", adapter: nsp.adapter.constructor.name },
  () => nsp.sockets.size,
  async () => {
    await new Promise<void>((resolve) => io.close(() => resolve()));
  },
);
