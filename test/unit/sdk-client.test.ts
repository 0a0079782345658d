// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createSoloClient,
  type Revocation,
  type SoloClient,
  SoloClientError,
  type SoloState,
} from "../../packages/client/src/index.js";
import type { SoloClientOptions } from "../../packages/client/src/options.js";
import {
  error,
  type FakeChannel,
  FIREFOX_WINDOWS,
  fakeFetch,
  fakeTransport,
  json,
  type Sent,
  sessionView,
  settle,
} from "./sdk-fakes.js";

const clients: SoloClient[] = [];
beforeEach(() => {
  localStorage.clear();
  sessionStorage.clear();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
  vi.useRealTimers();
});

const LOGIN = { token: "tok-1", session: sessionView("s1"), replaced: [] };
const REPLACED_BY = { device: FIREFOX_WINDOWS, at: "2025-01-01T11:00:00.000Z" };

/** A client with a fake server; records states, revocations and warnings. */
function setup(routes: Parameters<typeof fakeFetch>[0], options: SoloClientOptions = {}) {
  const server = fakeFetch(routes);
  const channels = fakeTransport();
  const warnings: Revocation[] = [];
  const client = createSoloClient({
    fetch: server.fetch,
    transport: channels.transport,
    warning: (revocation) => warnings.push(revocation),
    restore: false,
    // One page alone; the tabs' coordination is tested in sdk-tabs.test.ts.
    tabs: false,
    ...options,
  });
  clients.push(client);
  const states: SoloState["status"][] = [];
  const revoked: Revocation[] = [];
  client.on("state", (s) => states.push(s.status));
  client.on("revoked", (r) => revoked.push(r));
  return { client, sent: server.sent, channels, warnings, states, revoked };
}

const paths = (sent: Sent[]) => sent.map((s) => `${s.method} ${s.path}`);

describe("start-up (restore)", () => {
  it("a live session from the cookie becomes active and opens the channel without a token", async () => {
    const t = setup({ "GET /auth/session": () => json(200, { session: sessionView("s9") }) }, { restore: true });
    expect(t.client.state).toEqual({ status: "signing-in", via: "restore" });
    const state = await t.client.ready;
    expect(state.status).toBe("active");
    expect(t.client.session?.id).toBe("s9");
    expect(t.client.connection).toBe("connecting");
    expect(t.channels.last().options.token).toBeNull();
    expect(t.sent[0]?.headers.has("authorization")).toBe(false);
  });

  it("no credential: asks ?optional=true, the server's 200 { session: null } is anonymous, nothing cleared, no warning", async () => {
    localStorage.setItem("draft", "x");
    const t = setup({ "GET /auth/session": () => json(200, { session: null }) }, { restore: true });
    expect((await t.client.ready).status).toBe("anonymous");
    expect(paths(t.sent)).toEqual(["GET /auth/session?optional=true"]);
    expect(localStorage.getItem("draft")).toBe("x");
    expect(t.warnings).toHaveLength(0);
    expect(t.channels.channels).toHaveLength(0);
  });

  it("no session from a server that answers 401 missing_token (no ?optional support): anonymous too", async () => {
    localStorage.setItem("draft", "x");
    const t = setup({ "GET /auth/session": () => error("missing_token") }, { restore: true });
    expect((await t.client.ready).status).toBe("anonymous");
    expect(localStorage.getItem("draft")).toBe("x");
    expect(t.warnings).toHaveLength(0);
    expect(t.channels.channels).toHaveLength(0);
  });

  it("a replaced session found on reload is a revocation (source http) with the new device", async () => {
    localStorage.setItem("draft", "x");
    const t = setup(
      { "GET /auth/session": () => error("session_replaced", { reason: "replaced", by: REPLACED_BY }) },
      { restore: true },
    );
    const state = await t.client.ready;
    expect(state.status).toBe("revoked");
    expect(t.revoked).toHaveLength(1);
    expect(t.revoked[0]).toMatchObject({
      code: "session_replaced",
      reason: "replaced",
      source: "http",
      sessionId: null,
      by: REPLACED_BY,
      at: REPLACED_BY.at,
    });
    expect(t.warnings).toHaveLength(1);
    expect(localStorage.getItem("draft")).toBeNull();
    // The 401 itself cleared the server's cookie: no second request.
    expect(paths(t.sent)).toEqual(["GET /auth/session?optional=true"]);
  });

  it("an unreachable server at start leaves the page anonymous", async () => {
    const t = setup({}, { restore: true });
    expect((await t.client.ready).status).toBe("anonymous");
  });
});

