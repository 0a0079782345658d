/**
 * The SDK's HTTP calls to the server's `/auth` router: sign-in (`POST /login`), sign-out
 * (`POST /logout`), the session check (`GET /session`), the user's own sessions
 * (`GET /sessions`, `DELETE /sessions/:id`, `POST /logout?scope=others`), the dispute of a
 * replacement (`POST /dispute`), and reading the error bodies of their answers. They hold no
 * state: the client decides what an answer means.
 *
 * @module
 */

import {
  type DisputeResponse,
  type ErrorBody,
  isErrorCode,
  type LoginResponse,
  type OptionalSessionResponse,
  type OwnSessionsResponse,
  type OwnSessionView,
  type SessionView,
} from "solo-session/protocol";
import { SoloClientError } from "./errors.js";
import type { ResolvedOptions } from "./options.js";

/** What the calls need: where the router is, the `fetch` to use, and this device's name. */
type Server = Pick<ResolvedOptions, "baseUrl" | "fetch" | "deviceName">;

/** What `GET /auth/session` said (`refused` with a null body and 401: no session, no reason). */
export type Check =
  | { kind: "live"; session: SessionView }
  | { kind: "refused"; body: ErrorBody | null; status: number }
  | { kind: "unreachable" };

/** `POST /auth/login` with the app's credentials. Rejects with a {@link SoloClientError}. */
export async function signIn(
  server: Server,
  credentials: Readonly<Record<string, unknown>>,
  takeover: boolean,
): Promise<LoginResponse> {
  const body: Record<string, unknown> = { ...credentials };
  if (server.deviceName !== undefined) body.device = { name: server.deviceName };
  if (takeover) body.takeover = true;
  const res = await post(server, "/login", {
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  return (await res.json()) as LoginResponse;
}

/**
 * `POST /auth/logout` (`everywhere`: every session of the user). A 401 resolves too: there
 * was no live session to end, and the page is signed out either way.
 */
export async function signOut(server: Server, token: string | null, everywhere: boolean): Promise<void> {
  await post(server, `/logout${everywhere ? "?scope=all" : ""}`, { headers: bearer(token) }, 401);
}

/** `GET /auth/sessions`: the user's live sessions, newest first. Rejects with a {@link SoloClientError}. */
export async function listSessions(server: Server, token: string | null): Promise<OwnSessionView[]> {
  const res = await send(server, "GET", "/sessions", {
    headers: { ...bearer(token), accept: "application/json" },
    cache: "no-store",
  });
  return ((await res.json()) as OwnSessionsResponse).sessions;
}

/** `DELETE /auth/sessions/:id`: ends one of the user's sessions. Rejects with a {@link SoloClientError}. */
export async function endOwnSession(server: Server, token: string | null, id: string): Promise<void> {
  await send(server, "DELETE", `/sessions/${encodeURIComponent(id)}`, { headers: bearer(token) });
}

/** `POST /auth/logout?scope=others`: ends every other session of the user. Rejects with a {@link SoloClientError}. */
export async function signOutOthers(server: Server, token: string | null): Promise<void> {
  await send(server, "POST", "/logout?scope=others", { headers: bearer(token) });
}

/**
 * `POST /auth/dispute` with a replacement's capability, in the body (never in the URL).
 * Rejects with a {@link SoloClientError} (`dispute_used`, `invalid_token`, `rate_limited`, ...).
 */
export async function disputeSignIn(server: Server, capability: string): Promise<DisputeResponse> {
  const res = await send(server, "POST", "/dispute", {
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ capability }),
  });
  return (await res.json()) as DisputeResponse;
}

/**
 * `GET /auth/session?optional=true`. With `token` null it goes on the cookie alone. No
 * credential at all is then a 200 `{ session: null }` rather than a 401 `missing_token`, which
 * the browser's console would show as an error on every anonymous page load; it comes back as
 * a refusal without a reason (status 401), as that 401 did. An ended session's answer is still
 * its 401 with the reason, and makes the server clear its cookie.
 */
export async function checkSession(server: Server, token: string | null): Promise<Check> {
  const res = await call(server, "/session?optional=true", {
    headers: { ...bearer(token), accept: "application/json" },
    cache: "no-store",
  });
  if (!res) return { kind: "unreachable" };
  if (res.ok) {
    const body = (await res.json().catch(() => null)) as OptionalSessionResponse | null;
    if (body?.session) return { kind: "live", session: body.session };
    // `{ session: null }`: no credential at all, a 401 without a reason.
    return { kind: "refused", body: null, status: body?.session === null ? 401 : 502 };
  }
  return { kind: "refused", body: await readError(res), status: res.status };
}

/** The error body of an answer, if it is one of ours. */
export async function readError(res: Response): Promise<ErrorBody | null> {
  try {
    const body = (await res.json()) as Partial<ErrorBody> | null;
    return body && isErrorCode(body.error) ? (body as ErrorBody) : null;
  } catch {
    return null;
  }
}

/** A `POST` with the cookie: see {@link send}. */
function post(server: Server, path: string, init: RequestInit, also = 0): Promise<Response> {
  return send(server, "POST", path, init, also);
}

/**
 * A request with the cookie. Rejects with a {@link SoloClientError}: `network_error` when the
 * server cannot be reached, else the code of its error answer (an answer with status `also`
 * counts as done).
 */
async function send(server: Server, method: string, path: string, init: RequestInit, also = 0): Promise<Response> {
  const res = await call(server, path, { ...init, method });
  if (!res) throw new SoloClientError("network_error", 0, null);
  if (res.ok || res.status === also) return res;
  const error = await readError(res);
  throw new SoloClientError(error?.error ?? "internal_error", res.status, error);
}

/** A request to the router with the cookie; null when the server cannot be reached. */
async function call(server: Server, path: string, init: RequestInit): Promise<Response | null> {
  try {
    return await server.fetch(server.baseUrl + path, { ...init, credentials: "include" });
  } catch {
    return null;
  }
}

function bearer(token: string | null): Record<string, string> {
  return token === null ? {} : { authorization: `Bearer ${token}` };
}
