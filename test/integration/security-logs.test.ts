import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { AuthenticatedUser, Credentials } from "../../server/index.js";
import { createLogger, LOG_ID_LENGTH, logId } from "../../server/observability/logger.js";
import { call, handshakeError, login } from "../support/client.js";
import { testResources } from "../support/resources.js";

// Log hygiene: no token, password or raw session id in any line solo-session writes, at the
// most verbose level, through a whole life of logins, refusals, floods, kicks and failures.

const PASSWORD = "Tr0ub4dor&3-horse";

const { server, socketFor } = testResources();

/** A writable stream that keeps what pino writes. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString("utf8"));
      callback();
    },
  });
  return { stream, text: () => chunks.join("") };
}

const authenticate = (credentials: Credentials): AuthenticatedUser | null => {
  if (credentials.username === "boom") throw new Error("the user directory is down");
  return credentials.password === PASSWORD && typeof credentials.username === "string"
    ? { userId: credentials.username }
    : null;
};

describe("logs", () => {
  it("never carry tokens, passwords or raw session ids; session ids appear hashed", async () => {
    const out = sink();
    const srv = await server({
      authenticate,
      logger: pino({ level: "trace" }, out.stream),
      rateLimit: {
        loginPerUser: { points: 3, duration: 60_000 },
        handshakePerSession: { points: 1, duration: 60_000 },
      },
    });
    const secrets: string[] = [PASSWORD];
    const sessionIds: string[] = [];
    const first = await login(srv.url, { username: "alice", password: PASSWORD });
    secrets.push(first.token);
    sessionIds.push(first.session.id);
    const socket = await socketFor(srv.url, first.token);
    // A second handshake for the session is a flood here: refused, and logged with the hashed id.
    expect((await handshakeError(srv.url, first.token)).message).toBe("too_many_connections");
    // Wrong passwords until the limit.
    for (let i = 0; i < 5; i++) {
      await call(srv.url, "/auth/login", null, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "alice", password: `${PASSWORD}-${i}` }),
      });
    }
    // A failing authenticate (500 internal_error, logged with its error).
    const boom = await call(srv.url, "/auth/login", null, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "boom", password: PASSWORD }),
    });
    expect(boom.status).toBe(500);
    // A kick and a logout.
    const second = await login(srv.url, { username: "bob", password: PASSWORD });
    secrets.push(second.token);
    sessionIds.push(second.session.id);
    await call(srv.url, "/auth/logout", second.token, { method: "POST" });
    // Refused tokens, in the header and in the cookie.
    await call(srv.url, "/auth/session", first.token.slice(0, -2));
    await call(srv.url, "/api/notes", null, { headers: { cookie: `solo_session=${second.token}` } });
    socket.close();
    await srv.solo.reloadKeys();
    await srv.close(); // closing logs too

    const text = out.text();
    const lines = text.trim().split("\n");
    // The scenario did log: the flood, the rate limit and the failing authenticate at least.
    expect(text).toContain("session handshake flood refused");
    expect(text).toContain("login rate limited");
    expect(text).toContain("the user directory is down");
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const secret of secrets) expect(text).not.toContain(secret);
    for (const secret of secrets) expect(text).not.toContain(secret.split(".")[2]); // nor a signature alone
    for (const id of sessionIds) expect(text).not.toContain(id);
    expect(text).toContain(logId(sessionIds[0] as string));
  });

  it("the default logger redacts credentials in the usual places", () => {
    const out = sink();
    const logger = createLogger("info", out.stream);
    logger.info(
      {
        req: { headers: { authorization: "Bearer eyJ.secret.token", cookie: "solo_session=eyJ.cookie.token" } },
        token: "eyJ.top.level",
        body: { password: "hunter2", token: "eyJ.nested" },
        credentials: { username: "alice", password: "hunter3" },
      },
      "request",
    );
    const text = out.text();
    for (const secret of [
      "eyJ.secret.token",
      "eyJ.cookie.token",
      "eyJ.top.level",
      "hunter2",
      "eyJ.nested",
      "hunter3",
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain("[Redacted]");
  });

  it("logId is a stable 12-hex digest that does not reveal the id", () => {
    const id = "Zx8K2mQ9bT4wR7nP1vL6cA";
    expect(logId(id)).toMatch(new RegExp(`^[0-9a-f]{${LOG_ID_LENGTH}}$`));
    expect(logId(id)).toBe(logId(id));
    expect(logId(id)).not.toBe(logId(`${id}x`));
    expect(logId(id)).toBe(createHash("sha256").update(id).digest("hex").slice(0, 12));
  });
});