describe("login", () => {
  it("goes signing-in → active, sends the credentials and device name, and connects with the token", async () => {
    const t = setup({ "POST /auth/login": () => json(200, LOGIN) }, { deviceName: "Work laptop" });
    const result = await t.client.login({ username: "alice", password: "demo" });
    expect(result.session.id).toBe("s1");
    expect(t.states).toEqual(["signing-in", "active"]);
    expect(t.sent[0]?.body).toEqual({ username: "alice", password: "demo", device: { name: "Work laptop" } });
    expect(t.channels.last().options.token).toBe("tok-1");
    t.channels.last().handlers.connected();
    expect(t.client.connection).toBe("connected");
  });

  it("rejects with the server's code and returns to anonymous", async () => {
    const t = setup({ "POST /auth/login": () => error("invalid_credentials") });
    const failure = await t.client.login({ username: "alice", password: "nope" }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SoloClientError);
    expect((failure as SoloClientError).code).toBe("invalid_credentials");
    expect((failure as SoloClientError).status).toBe(401);
    expect(t.states).toEqual(["signing-in", "anonymous"]);
    expect(t.channels.channels).toHaveLength(0);
  });

  it("session_active carries the active session; takeover: true is sent on the retry", async () => {
    const active = sessionView("s0");
    const t = setup({
      "POST /auth/login": [() => error("session_active", { active }), () => json(200, LOGIN)],
    });
    const failure = (await t.client.login({ username: "alice", password: "demo" }).catch((e: unknown) => e)) as
      | SoloClientError
      | undefined;
    expect(failure?.code).toBe("session_active");
    expect(failure?.status).toBe(409);
    expect(failure?.active?.id).toBe("s0");
    await t.client.login({ username: "alice", password: "demo" }, { takeover: true });
    expect(t.sent[1]?.body).toMatchObject({ takeover: true });
    expect(t.client.state.status).toBe("active");
  });

  it("session_active gives a typed conflict: the active session, since when, and whether a takeover can work", async () => {
    const active = sessionView("s0");
    const t = setup({
      "POST /auth/login": [
        () => error("session_active", { active, takeover: true }),
        () => error("session_active", { active, takeover: false }),
        () => error("session_active", { active }),
        () => error("invalid_credentials"),
      ],
    });
    const fail = async () =>
      (await t.client.login({ username: "alice", password: "demo" }).catch((e: unknown) => e)) as SoloClientError;
    const confirm = (await fail()).conflict;
    expect(confirm).toEqual({ active, since: new Date(active.createdAt), takeover: true });
    // oldest-wins: refused, no takeover to offer.
    expect((await fail()).conflict?.takeover).toBe(false);
    // A server that does not say: the takeover is offered (the retry is the test).
    expect((await fail()).conflict?.takeover).toBe(true);
    expect((await fail()).conflict).toBeNull();
  });

  it("a network failure is network_error with status 0", async () => {
    const t = setup({});
    const failure = (await t.client
      .login({ username: "a", password: "b" })
      .catch((e: unknown) => e)) as SoloClientError;
    expect(failure.code).toBe("network_error");
    expect(failure.status).toBe(0);
    expect(t.client.state.status).toBe("anonymous");
  });
});

