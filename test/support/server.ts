import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { pino } from "pino";
import { createSoloServer, type SoloServer, type SoloServerOptions } from "../../server/index.js";
import { DEMO_ACCOUNTS, DemoUsers } from "../../standalone/users.js";

/** A real solo-session server on a free port, with the demo users and `GET /api/notes`. */
export interface TestServer {
  url: string;
  port: number;
  http: Server;
  solo: SoloServer;
  dataDir: string;
  /** Stops the server; keeps the data directory (for restart tests) unless `removeData`. */
  close(options?: { removeData?: boolean }): Promise<void>;
}

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
 * Pass `dataDir` to reuse a directory (restart tests), `port` to reuse a port.
 */
export async function startTestServer(
  options: Partial<SoloServerOptions> & { port?: number } = {},
): Promise<TestServer> {
  const { port: wantedPort, ...rest } = options;
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
  const http = createServer(app);
  solo.attach(http);
  await new Promise<void>((resolve) => http.listen(wantedPort ?? 0, "127.0.0.1", () => resolve()));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    http,
    solo,
    dataDir,
    async close({ removeData = false } = {}) {
      await solo.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      if (removeData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
