import { beforeAll, describe, expect, it } from "vitest";
import { call, connect, handshakeError, nextRevocation, UA } from "../support/client.js";
import { buildServerIfStale, type ExampleProcess, startExample } from "../support/examples.js";
import { testResources } from "../support/resources.js";

// examples/express4-passport, run as its README says (`node server.js`, its own process): an
// Express 4 CommonJS app with its own passport-local login, the `Token` scheme and its own
// `{ errors: { ...: [...] } }` format, that loads solo-session as `require("solo-session/server")`.

const { track, defer } = testResources();

beforeAll(() => buildServerIfStale());

/** The example's process, stopped after the test (`close()` may also be called by the test). */
async function startApp(): Promise<ExampleProcess> {
  return defer(await startExample("examples/express4-passport"), (example) => example.close());
}

async function start(): Promise<string> {
  return (await startApp()).url;
}

/** The app's own login route: `POST /users/login` with `{ user: { email, password } }`. */
async function appLogin(url: string, email: string, password: string, userAgent: string = UA.chromeMac) {
  const res = await fetch(`${url}/users/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": userAgent },
    body: JSON.stringify({ user: { email, password } }),
  });
  return { status: res.status, body: (await res.json()) as { user: { token: string; username: string } } };
}

/** A request with the app's `Authorization: Token <jwt>` header (or none). */
function get(url: string, path: string, token: string | null) {
  return call(url, path, null, { headers: token ? { authorization: `Token ${token}` } : {} });
}

/** The keys of the app's `{ errors: { key: [messages] } }` body. */
function errorKeys(body: unknown): string[] {
  const errors = (body as { errors?: Record<string, unknown> }).errors;
  expect(errors, "the app's error format").toBeTypeOf("object");
  for (const messages of Object.values(errors ?? {})) expect(messages).toEqual([expect.any(String)]);
  return Object.keys(errors ?? {});
}

// Each test starts a Node process and signs in with scrypt-hashed passwords: bounded generously
// for a busy machine; every wait inside ends on its event.
describe("examples/express4-passport", { timeout: 60_000 }, () => {
  it("a second login as the same user revokes the first socket; the app's routes refuse the first token in the app's format and serve the second", async () => {
    const url = await start();
    const first = await appLogin(url, "jake@example.com", "jakejake");
    expect(first).toMatchObject({ status: 200, body: { user: { username: "jake" } } });
    // The numeric id (1) is the session's user id: the app finds jake by Number(req.solo.userId).
    expect(await get(url, "/user", first.body.user.token)).toMatchObject({
      status: 200,
      body: { user: { email: "jake@example.com", username: "jake" } },
    });

    const socket = track(await connect(url, first.body.user.token));
    const revoked = nextRevocation(socket, 15_000);
    const second = await appLogin(url, "jake@example.com", "jakejake", UA.firefoxWindows);
    expect(second.status).toBe(200);
    expect(await revoked).toMatchObject({ reason: "replaced", by: { device: { browser: "Firefox 132" } } });

    for (const path of ["/user", "/articles"]) {
      const refused = await get(url, path, first.body.user.token);
      expect(refused.status, path).toBe(401);
      expect(errorKeys(refused.body), path).toEqual(["session_replaced"]);
    }
    expect((await handshakeError(url, first.body.user.token)).data?.code).toBe("session_replaced");

    expect(await get(url, "/user", second.body.user.token)).toMatchObject({
      status: 200,
      body: { user: { username: "jake" } },
    });
    track(await connect(url, second.body.user.token));
  });

  it("serves anonymous reads and personalises signed-in ones (optional auth)", async () => {
    const url = await start();
    const favorited = (body: unknown) =>
      (body as { articles: { slug: string; favorited: boolean }[] }).articles.map((a) => [a.slug, a.favorited]);
    const anonymous = await get(url, "/articles", null);
    expect(anonymous.status).toBe(200);
    expect(favorited(anonymous.body)).toEqual([
      ["how-to-train-your-dragon", false],
      ["one-session-per-user", false],
    ]);
    const { body } = await appLogin(url, "jake@example.com", "jakejake");
    const signedIn = await get(url, "/articles", body.user.token);
    expect(favorited(signedIn.body)).toEqual([
      ["how-to-train-your-dragon", true],
      ["one-session-per-user", false],
    ]);
    const malformed = await call(url, "/articles", null, { headers: { authorization: `Bearer ${body.user.token}` } });
    expect([malformed.status, errorKeys(malformed.body)]).toEqual([401, ["invalid_token"]]);
  });

  it("answers the app's own way to a wrong password and a missing token, and signs out through its own logout", async () => {
    const url = await start();
    const wrong = await appLogin(url, "jake@example.com", "not-jakes");
    expect([wrong.status, errorKeys(wrong.body)]).toEqual([422, ["email or password"]]);
    const missing = await get(url, "/user", null);
    expect([missing.status, errorKeys(missing.body)]).toEqual([401, ["missing_token"]]);

    const { body } = await appLogin(url, "anna@example.com", "annaanna");
    const logout = await call(url, "/users/logout", null, {
      method: "POST",
      headers: { authorization: `Token ${body.user.token}` },
    });
    expect(logout.status).toBe(204);
    const after = await get(url, "/user", body.user.token);
    expect([after.status, errorKeys(after.body)]).toEqual([401, ["session_revoked"]]);
  });

  it("stops cleanly on SIGTERM (solo-session closed, then the HTTP server)", async () => {
    const running = await startApp();
    expect(await running.close()).toBe(0);
    expect(running.stderr()).toBe("");
  });
});