describe("revocation", () => {
  async function signedIn(routes: Parameters<typeof fakeFetch>[0] = {}, options: SoloClientOptions = {}) {
    const t = setup({ "POST /auth/login": () => json(200, LOGIN), ...routes }, options);
    await t.client.login({ username: "alice", password: "demo" });
    t.channels.last().handlers.connected();
    return t;
  }

  it("a pushed notice: channel closed, state cleared, warning shown, revoked emitted, server cookie probed", async () => {
    const t = await signedIn({ "GET /auth/session": () => error("session_replaced", { reason: "replaced" }) });
    localStorage.setItem("draft", "secret");
    sessionStorage.setItem("tab", "1");
    const order: string[] = [];
    t.client.on("state", (s) => order.push(`state:${s.status}`));
    t.client.on("revoked", () => order.push("revoked"));
    t.channels.last().handlers.revoked({ reason: "replaced", sessionId: "s1", at: REPLACED_BY.at, by: REPLACED_BY });
    await settle();
    expect(t.client.state.status).toBe("revoked");
    expect(t.revoked).toEqual([
      {
        reason: "replaced",
        code: "session_replaced",
        sessionId: "s1",
        at: REPLACED_BY.at,
        by: REPLACED_BY,
        source: "push",
        disputable: false,
      },
    ]);
    expect(order).toEqual(["state:revoked", "revoked"]);
    expect(t.warnings).toHaveLength(1);
    expect(t.channels.last().closed).toBe(true);
    expect(t.client.connection).toBe("idle");
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    // The probe goes on the cookie alone (no bearer), so only an ended session's cookie is cleared.
    const probe = t.sent.at(-1);
    expect(`${probe?.method} ${probe?.path}`).toBe("GET /auth/session?optional=true");
    expect(probe?.headers.has("authorization")).toBe(false);
  });

  it("ignores a notice for another session", async () => {
    const t = await signedIn();
    t.channels.last().handlers.revoked({ reason: "replaced", sessionId: "old", at: REPLACED_BY.at });
    await settle();
    expect(t.client.state.status).toBe("active");
    expect(t.revoked).toHaveLength(0);
  });

  it("a refused reconnection with a session_* code is a revocation (source reconnect)", async () => {
    const t = await signedIn({ "GET /auth/session": () => error("session_idle") });
    t.channels.last().handlers.disconnected("network");
    expect(t.client.connection).toBe("reconnecting");
    t.channels.last().handlers.refused({ code: "session_idle", message: "", reason: "idle" });
    await settle();
    expect(t.revoked.map((r) => [r.code, r.reason, r.source])).toEqual([["session_idle", "idle", "reconnect"]]);
  });

  it("a 401 session_* from solo.fetch is a revocation (source http); the response is returned", async () => {
    const t = await signedIn({ "GET /api/notes": () => error("session_expired", { reason: "expired" }) });
    const res = await t.client.fetch("/api/notes");
    expect(res.status).toBe(401);
    expect(t.revoked.map((r) => [r.code, r.reason, r.source, r.sessionId])).toEqual([
      ["session_expired", "expired", "http", "s1"],
    ]);
    expect(t.sent.filter((s) => s.path === "/auth/session")).toHaveLength(0);
  });

  it("a 401 that is not session_* is not a revocation", async () => {
    const t = await signedIn({ "GET /api/notes": () => error("invalid_token") });
    await t.client.fetch("/api/notes");
    expect(t.client.state.status).toBe("active");
  });

  it("happens once, even when push and HTTP both report it", async () => {
    const t = await signedIn({
      "GET /api/notes": () => error("session_replaced"),
      "GET /auth/session": () => error("session_replaced"),
    });
    // The request is in flight when the push arrives; both report the end.
    const inFlight = t.client.fetch("/api/notes");
    t.channels.last().handlers.revoked({ reason: "replaced", sessionId: "s1", at: REPLACED_BY.at });
    expect((await inFlight).status).toBe(401);
    await settle();
    expect(t.revoked).toHaveLength(1);
    expect(t.warnings).toHaveLength(1);
  });

  it("clear: keep and only are honoured; clear: false keeps everything", async () => {
    const t = await signedIn(
      { "GET /auth/session": () => error("session_revoked") },
      { clear: { keep: ["theme", { prefix: "ui:" }] } },
    );
    localStorage.setItem("theme", "dark");
    localStorage.setItem("ui:sidebar", "open");
    localStorage.setItem("draft", "x");
    t.channels.last().handlers.revoked({ reason: "revoked", sessionId: "s1", at: REPLACED_BY.at });
    await settle();
    expect(Object.keys({ ...localStorage }).sort()).toEqual(["theme", "ui:sidebar"]);

    localStorage.setItem("draft", "y");
    const off = await signedIn({ "GET /auth/session": () => error("session_revoked") }, { clear: false });
    off.channels.last().handlers.revoked({ reason: "revoked", sessionId: "s1", at: REPLACED_BY.at });
    await settle();
    expect(off.client.state.status).toBe("revoked");
    expect(localStorage.getItem("draft")).toBe("y");
  });

  it("warning: false shows nothing, and revoked is still emitted", async () => {
    const t = await signedIn({ "GET /auth/session": () => error("session_revoked") }, { warning: false });
    t.channels.last().handlers.revoked({ reason: "logout", sessionId: "s1", at: REPLACED_BY.at });
    await settle();
    expect(t.warnings).toHaveLength(0);
    expect(t.revoked.map((r) => [r.code, r.reason])).toEqual([["session_revoked", "logout"]]);
    expect(document.querySelector("[data-solo-warning]")).toBeNull();
  });
});

