/**
 * The client's state machine and public methods: `createSoloClient`, the session's life
 * (start-up check, sign-in, sign-out, revocation, however it arrives) and the warning. It
 * wires the other parts: the HTTP calls (`auth.ts`), the connection (`connection.ts`) and
 * the other tabs (`tabs.ts`, `tab-sync.ts`).
 *
 *
 * Longer than ~300 lines: the public methods (sign-in, sign-out, the own devices, the dispute)
 * share the one state machine; HTTP, the connection and the tabs live in their own modules.
 *
 * @module
 */

import type {
  ConnectErrorData,
  DisputeResponse,
  ErrorBody,
  LoginResponse,
  RevocationNotice,
  SessionView,
} from "solo-session/protocol";
import { assertNever } from "./assert-never.js";
import {
  checkSession,
  disputeSignIn,
  endOwnSession,
  listSessions,
  readError,
  signIn,
  signOut,
  signOutOthers,
} from "./auth.js";
import { clearAppState } from "./clear.js";
import { createConnection } from "./connection.js";
import { Emitter } from "./emitter.js";
import { SoloClientError } from "./errors.js";
import { resolveOptions, type SoloClientOptions } from "./options.js";
import { fromNotice, fromRefusal, type Kick } from "./revocation.js";
import { syncTabs, type TabSync } from "./tab-sync.js";
import { joinTabs } from "./tabs.js";
import type { RevocationSource, SoloClient, SoloClientEvents, SoloState } from "./types.js";
import { createWarning } from "./warn.js";

/** The auth-refusal codes after which the page asks `/auth/session` what is true. */
const ASK_AGAIN: readonly string[] = ["missing_token", "invalid_token", "token_expired"];

/** The dispute answers after which the capability is of no more use (the others may be retried). */
const SPENT: readonly string[] = ["dispute_used", "invalid_token", "forbidden", "internal_error"];

/**
 * Creates the client: it checks `/auth/session` at start (a reload keeps the session, or
 * learns that it ended), holds the session channel while signed in, and on a revocation,
 * however it arrives, stops reconnecting, clears the app's state, shows the warning and
 * emits `revoked`. Throws a TypeError at once for a bad option.
 *
 * @example
 * ```ts
 * import { createSoloClient } from "@solo-session/client";
 *
 * const solo = createSoloClient({ baseUrl: "/auth", clear: { keep: ["theme"] } });
 * solo.on("revoked", (r) => router.go("/signin", { reason: r.reason }));
 * await solo.ready;
 * if (solo.state.status !== "active") await solo.login({ username, password });
 * const notes = await (await solo.fetch("/api/notes")).json();
 * ```
 */
