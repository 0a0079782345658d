import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import express from "express";
import { createSoloServer, type SoloServer } from "../server/index.js";
import { createLogger } from "../server/observability/logger.js";
import { readEnv } from "./env.js";
import { DEMO_ACCOUNTS, DemoUsers } from "./users.js";

/** A running standalone server. */
export interface Standalone {
  url: string;
  /** Whether the demo page is served (it is built in the repository, not shipped in the package). */
  demo: boolean;
  http: Server;
  solo: SoloServer;
  /** The Socket.IO server attached to `http`. */
  io: ReturnType<SoloServer["attach"]>;
  close(): Promise<void>;
}

/** Overrides for tests. */
export interface StandaloneOverrides {
  /** Directory of the built demo page. @default dist/demo */
  demoDir?: string;
  /** Extra options for createSoloServer (e.g. an injected clock). */
  solo?: Partial<Parameters<typeof createSoloServer>[0]>;
}

/**
 * The standalone server behind `npm start`: demo users, the store from `SOLO_STORE`
 * (SQLite by default), `/auth`, `/healthz`, `/readyz`, `/metrics`, an example existing API
 * (`GET /api/notes` behind `requireSession()`), and the demo page.
 */
export async function startStandalone(
  env: NodeJS.ProcessEnv,
  overrides: StandaloneOverrides = {},
): Promise<Standalone> {
  const config = readEnv(env);
  const logger = overrides.solo?.logger ?? createLogger(config.logLevel);
  const users = await DemoUsers.create(DEMO_ACCOUNTS);
  const solo = createSoloServer({
    ...config.options,
    logger,
    ...overrides.solo,
    authenticate: users.authenticate,
  });
  try {
    await solo.ready;
  } catch (error) {
    await solo.close();
    throw error;
  }

  const app = express();
  app.disable("x-powered-by");
  // Behind one TLS-terminating proxy: req.ip is the address that proxy saw (the last
  // X-Forwarded-For entry), never an entry the client could have written.
  if (config.options.trustProxy) app.set("trust proxy", 1);
  app.use(securityHeaders);
  app.use(solo.health);
  // Unauthenticated, like most exporters: counts only, no user data. Keep it behind the network.
  app.get("/metrics", solo.metrics);
  app.use("/auth", solo.router);
  app.get("/api/notes", solo.requireSession(), (req, res) => {
    const userId = req.solo?.userId ?? "";
    res.set("Cache-Control", "no-store");
    res.json({
      user: userId,
      notes: [
        {
          id: 1,
          title: `Welcome back, ${userId}`,
          body: "This list comes from GET /api/notes, behind requireSession().",
        },
        {
          id: 2,
          title: "One session per user",
          body: "Sign in as the same user in another browser and watch this tab.",
        },
      ],
    });
  });

  app.use("/api", solo.errorHandler());

  const demoDir = overrides.demoDir ?? findDemoDir();
  if (demoDir) app.use(express.static(demoDir, { index: "index.html" }));
  else app.get("/", (_req, res) => res.type("text").send(NO_DEMO_PAGE));

  const http = createServer(app);
  const io = solo.attach(http);
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  logger.info({ url, store: config.options.store }, "solo-session standalone server listening");
  if (!isLoopback(config.host) && config.options.publicOrigin === undefined) {
    // Reachable beyond this machine, the own origin comes from each request's Host header,
    // which a DNS-rebinding page chooses.
    logger.warn(
      { event: "public_origin_missing", host: config.host },
      "listening beyond loopback without SOLO_PUBLIC_ORIGIN: the Host header decides the server's own origin; set SOLO_PUBLIC_ORIGIN",
    );
  }

  return {
    url,
    demo: demoDir !== null,
    http,
    solo,
    io,
    async close() {
      await solo.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** What `GET /` says without the demo page (the package, run with `npx solo-session`, has none). */
const NO_DEMO_PAGE = [
  "solo-session standalone server.",
  "",
  "POST /auth/login, GET /auth/session, POST /auth/logout, GET /auth/jwks.json; GET /api/notes behind requireSession().",
  'Demo users: alice, bob, carol (password "demo") and admin (password "admin").',
  "Point a frontend built on @solo-session/client at it (a dev server's origin goes in SOLO_ALLOWED_ORIGINS).",
  "The demo page is built in the repository: npm run build:demo.",
  "",
].join("\n");

/** Whether the listening host is a loopback name or address (only this machine reaches it). */
function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}

function findDemoDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [join(here, "../demo"), join(here, "../dist/demo")]) {
    if (existsSync(join(dir, "index.html"))) return dir;
  }
  return null;
}

function securityHeaders(_req: express.Request, res: express.Response, next: express.NextFunction): void {
  res.set({
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy":
      "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  });
  next();
}
