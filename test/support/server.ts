import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { pino } from "pino";
import { createSoloServer, type SoloServer, type SoloServerOptions } from "../../server/index.js";
import { DEMO_ACCOUNTS, DemoUsers } from "../../standalone/users.js";

/** A real solo-session server on a free port, with the demo users and `GET /api/notes`. */
export interface TestServer {
  /** `http://127.0.0.1:<port>`, or `https://` with `tls`. */
  url: string;
  port: number;
  http: Server | HttpsServer;
  solo: SoloServer;
  /** The Socket.IO server `solo.attach()` made: the server's side of each socket. */
  io: ReturnType<SoloServer["attach"]>;
  dataDir: string;
  /**
   * Stops the server (a second call waits for the first); keeps the data directory (for
   * restart tests) unless `removeData`.
   */
  close(options?: { removeData?: boolean }): Promise<void>;
}

/** Options of {@link startTestServer}: the server's own, and where it listens. */
export type TestServerOptions = Partial<SoloServerOptions> & {
  /** Listen on this port (a restart on the port of a closed server). @default a free port */
  port?: number;
  /** Serve https with this certificate and key (PEM). @default plain http */
  tls?: { cert: string; key: string };
};

let users: Promise<DemoUsers> | null = null;
function demoUsers(): Promise<DemoUsers> {
  users ??= DemoUsers.create(DEMO_ACCOUNTS);
  return users;
}

/** A fresh temporary directory, removed by the caller (or by `close({ removeData: true })`). */
export function tempDir(prefix = "solo-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Starts a server on 127.0.0.1:0. Defaults: SQLite in a fresh temp directory, silent logs.
 * Pass `dataDir` to reuse a directory (restart tests), `port` to reuse a port. Tests start
 * it through `testResources().server()`, which closes it after the test.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { port: wantedPort, tls, ...rest } = options;
  const dataDir = rest.dataDir ?? tempDir();
  const authenticate = (await demoUsers()).authenticate;
  const solo = createSoloServer({ logger: pino({ level: "silent" }), authenticate, ...rest, dataDir });
  try {
    await solo.ready;
  } catch (error) {
    await solo.close();
    throw error;
  }
  const app = express();
  app.use("/auth", solo.router);
  app.get("/api/notes", solo.requireSession(), (req, res) => {
    res.json({ user: req.solo?.userId, notes: [] });
  });
  app.post("/api/notes", solo.requireSession(), (req, res) => {
    res.status(201).json({ user: req.solo?.userId });
  });
  app.use(solo.errorHandler());
  const http = tls ? createHttpsServer(tls, app) : createServer(app);
  const io = solo.attach(http);
  await new Promise<void>((resolve) => http.listen(wantedPort ?? 0, "127.0.0.1", () => resolve()));
  const { port } = http.address() as AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    http,
    solo,
    io,
    dataDir,
    async close({ removeData = false } = {}) {
      closing ??= (async () => {
        await solo.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })();
      await closing;
      if (removeData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves once the server has handled the disconnect of each `/session` socket of
 * `sessionId` it holds now: its own `disconnect` handling, registered first, has run. Call it
 * before the client closes, then await it instead of waiting for the server to notice.
 */
export function disconnectHandled(server: Pick<TestServer, "io">, sessionId: string): Promise<void> {
  const held = [...server.io.of("/session").sockets.values()].filter((s) => s.data.sessionId === sessionId);
  if (held.length === 0) throw new Error(`the server holds no socket of ${sessionId}`);
  return Promise.all(held.map((s) => new Promise<void>((resolve) => s.once("disconnect", () => resolve())))).then(
    () => undefined,
  );
}
