import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { logId as hashId } from "../../server/observability/logger.js";
import { call, login, nextRevocation, UA } from "../support/client.js";
import { testResources } from "../support/resources.js";
import type { TestServerOptions } from "../support/server.js";

const { server, socketFor } = testResources();

type Line = Record<string, unknown> & { event?: string; msg?: string };

/** A server whose pino logger writes into `lines`. */
async function loggedServer(options: TestServerOptions = {}) {
  const raw: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void raw.push(line) });
  const srv = await server({ logger, ...options });
  const lines = () => raw.map((l) => JSON.parse(l) as Line);
  return { srv, raw, lines };
}

describe("structured logs", () => {
  it("writes one line per login, refusal and kick, with hashed session ids and the request id", async () => {
    const { srv, raw, lines } = await loggedServer({ policy: "confirm" });
    const password = "demo";
    const first = await login(srv.url, { username: "alice", password }, { "x-request-id": "req-login-1" });
    const socket = await socketFor(srv.url, first.token);
    const revoked = nextRevocation(socket);

    const refused = await fetch(`${srv.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-refused", "user-agent": UA.firefoxWindows },
      body: JSON.stringify({ username: "alice", password }),
    });
    expect(refused.status).toBe(409);
    const second = await login(
      srv.url,
      { username: "alice", password, takeover: true },
      { "x-request-id": "req-takeover", "user-agent": UA.firefoxWindows },
    );
    await revoked;
    await vi.waitFor(() => expect(lines().some((l) => l.event === "notice" && l.status === "acknowledged")).toBe(true));

    const byEvent = (event: string) => lines().filter((l) => l.event === event);
    const logins = byEvent("login");
    expect(logins).toHaveLength(2);
    expect(logins[0]).toMatchObject({ userId: "alice", sid: hashId(first.session.id), reqId: "req-login-1" });
    expect(logins[0]?.device).toMatchObject({ ip: "127.0.0.1", browser: "Chrome 131" });
    expect(logins[1]).toMatchObject({
      sid: hashId(second.session.id),
      reqId: "req-takeover",
      replaced: [hashId(first.session.id)],
    });

    const refusals = byEvent("login_refused");
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ userId: "alice", policy: "confirm", reqId: "req-refused" });
    expect(refusals[0]?.activeSid).toBe(hashId(first.session.id));

    const kicks = byEvent("session_ended");
    expect(kicks).toHaveLength(1);
    expect(kicks[0]).toMatchObject({
      reason: "replaced",
      userId: "alice",
      sid: hashId(first.session.id),
      bySid: hashId(second.session.id),
      reqId: "req-takeover",
    });
    expect(hashId(first.session.id)).toMatch(/^[0-9a-f]{12}$/);

    // Nothing secret: no token, no raw session id, no password field.
    const text = raw.join("");
    for (const secret of [first.token, second.token, first.session.id, second.session.id]) {
      expect(text.includes(secret)).toBe(false);
    }
    expect(text).not.toMatch(/"password"/);
  });

  it("logs failed logins with their outcome, never the password", async () => {
    const { srv, raw, lines } = await loggedServer();
    const res = await fetch(`${srv.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "hunter2-not-it" }),
    });
    expect(res.status).toBe(401);
    const reqId = res.headers.get("x-request-id");
    const failed = lines().filter((l) => l.event === "login_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ outcome: "invalid_credentials", reqId });
    expect(raw.join("")).not.toContain("hunter2-not-it");
  });
});

describe("request ids", () => {
  it("echoes a sane X-Request-Id and replaces a missing or unsafe one with a fresh UUID", async () => {
    const { srv } = await loggedServer();
    const sane = await call(srv.url, "/auth/session", null, { headers: { "x-request-id": "abc-123.DEF:4" } });
    expect(sane.headers.get("x-request-id")).toBe("abc-123.DEF:4");
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const none = await call(srv.url, "/auth/session", null);
    expect(none.headers.get("x-request-id")).toMatch(uuid);
    for (const bad of ["has spaces", "x".repeat(200), 'quote"d', "<script>"]) {
      const res = await call(srv.url, "/auth/jwks.json", null, { headers: { "x-request-id": bad } });
      expect(res.headers.get("x-request-id"), bad).toMatch(uuid);
    }
  });
});