describe("the channel", () => {
  async function signedIn(routes: Parameters<typeof fakeFetch>[0] = {}, options: SoloClientOptions = {}) {
    const t = setup({ "POST /auth/login": () => json(200, LOGIN), ...routes }, options);
    await t.client.login({ username: "alice", password: "demo" });
    t.channels.last().handlers.connected();
    return t;
  }

  it("a server disconnect while the session is live (another tab took over) is standby, not a loop", async () => {
    const t = await signedIn({ "GET /auth/session": () => json(200, { session: sessionView("s1") }) });
    const events: string[] = [];
    t.client.on("disconnected", (e) => events.push(`${e.cause}:${e.reconnecting}`));
    t.channels.last().handlers.disconnected("server");
    await settle();
    expect(t.client.connection).toBe("standby");
    expect(events).toEqual(["standby:false"]);
    expect(t.channels.last().calls).not.toContain("reconnect");
    expect(t.client.state.status).toBe("active");
    // The check used this page's token.
    expect(t.sent.at(-1)?.headers.get("authorization")).toBe("Bearer tok-1");

    // The page becoming visible takes the channel back.
    Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
    expect(t.channels.last().calls).toContain("reconnect");
    expect(t.client.connection).toBe("connecting");
  });

  it("a server disconnect of an ended session is a revocation", async () => {
    const t = await signedIn({ "GET /auth/session": () => error("session_revoked", { reason: "revoked" }) });
    t.channels.last().handlers.disconnected("server");
    await settle();
    expect(t.revoked.map((r) => [r.code, r.source])).toEqual([["session_revoked", "http"]]);
  });

  it("a server disconnect with no session and no reason ({ session: null }) signs the page out quietly", async () => {
    const t = await signedIn({ "GET /auth/session": () => json(200, { session: null }) });
    t.channels.last().handlers.disconnected("server");
    await settle();
    expect(t.client.state.status).toBe("anonymous");
    expect(t.revoked).toHaveLength(0);
    expect(t.channels.last().closed).toBe(true);
  });

  it("a server disconnect with no session and no reason (401 missing_token) signs the page out quietly", async () => {
    const t = await signedIn({ "GET /auth/session": () => error("missing_token") });
    t.channels.last().handlers.disconnected("server");
    await settle();
    expect(t.client.state.status).toBe("anonymous");
    expect(t.revoked).toHaveLength(0);
    expect(t.channels.last().closed).toBe(true);
  });

  it("a refusal that is not about the session retries with backoff", async () => {
    vi.useFakeTimers();
    const t = await signedIn({}, { reconnectDelay: 1000, reconnectDelayMax: 8000 });
    t.channels.last().handlers.refused({ code: "store_unavailable", message: "" });
    expect(t.client.connection).toBe("reconnecting");
    expect(t.channels.last().calls).not.toContain("reconnect");
    await vi.advanceTimersByTimeAsync(1600);
    expect(t.channels.last().calls.filter((c) => c === "reconnect")).toHaveLength(1);
    t.channels.last().handlers.refused({ code: "store_unavailable", message: "" });
    await vi.advanceTimersByTimeAsync(900);
    expect(t.channels.last().calls.filter((c) => c === "reconnect")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2400);
    expect(t.channels.last().calls.filter((c) => c === "reconnect")).toHaveLength(2);
  });

  it("goes offline with the browser and reconnects at once when it is back", async () => {
    const t = await signedIn();
    const events: string[] = [];
    t.client.on("disconnected", (e) => events.push(e.cause));
    window.dispatchEvent(new Event("offline"));
    expect(t.client.connection).toBe("offline");
    expect(t.channels.last().calls).toContain("pause");
    window.dispatchEvent(new Event("online"));
    expect(t.client.connection).toBe("reconnecting");
    expect(t.channels.last().calls.at(-1)).toBe("reconnect");
    t.channels.last().handlers.connected();
    expect(t.client.connection).toBe("connected");
    expect(events).toEqual(["offline"]);
  });

  it("reports interaction at most once per interval, and only while connected", async () => {
    let now = 1_000_000;
    const t = await signedIn({}, { activityInterval: 60_000, clock: () => now });
    const activity = () => t.channels.last().calls.filter((c) => c === "activity").length;
    document.dispatchEvent(new Event("pointerdown"));
    document.dispatchEvent(new Event("keydown"));
    expect(activity()).toBe(1);
    now += 59_000;
    document.dispatchEvent(new Event("keydown"));
    expect(activity()).toBe(1);
    now += 2_000;
    t.channels.last().handlers.disconnected("network");
    document.dispatchEvent(new Event("keydown"));
    expect(activity()).toBe(1);
    t.channels.last().handlers.connected();
    document.dispatchEvent(new Event("keydown"));
    expect(activity()).toBe(2);
  });
});

