import { rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createSoloServer, SoloError, type SoloServer, type SoloServerOptions } from "../../server/index.js";
import { call, connect, nextRevocation } from "../support/client.js";
import { testResources } from "../support/resources.js";
import { tempDir } from "../support/server.js";

// solo-session beside an app that already has its own login route, its own token scheme
// (`Authorization: Token <jwt>`, as in the RealWorld API), its own error format and anonymous
// reads that it personalises when signed in. The app's routes are the app's; solo-session only
// starts, checks and ends the sessions.

const { track } = testResources();

/** The app's users: numeric ids, as in every SQL table. */
const USERS = new Map([
  ["alice@example.com", { id: 42, password: "secret", roles: ["author"] }],
  ["bob@example.com", { id: 7, password: "secret", roles: [] as string[] }],
]);

interface ExistingApp {
  url: string;
  solo: SoloServer;
  close(): Promise<void>;
}

/** The app: its own /users/login and /users/logout, its own `{ errors: { code: [...] } }` format. */
async function existingApp(options: Partial<SoloServerOptions> = {}): Promise<ExistingApp> {
  const dataDir = tempDir();
  const solo = createSoloServer({
    logger: pino({ level: "silent" }),
    dataDir,
    token: { schemes: ["Token"] },
    ...options,
  });
  const app = express();
  app.use("/auth", solo.router);
  app.use(express.json());
  app.post("/users/login", async (req, res, next) => {
    try {
      const { email, password } = (req.body?.user ?? {}) as { email?: string; password?: string };
      const user = USERS.get(String(email));
      if (!user || user.password !== password) {
        res.status(422).json({ errors: { "email or password": ["is invalid"] } });
        return;
      }
      const { token, session } = await solo.startSession(req, res, { userId: user.id, roles: user.roles });
      res.json({ user: { email, token, session: session.id } });
    } catch (error) {
      next(error);
    }
  });
  app.post("/users/logout", async (req, res, next) => {
    try {
      res.json({ ended: await solo.endSession(req, res) });
    } catch (error) {
      next(error);
    }
  });
  app.get("/articles", solo.requireSession({ optional: true }), (req, res) => {
    res.json({ articles: [], personalisedFor: req.solo?.userId ?? null });
  });
  app.get("/user", solo.requireSession(), (req, res) => {
    res.json({ user: { id: req.solo?.userId, roles: req.solo?.roles } });
  });
  app.post("/articles", solo.requireSession({ roles: ["author", "editor"] }), (_req, res) => {
    res.status(201).json({ article: {} });
  });
  // The app's own error format, for solo-session's refusals too.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(error instanceof SoloError)) {
      next(error);
      return;
    }
    res.status(error.status).json({ errors: { [error.code]: [error.message] }, by: error.details.by ?? null });
  });
  const http: Server = createServer(app);
  solo.attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
  const served: ExistingApp = {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    solo,
    async close() {
      await solo.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return track(served);
}

async function appLogin(url: string, email: string) {
  const res = await fetch(`${url}/users/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: { email, password: "secret" } }),
  });
  return { status: res.status, body: (await res.json()) as { user: { token: string; session: string } } };
}

const tokenHeader = (token: string) => ({ authorization: `Token ${token}` });

describe("an app that keeps its own login route", () => {
  it("starts sessions through startSession: the second login kicks the first, whose token the app then refuses in its own format", async () => {
    const app = await existingApp();
    const first = await appLogin(app.url, "alice@example.com");
    expect(first.status).toBe(200);
    // The numeric id is the session's user id, as a string.
    const me = await call(app.url, "/user", null, { headers: tokenHeader(first.body.user.token) });
    expect(me).toMatchObject({ status: 200, body: { user: { id: "42", roles: ["author"] } } });

    const socket = track(await connect(app.url, first.body.user.token));
    const revoked = nextRevocation(socket);
    const second = await appLogin(app.url, "alice@example.com");
    expect(second.status).toBe(200);
    const notice = await revoked;
    expect(notice).toMatchObject({ reason: "replaced", sessionId: first.body.user.session });

    const old = await call(app.url, "/user", null, { headers: tokenHeader(first.body.user.token) });
    expect(old.status).toBe(401);
    expect(Object.keys((old.body as { errors: object }).errors)).toEqual(["session_replaced"]);
    expect((old.body as { by: unknown }).by).not.toBeNull();
    expect((await call(app.url, "/user", null, { headers: tokenHeader(second.body.user.token) })).status).toBe(200);
  });

  it("reads the token under the app's scheme only: Token works, a Bearer or malformed header is invalid_token", async () => {
    const app = await existingApp();
    const { body } = await appLogin(app.url, "bob@example.com");
    const codes = async (authorization: string) => {
      const res = await call(app.url, "/user", null, { headers: { authorization } });
      return [res.status, Object.keys((res.body as { errors?: object }).errors ?? {})[0] ?? "ok"];
    };
    expect(await codes(`Token ${body.user.token}`)).toEqual([200, "ok"]);
    expect(await codes(`token ${body.user.token}`)).toEqual([200, "ok"]);
    expect(await codes(`Bearer ${body.user.token}`)).toEqual([401, "invalid_token"]);
    expect(await codes(`Token ${body.user.token} extra`)).toEqual([401, "invalid_token"]);
    expect(await codes("Token")).toEqual([401, "invalid_token"]);
  });

  it("serves anonymous reads with optional auth, personalises signed-in ones, and still refuses an ended session's token", async () => {
    const app = await existingApp();
    const anonymous = await call(app.url, "/articles", null);
    expect(anonymous).toMatchObject({ status: 200, body: { personalisedFor: null } });
    const first = await appLogin(app.url, "alice@example.com");
    const signedIn = await call(app.url, "/articles", null, { headers: tokenHeader(first.body.user.token) });
    expect(signedIn).toMatchObject({ status: 200, body: { personalisedFor: "42" } });
    await appLogin(app.url, "alice@example.com");
    const ended = await call(app.url, "/articles", null, { headers: tokenHeader(first.body.user.token) });
    expect(ended.status).toBe(401);
    expect(Object.keys((ended.body as { errors: object }).errors)).toEqual(["session_replaced"]);
    const malformed = await call(app.url, "/articles", null, { headers: { authorization: "Token a b" } });
    expect(Object.keys((malformed.body as { errors: object }).errors)).toEqual(["invalid_token"]);
  });

  it("refuses a user without one of the roles with 403 forbidden", async () => {
    const app = await existingApp();
    const bob = await appLogin(app.url, "bob@example.com");
    const alice = await appLogin(app.url, "alice@example.com");
    const post = (token: string) => call(app.url, "/articles", null, { method: "POST", headers: tokenHeader(token) });
    const refused = await post(bob.body.user.token);
    expect(refused.status).toBe(403);
    expect(Object.keys((refused.body as { errors: object }).errors)).toEqual(["forbidden"]);
    expect((await post(alice.body.user.token)).status).toBe(201);
  });

  it("ends the session from the app's own logout; a second logout is idempotent", async () => {
    const app = await existingApp();
    const { body } = await appLogin(app.url, "bob@example.com");
    const logout = () =>
      call(app.url, "/users/logout", null, { method: "POST", headers: tokenHeader(body.user.token) });
    expect(await logout()).toMatchObject({ status: 200, body: { ended: true } });
    expect(await logout()).toMatchObject({ status: 200, body: { ended: false } });
    const after = await call(app.url, "/user", null, { headers: tokenHeader(body.user.token) });
    expect(Object.keys((after.body as { errors: object }).errors)).toEqual(["session_revoked"]);
  });

  it("answers POST /auth/login with 404 not_found when the app has no authenticate", async () => {
    const app = await existingApp();
    const res = await fetch(`${app.url}/auth/login`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe("not_found");
  });

  it("reads the token with the app's own function when given one", async () => {
    const app = await existingApp({
      token: {
        read: (req) => {
          const value = req.headers["x-session"];
          if (value === undefined) return null;
          if (typeof value !== "string" || !value.startsWith("v1.")) throw new SoloError("invalid_token");
          return value.slice(3);
        },
      },
    });
    const { body } = await appLogin(app.url, "bob@example.com");
    expect((await call(app.url, "/user", null, { headers: { "x-session": `v1.${body.user.token}` } })).status).toBe(
      200,
    );
    const bad = await call(app.url, "/user", null, { headers: { "x-session": body.user.token } });
    expect(Object.keys((bad.body as { errors: object }).errors)).toEqual(["invalid_token"]);
    const none = await call(app.url, "/user", null, { headers: tokenHeader(body.user.token) });
    expect(Object.keys((none.body as { errors: object }).errors)).toEqual(["missing_token"]);
  });

  it("hands a refusal to onError when given, instead of next(error)", async () => {
    const solo = createSoloServer({ logger: pino({ level: "silent" }), store: "memory" });
    track({ close: () => solo.close() });
    const seen: string[] = [];
    const middleware = solo.requireSession({
      onError: (error, _req, res) => {
        seen.push(error.code);
        res.status(error.status).send(error.code);
      },
    });
    const app = express().get("/x", middleware, (_req, res) => res.send("ok"));
    const http = createServer(app);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
    track({ close: () => http.close() });
    const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/x`);
    expect([res.status, await res.text()]).toEqual([401, "missing_token"]);
    expect(seen).toEqual(["missing_token"]);
  });
});