export function createSoloClient(options: SoloClientOptions = {}): SoloClient {
  const o = resolveOptions(options, globalThis.location);
  const events = new Emitter<SoloClientEvents>();
  const warning = createWarning(o);
  let state: SoloState = o.restore ? { status: "signing-in", via: "restore" } : { status: "anonymous" };
  let token: string | null = null;
  /** The dispute capability of the revocation shown now (kept here, never in the state). */
  let capability: string | null = null;
  /** Bumped whenever the session changes, so that late answers for an old session are dropped. */
  let epoch = 0;
  let destroyed = false;
  let sync: TabSync | null = null;
  /** The other tabs of this browser; null when they cannot be reached (or `tabs: false`). */
  let tabs = o.tabs ? joinTabs(o.tabs, (m) => sync?.hear(m, state)) : null;
  const connection = createConnection(o, events, tabs, { revoked: onNotice, refused, closed: askServer });
  if (tabs) sync = syncTabs(connection, { adopt, signOut: signedOut, revoke });

  // --- the session's life -------------------------------------------------------------

  async function restore(): Promise<SoloState> {
    const at = epoch;
    const check = await checkSession(o, null);
    if (!current(at)) return state;
    if (check.kind === "live") {
      activate(check.session);
    } else {
      const revocation = check.kind === "refused" && ended(check.body, null);
      if (revocation) await revoke(revocation, true);
      else setState({ status: "anonymous" });
    }
    return state;
  }

  /** Another tab signed in: leave the current session, take this one (on the cookie). */
  function adopt(session: SessionView): void {
    end();
    activate(session);
  }

  function activate(session: SessionView): void {
    epoch++;
    warning.remove();
    setState({ status: "active", session });
    connection.open(session.id, token);
    warning.preload();
  }

  function onNotice(notice: RevocationNotice): void {
    if (notice.sessionId === sessionId()) void revoke(fromNotice(notice));
  }

  async function refused(data: ConnectErrorData): Promise<void> {
    const revocation = ended(data, sessionId(), "reconnect");
    if (revocation) return revoke(revocation);
    if (ASK_AGAIN.includes(data.code)) return askServer();
    // The store is down, too many connections, ...: try again later.
    connection.retry();
  }

  /** The channel was closed without a notice, or refused our credentials: ask `/auth/session` what is true. */
  async function askServer(): Promise<void> {
    const at = epoch;
    const id = sessionId();
    const check = await checkSession(o, token);
    if (!current(at)) return;
    switch (check.kind) {
      case "live":
        // Still live: another connection of this session took the channel.
        if (check.session.id === id) return connection.takeBack();
        // The cookie now belongs to a newer sign-in in this browser: ours was replaced by it.
        return revoke({
          reason: "replaced",
          code: "session_replaced",
          sessionId: id,
          at: check.session.createdAt,
          by: { device: check.session.device, at: check.session.createdAt },
          source: "http",
          disputable: false,
        });
      case "refused": {
        const revocation = ended(check.body, id);
        if (revocation) return revoke(revocation);
        // No session any more, and no reason given (the cookie is gone): signed out.
        if (check.status === 401) return signedOut();
        return connection.retry();
      }
      case "unreachable":
        return connection.retry();
      default:
        assertNever(check);
    }
  }

  /**
   * The one way a session ends from outside: stop the channel, clear the app's state, show
   * the warning, emit `revoked`, and have the server clear its cookie.
   */
  async function revoke(kick: Kick, restoring = false): Promise<void> {
    if (destroyed || (state.status !== "active" && !restoring)) return;
    end();
    // Another tab of this browser is signing in or out: this is its doing, not a kick. Wait for it.
    if (sync?.hold(kick)) return;
    tabs?.post({ t: "revoked", revocation: kick });
    const { dispute: held, ...revocation } = kick;
    capability = held ?? null;
    const at = epoch;
    const clearing = clearAppState(o.clear);
    setState({ status: "revoked", revocation });
    const cleared = await clearing;
    if (destroyed) return;
    if (at === epoch) await warning.show(revocation, cleared, capability ? dispute : undefined);
    events.emit("revoked", revocation);
    if (revocation.source !== "http") void checkSession(o, null);
  }

  /** "This wasn't me": spends the capability of the revocation shown now. */
  async function dispute(): Promise<DisputeResponse> {
    alive();
    const held = capability;
    if (state.status !== "revoked" || held === null) {
      throw new Error("solo-session: nothing to dispute (see state.revocation.disputable)");
    }
    try {
      const answer = await disputeSignIn(o, held);
      spent(held);
      return answer;
    } catch (error) {
      if (error instanceof SoloClientError && SPENT.includes(error.code)) spent(held);
      throw error;
    }
  }

  /** The capability `held` is of no more use: forget it; the revocation is no longer disputable. */
  function spent(held: string): void {
    if (capability !== held) return;
    capability = null;
    if (state.status === "revoked")
      setState({ status: "revoked", revocation: { ...state.revocation, disputable: false } });
  }

  /** A call on the live session's credentials; a 401 that says the session ended is a revocation. */
  async function authed<T>(call: (token: string | null) => Promise<T>): Promise<T> {
    alive();
    const id = sessionId();
    const at = epoch;
    try {
      return await call(token);
    } catch (error) {
      if (error instanceof SoloClientError && error.status === 401 && at === epoch && state.status === "active") {
        const revocation = ended(error.body, id);
        if (revocation) await revoke(revocation);
      }
      throw error;
    }
  }

  // --- helpers --------------------------------------------------------------------------

  function session(): SessionView | null {
    return state.status === "active" ? state.session : null;
  }

  function sessionId(): string | null {
    return session()?.id ?? null;
  }

  /** A refusal's body as a revocation, or null when it does not say that the session ended. */
  function ended(
    body: ErrorBody | ConnectErrorData | null,
    id: string | null,
    source: RevocationSource = "http",
  ): Kick | null {
    return body && fromRefusal(body, id, source, o.clock());
  }

  /**
   * Before a sign-in or sign-out: tell the other tabs (so that none takes what follows for a
   * kick), and leave the session here.
   */
  function stepOut(): void {
    tabs?.post({ t: "pending" });
    end();
  }

  /** Leaves the current session locally: forgets the token, closes the connection. */
  function end(): void {
    epoch++;
    token = null;
    capability = null;
    connection.close();
  }

  /** Signed out elsewhere (another tab, or the cookie is gone): anonymous, without a warning. */
  function signedOut(): void {
    end();
    warning.remove();
    setState({ status: "anonymous" });
  }

  function setState(next: SoloState): void {
    state = next;
    if (!destroyed) events.emit("state", next);
  }

  /** True while the session is the one of `at` and the client lives. */
  function current(at: number): boolean {
    return at === epoch && !destroyed;
  }

  function alive(): void {
    if (destroyed) throw new Error("solo-session: this client was destroyed");
  }

  // --- the public methods ---------------------------------------------------------------

  const client: SoloClient = {
    ready: o.restore ? restore() : Promise.resolve(state),
    get state() {
      return state;
    },
    get session() {
      return session();
    },
    get connection() {
      return connection.status;
    },
    get leader() {
      return connection.leader;
    },
    on: (event, handler) => events.on(event, handler),
    off: (event, handler) => events.off(event, handler),

    async login(credentials, options = {}) {
      alive();
      if (typeof credentials !== "object" || credentials === null) {
        throw new TypeError("login(): credentials must be an object");
      }
      stepOut();
      const at = epoch;
      setState({ status: "signing-in", via: "login" });
      let answer: LoginResponse;
      try {
        answer = await signIn(o, credentials, options.takeover === true);
      } catch (error) {
        tabs?.post({ t: "failed" });
        if (current(at)) setState({ status: "anonymous" });
        throw error;
      }
      tabs?.post({ t: "login", session: answer.session });
      if (current(at)) {
        token = answer.token;
        activate(answer.session);
      }
      return { session: answer.session, replaced: answer.replaced };
    },

    async logout(options = {}) {
      alive();
      const before = state;
      const beforeToken = token;
      stepOut();
      try {
        await signOut(o, beforeToken, options.everywhere === true);
      } catch (error) {
        // The logout failed (or did not reach the server): back to the session.
        tabs?.post({ t: "failed" });
        if (before.status === "active" && !destroyed) {
          token = beforeToken;
          activate(before.session);
        }
        throw error;
      }
      tabs?.post({ t: "logout" });
      if (o.clearOnLogout) await clearAppState(o.clear);
      warning.remove();
      setState({ status: "anonymous" });
    },

    sessions: () => authed((t) => listSessions(o, t)),

    async endSession(id) {
      alive();
      if (typeof id !== "string" || id === "") throw new TypeError("endSession(): id must be a session id");
      // This very session: a sign-out (every tab signs out, no warning).
      if (id === sessionId()) return client.logout();
      await authed((t) => endOwnSession(o, t, id));
    },

    endOtherSessions: () => authed((t) => signOutOthers(o, t)),

    dispute,

    async fetch(input, init = {}) {
      alive();
      const request = input instanceof Request ? input : null;
      const ours = sameOrigin(String(request ? request.url : input), o.origin);
      const headers = new Headers(init.headers ?? request?.headers);
      if (ours && token !== null && !headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
      const id = sessionId();
      const at = epoch;
      const res = await o.fetch(input, { ...init, headers });
      if (ours && res.status === 401 && at === epoch && state.status === "active") {
        const revocation = ended(await readError(res.clone()), id);
        if (revocation) await revoke(revocation);
      }
      return res;
    },

    destroy() {
      if (destroyed) return;
      destroyed = true;
      connection.destroy();
      end();
      warning.remove();
      events.clear();
      tabs?.close();
      tabs = null;
      sync?.close();
    },
  };
  return client;
}

function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url, globalThis.location?.href ?? "http://localhost/").origin === origin;
  } catch {
    return false;
  }
}
