// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createSoloClient,
  type OwnSessionView,
  type Revocation,
  type SoloClient,
  SoloClientError,
  type WarningContext,
} from "../../packages/client/src/index.js";
import { error, FIREFOX_WINDOWS, fakeFetch, fakeTransport, json, sessionView, settle } from "./sdk-fakes.js";

// The person's own devices (sessions(), endSession(), endOtherSessions()) and "This wasn't me" (dispute()).

const clients: SoloClient[] = [];
beforeEach(() => {
  localStorage.clear();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

const LOGIN = { token: "tok-1", session: sessionView("s1"), replaced: [] };
const REPLACED_BY = { device: FIREFOX_WINDOWS, at: "2025-01-01T11:00:00.000Z" };
const CAPABILITY = "eyJ0eXAiOiJkaXNwdXRlK2p3dCJ9.eyJzaWQiOiJzMSJ9.c2ln";
const DISPUTED = { disputed: sessionView("s2"), ended: [sessionView("s2")] };

/** A signed-in client with a fake server; records revocations and what the warning was given. */
async function signedIn(routes: Parameters<typeof fakeFetch>[0] = {}) {
  const server = fakeFetch({ "POST /auth/login": () => json(200, LOGIN), ...routes });
  const channels = fakeTransport();
  const warnings: { revocation: Revocation; context: WarningContext }[] = [];
  const client = createSoloClient({
    fetch: server.fetch,
    transport: channels.transport,
    warning: (revocation, context) => warnings.push({ revocation, context }),
    restore: false,
    tabs: false,
  });
  clients.push(client);
  const revoked: Revocation[] = [];
  client.on("revoked", (r) => revoked.push(r));
  await client.login({ username: "alice", password: "demo" });
  channels.last().handlers.connected();
  const sent = () => server.sent.filter((s) => s.path !== "/auth/login");
  return { client, channels, warnings, revoked, sent };
}

const own = (id: string, current = false): OwnSessionView => ({ ...sessionView(id), current });

describe("sessions(), endSession(), endOtherSessions()", () => {
  it("sessions() asks GET /auth/sessions with the session's token and resolves with the list", async () => {
    const list = [own("s3"), own("s1", true), own("s2")];
    const t = await signedIn({ "GET /auth/sessions": () => json(200, { sessions: list }) });
    expect(await t.client.sessions()).toEqual(list);
    const [request] = t.sent();
    expect(request?.path).toBe("/auth/sessions");
    expect(request?.headers.get("authorization")).toBe("Bearer tok-1");
  });

  it("endSession(id) sends DELETE /auth/sessions/:id (the id encoded) and the page stays signed in", async () => {
    const t = await signedIn({ "DELETE /auth/sessions/s%2F2%20x": () => new Response(null, { status: 204 }) });
    await t.client.endSession("s/2 x");
    expect(t.sent().map((s) => `${s.method} ${s.path}`)).toEqual(["DELETE /auth/sessions/s%2F2%20x"]);
    expect(t.sent()[0]?.headers.get("authorization")).toBe("Bearer tok-1");
    expect(t.client.state.status).toBe("active");
  });

  it("endSession(this session's id) is a sign-out: anonymous, no warning", async () => {
    const t = await signedIn({ "POST /auth/logout": () => new Response(null, { status: 204 }) });
    await t.client.endSession("s1");
    expect(t.sent().map((s) => `${s.method} ${s.path}`)).toEqual(["POST /auth/logout"]);
    expect(t.client.state.status).toBe("anonymous");
    expect(t.warnings).toHaveLength(0);
  });

  it("endSession rejects not_found with its code, and a bad id with a TypeError, staying signed in", async () => {
    const t = await signedIn({ "DELETE /auth/sessions/nope": () => error("not_found") });
    const failure = await t.client.endSession("nope").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SoloClientError);
    expect((failure as SoloClientError).code).toBe("not_found");
    await expect(t.client.endSession("")).rejects.toBeInstanceOf(TypeError);
    await expect(t.client.endSession(42 as unknown as string)).rejects.toBeInstanceOf(TypeError);
    expect(t.client.state.status).toBe("active");
  });

  it("endOtherSessions() sends POST /auth/logout?scope=others and keeps this session", async () => {
    const t = await signedIn({ "POST /auth/logout": () => new Response(null, { status: 204 }) });
    await t.client.endOtherSessions();
    expect(t.sent().map((s) => `${s.method} ${s.path}`)).toEqual(["POST /auth/logout?scope=others"]);
    expect(t.client.state.status).toBe("active");
    expect(t.channels.last().closed).toBe(false);
  });

  it("a 401 session_* answer is a revocation and rejects with its code", async () => {
    const t = await signedIn({ "GET /auth/sessions": () => error("session_revoked", { reason: "revoked" }) });
    const failure = await t.client.sessions().catch((e: unknown) => e);
    expect((failure as SoloClientError).code).toBe("session_revoked");
    await settle();
    expect(t.client.state.status).toBe("revoked");
    expect(t.revoked.map((r) => [r.reason, r.source])).toEqual([["revoked", "http"]]);
  });

  it("an unreachable server is network_error; the session stays", async () => {
    const t = await signedIn({});
    expect(((await t.client.endOtherSessions().catch((e: unknown) => e)) as SoloClientError).code).toBe(
      "network_error",
    );
    expect(t.client.state.status).toBe("active");
  });
});

describe("dispute()", () => {
  it("a pushed replacement with a capability is disputable; the capability stays inside the SDK", async () => {
    const t = await signedIn();
    t.channels.last().handlers.revoked({
      reason: "replaced",
      sessionId: "s1",
      at: REPLACED_BY.at,
      by: REPLACED_BY,
      dispute: CAPABILITY,
    });
    await settle();
    expect(t.revoked).toHaveLength(1);
    expect(t.revoked[0]?.disputable).toBe(true);
    expect(JSON.stringify(t.revoked[0])).not.toContain(CAPABILITY);
    expect(JSON.stringify(t.client.state)).not.toContain(CAPABILITY);
    expect("dispute" in (t.revoked[0] as object)).toBe(false);
    expect(t.warnings[0]?.context.dispute).toBeTypeOf("function");
  });

  it("sends the capability in a JSON body (not the URL, no session token), then is no longer disputable", async () => {
    const t = await signedIn({ "POST /auth/dispute": () => json(200, DISPUTED) });
    t.channels
      .last()
      .handlers.revoked({ reason: "replaced", sessionId: "s1", at: REPLACED_BY.at, dispute: CAPABILITY });
    await settle();
    const states: unknown[] = [];
    t.client.on("state", (s) => states.push(s));
    expect(await t.client.dispute()).toEqual(DISPUTED);
    // (The other request is the cookie probe every pushed revocation makes: GET /auth/session.)
    const disputes = () => t.sent().filter((s) => s.path.startsWith("/auth/dispute"));
    const [request] = disputes();
    expect(request?.method).toBe("POST");
    expect(request?.body).toEqual({ capability: CAPABILITY });
    expect(request?.headers.get("content-type")).toBe("application/json");
    expect(request?.headers.has("authorization")).toBe(false);
    expect(t.client.state).toMatchObject({ status: "revoked", revocation: { disputable: false } });
    expect(states).toHaveLength(1);
    await expect(t.client.dispute()).rejects.toThrow(/nothing to dispute/);
    expect(disputes()).toHaveLength(1);
  });

  it("the warning's dispute is the same action", async () => {
    const t = await signedIn({ "POST /auth/dispute": () => json(200, DISPUTED) });
    t.channels
      .last()
      .handlers.revoked({ reason: "replaced", sessionId: "s1", at: REPLACED_BY.at, dispute: CAPABILITY });
    await settle();
    await t.warnings[0]?.context.dispute?.();
    expect(t.sent().filter((s) => s.path === "/auth/dispute")).toHaveLength(1);
    expect(t.client.state).toMatchObject({ revocation: { disputable: false } });
  });

  it("dispute_used ends the chance; network_error and rate_limited keep it for a retry", async () => {
    const t = await signedIn({
      "POST /auth/dispute": [
        () => error("rate_limited", { retryAfter: 30 }),
        () => {
          throw new TypeError("offline");
        },
        () => error("dispute_used"),
      ],
    });
    t.channels
      .last()
      .handlers.revoked({ reason: "replaced", sessionId: "s1", at: REPLACED_BY.at, dispute: CAPABILITY });
    await settle();
    const code = async () => ((await t.client.dispute().catch((e: unknown) => e)) as SoloClientError).code;
    expect(await code()).toBe("rate_limited");
    expect(t.client.state).toMatchObject({ revocation: { disputable: true } });
    expect(await code()).toBe("network_error");
    expect(t.client.state).toMatchObject({ revocation: { disputable: true } });
    expect(await code()).toBe("dispute_used");
    expect(t.client.state).toMatchObject({ revocation: { disputable: false } });
  });

  it("the capability of a 401 and of a refused reconnection is taken too", async () => {
    const viaHttp = await signedIn({
      "GET /api/notes": () => error("session_replaced", { reason: "replaced", by: REPLACED_BY, dispute: CAPABILITY }),
      "POST /auth/dispute": () => json(200, DISPUTED),
    });
    await viaHttp.client.fetch("/api/notes");
    await settle();
    expect(viaHttp.revoked[0]).toMatchObject({ source: "http", disputable: true });
    await viaHttp.client.dispute();
    expect(viaHttp.sent().find((s) => s.path === "/auth/dispute")?.body).toEqual({ capability: CAPABILITY });

    const viaSocket = await signedIn();
    viaSocket.channels.last().handlers.disconnected("network");
    viaSocket.channels.last().handlers.refused({
      code: "session_replaced",
      message: "",
      reason: "replaced",
      dispute: CAPABILITY,
    });
    await settle();
    expect(viaSocket.revoked[0]).toMatchObject({ source: "reconnect", disputable: true });
  });

  it("other ends are not disputable, and there is nothing to dispute while signed in", async () => {
    const t = await signedIn();
    await expect(t.client.dispute()).rejects.toThrow(/nothing to dispute/);
    t.channels.last().handlers.revoked({ reason: "revoked", sessionId: "s1", at: REPLACED_BY.at });
    await settle();
    expect(t.revoked[0]?.disputable).toBe(false);
    expect(t.warnings[0]?.context.dispute).toBeUndefined();
    await expect(t.client.dispute()).rejects.toThrow(/nothing to dispute/);
  });

  it("a new sign-in forgets the capability of the old session", async () => {
    const t = await signedIn();
    t.channels
      .last()
      .handlers.revoked({ reason: "replaced", sessionId: "s1", at: REPLACED_BY.at, dispute: CAPABILITY });
    await settle();
    await t.client.login({ username: "alice", password: "demo" });
    await expect(t.client.dispute()).rejects.toThrow(/nothing to dispute/);
  });
});