describe("creation", () => {
  it("is synchronous: routes mount at once, requests that come before ready wait for it", async () => {
    const dataDir = tempDir();
    const solo = createSoloServer({ logger: pino({ level: "silent" }), dataDir });
    track({ close: () => solo.close().finally(() => rmSync(dataDir, { recursive: true, force: true })) });
    const app = express().use("/auth", solo.router);
    const http = createServer(app);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
    track({ close: () => http.close() });
    // The keys are generated in the background; the JWKS answer waits for them.
    const jwks = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/auth/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys).toHaveLength(1);
    await expect(solo.ready).resolves.toBeUndefined();
  });

  it("refuses a malformed user from startSession as a bug (TypeError), opening no session", async () => {
    const app = await existingApp();
    const req = { get: () => undefined, ip: "127.0.0.1", headers: {}, socket: {} } as unknown as Request;
    const res = { cookie: () => res } as unknown as Response;
    for (const user of [
      { userId: "" },
      { userId: Number.NaN },
      { userId: "x".repeat(257) },
      { userId: "a", roles: [1] },
    ]) {
      await expect(app.solo.startSession(req, res, user as never)).rejects.toThrow(TypeError);
    }
    expect(await app.solo.store.countLive()).toBe(0);
  });

  it("checks the token option at construction, with a TypeError naming it", () => {
    for (const token of [{ schemes: [] }, { schemes: ["Bad Scheme"] }, { cookie: "yes" }, { read: "header" }]) {
      expect(() => createSoloServer({ store: "memory", token } as unknown as SoloServerOptions)).toThrow(
        /options\.token/,
      );
    }
  });
});