describe("fetch, logout, destroy", () => {
  it("fetch adds the bearer token for the auth server's origin only", async () => {
    const t = setup({
      "POST /auth/login": () => json(200, LOGIN),
      "GET /api/notes": () => json(200, {}),
      "GET /elsewhere": () => json(200, {}),
    });
    await t.client.fetch("/api/notes");
    expect(t.sent.at(-1)?.headers.has("authorization")).toBe(false);
    await t.client.login({ username: "alice", password: "demo" });
    await t.client.fetch("/api/notes", { headers: { "x-app": "1" } });
    expect(t.sent.at(-1)?.headers.get("authorization")).toBe("Bearer tok-1");
    expect(t.sent.at(-1)?.headers.get("x-app")).toBe("1");
    await t.client.fetch("https://other.example/elsewhere");
    expect(t.sent.at(-1)?.headers.has("authorization")).toBe(false);
  });

  it("logout closes the channel before the request, clears, and ends anonymous without a revocation", async () => {
    let channel: FakeChannel | undefined;
    let closedAtRequest: boolean | undefined;
    const t = setup({
      "POST /auth/login": () => json(200, LOGIN),
      "POST /auth/logout": () => {
        closedAtRequest = channel?.closed;
        return new Response(null, { status: 204 });
      },
    });
    await t.client.login({ username: "alice", password: "demo" });
    channel = t.channels.last();
    channel.handlers.connected();
    localStorage.setItem("draft", "x");
    await t.client.logout();
    expect(closedAtRequest).toBe(true);
    expect(t.sent.at(-1)?.headers.get("authorization")).toBe("Bearer tok-1");
    expect(t.client.state.status).toBe("anonymous");
    expect(t.revoked).toHaveLength(0);
    expect(localStorage.getItem("draft")).toBeNull();
    // A notice that arrives late on the closed channel changes nothing.
    channel.handlers.revoked({ reason: "logout", sessionId: "s1", at: REPLACED_BY.at });
    await settle();
    expect(t.client.state.status).toBe("anonymous");
  });

  it("logout everywhere asks for scope=all", async () => {
    const t = setup({
      "POST /auth/login": () => json(200, LOGIN),
      "POST /auth/logout": () => new Response(null, { status: 204 }),
    });
    await t.client.login({ username: "alice", password: "demo" });
    await t.client.logout({ everywhere: true });
    expect(t.sent.at(-1)?.path).toBe("/auth/logout?scope=all");
  });

  it("a logout that cannot reach the server rejects and keeps the session", async () => {
    const t = setup({ "POST /auth/login": () => json(200, LOGIN) });
    await t.client.login({ username: "alice", password: "demo" });
    localStorage.setItem("draft", "x");
    const failure = (await t.client.logout().catch((e: unknown) => e)) as SoloClientError;
    expect(failure.code).toBe("network_error");
    expect(t.client.state.status).toBe("active");
    expect(t.channels.channels).toHaveLength(2);
    expect(t.channels.last().options.token).toBe("tok-1");
    expect(localStorage.getItem("draft")).toBe("x");
  });

  it("destroy closes the channel and silences events", async () => {
    const t = setup({ "POST /auth/login": () => json(200, LOGIN) });
    await t.client.login({ username: "alice", password: "demo" });
    const channel = t.channels.last();
    const before = t.states.length;
    t.client.destroy();
    expect(channel.closed).toBe(true);
    channel.handlers.revoked({ reason: "replaced", sessionId: "s1", at: REPLACED_BY.at });
    await settle();
    expect(t.states.length).toBe(before);
    await expect(t.client.fetch("/api/notes")).rejects.toThrow();
  });
});

describe("options", () => {
  it.each([
    [{ baseUrl: "" }],
    [{ clear: "yes" }],
    [{ clear: { areas: ["localStorage", "disk"] } }],
    [{ clear: { keep: [{ prefix: "" }] } }],
    [{ warning: "modal" }],
    [{ activityInterval: -1 }],
    [{ reconnectDelay: 5000, reconnectDelayMax: 1000 }],
    [{ transport: 42 }],
    [{ transports: "websocket" }],
    [{ transports: ["websocket", "jsonp"] }],
  ])("rejects %j with a TypeError at construction", (bad) => {
    expect(() => createSoloClient(bad as SoloClientOptions)).toThrow(TypeError);
  });

  it("connects over WebSocket only by default, like the server; `transports` opts in to long-polling", async () => {
    const plain = setup({ "POST /auth/login": () => json(200, LOGIN) });
    await plain.client.login({ username: "alice", password: "demo" });
    expect(plain.channels.last().options).toMatchObject({ transports: ["websocket"], path: "/socket.io" });
    const both = setup({ "POST /auth/login": () => json(200, LOGIN) }, { transports: ["websocket", "polling"] });
    await both.client.login({ username: "alice", password: "demo" });
    expect(both.channels.last().options.transports).toEqual(["websocket", "polling"]);
  });
});
