import {
  type ConnectErrorData,
  type ErrorBody,
  isErrorCode,
  type LoginResponse,
  type RevocationNotice,
  type SessionResponse,
  type SessionView,
} from "solo-session/protocol";
import { watchActivity } from "./activity.js";
import type { Channel, ChannelHandlers } from "./channel.js";
import { clearAppState, emptyReport } from "./clear.js";
import { Emitter } from "./emitter.js";
import { SoloClientError } from "./errors.js";
import { type ResolvedOptions, resolveOptions, type SoloClientOptions } from "./options.js";
import { fromNotice, fromRefusal } from "./revocation.js";
import { joinTabs, type TabMessage, type Tabs } from "./tabs.js";
import type {
  ClearReport,
  ConnectionStatus,
  DisconnectCause,
  LoginOptions,
  LogoutOptions,
  Revocation,
  SoloClientEventName,
  SoloClientEvents,
  SoloClientHandler,
  SoloState,
} from "./types.js";

/**
 * What `login()` resolves to.
 *
 * @example
 * ```ts
 * const { session, replaced } = await solo.login({ username, password });
 * if (replaced.length > 0) toast(`Signed out ${replaced.length} other device(s)`);
 * ```
 */
export interface LoginResult {
  /** The new session. */
  session: SessionView;
  /** The sessions this sign-in ended elsewhere (they were told at once). */
  replaced: SessionView[];
}

/**
 * A solo-session client. Make one per page with {@link createSoloClient}. The tabs of one
 * browser share one session channel: one tab (the leader) holds the socket and tells the
 * others; a sign-in, a sign-out or a revocation in any tab reaches every tab.
 *
 * @example
 * ```ts
 * const solo: SoloClient = createSoloClient();
 * solo.on("state", (s) => render(s.status === "active" ? s.session.userId : null));
 * ```
 */
export interface SoloClient {
  /** The current state; switch on `state.status`. */
  readonly state: SoloState;
  /** The live session, or null. */
  readonly session: SessionView | null;
  /**
   * The session channel's condition. In a tab that is not the leader, the leader's (it holds
   * the one connection of this browser).
   */
  readonly connection: ConnectionStatus;
  /**
   * True while this tab holds the session channel (the leader among this browser's tabs, or a
   * page alone). The `leader` event tells each change.
   */
  readonly leader: boolean;
  /** Settles once the start-up check of `/auth/session` is done (at once with `restore: false`). */
  readonly ready: Promise<SoloState>;
  /**
   * Signs in with the app's credentials (the body of `POST /auth/login`); the browser's other
   * tabs adopt the new session (a re-login is not a kick for them). Rejects with a
   * {@link SoloClientError}: `invalid_credentials`, `session_active` (see `error.conflict`:
   * when `takeover` is true, retry with `{ takeover: true }`), `rate_limited`, `network_error`, ...
   */
  login(credentials: Readonly<Record<string, unknown>>, options?: LoginOptions): Promise<LoginResult>;
  /** Signs out (this session, or `{ everywhere: true }` every session of the user); every tab signs out. */
  logout(options?: LogoutOptions): Promise<void>;
  /**
   * `fetch` with the session's credentials for same-origin requests. A 401 whose code is
   * `session_*` is a revocation (cleared, warned, `revoked` emitted); the response is returned as is.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Listens to an event; returns a function that stops listening. */
  on<K extends SoloClientEventName>(event: K, handler: SoloClientHandler<K>): () => void;
  /** Stops listening. */
  off<K extends SoloClientEventName>(event: K, handler: SoloClientHandler<K>): void;
  /** Closes the channel, removes listeners and the warning. The client cannot be used after. */
  destroy(): void;
}

/** The auth-refusal codes after which the page asks `/auth/session` what is true. */
const ASK_AGAIN = new Set(["missing_token", "invalid_token", "token_expired"]);

/** How long a tab waits for another tab's sign-in or sign-out before an ending counts as a kick, in ms. */
const PENDING_WAIT = 10_000;

type Check =
  | { kind: "live"; session: SessionView }
  | { kind: "refused"; body: ErrorBody | null; status: number }
  | { kind: "unreachable" };

/**
 * Creates the client: it checks `/auth/session` at start (a reload keeps the session, or
 * learns that it ended), holds the session channel while signed in, and on a revocation,
 * however it arrives, stops reconnecting, clears the app's state, shows the warning and
 * emits `revoked`. Throws a TypeError at once for a bad option.
 *
 * @example
 * ```ts
 * import { createSoloClient } from "solo-session/client";
 *
 * const solo = createSoloClient({ baseUrl: "/auth", clear: { keep: ["theme"] } });
 * solo.on("revoked", (r) => router.go("/signin", { reason: r.reason }));
 * await solo.ready;
 * if (solo.state.status !== "active") await solo.login({ username, password });
 * const notes = await (await solo.fetch("/api/notes")).json();
 * ```
 */
export function createSoloClient(options: SoloClientOptions = {}): SoloClient {
  return new Client(resolveOptions(options, globalThis.location));
}

class Client implements SoloClient {
  readonly #o: ResolvedOptions;
  readonly #events = new Emitter<SoloClientEvents>();
  readonly ready: Promise<SoloState>;
  #state: SoloState;
  #connection: ConnectionStatus = "idle";
  #token: string | null = null;
  #channel: Channel | null = null;
  #stopActivity: (() => void) | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #retries = 0;
  #removeWarning: (() => void) | null = null;
  /** Bumped whenever the session changes, so that late answers for an old session are dropped. */
  #epoch = 0;
  #destroyed = false;
  /** The other tabs of this browser; null when they cannot be reached (or `tabs: false`). */
  #tabs: Tabs | null;
  /** Leaves the tabs' election; set while signed in. */
  #leave: (() => void) | null = null;
  /** Set while another tab signs in or out: the session's end then is that tab's doing. */
  #pending: ReturnType<typeof setTimeout> | null = null;
  /** An end of the session (replaced, logout) that arrived while another tab signs in or out. */
  #held: Revocation | null = null;
  readonly #onOnline = () => this.#online();
  readonly #onOffline = () => this.#offline();
  readonly #onVisible = () => this.#visible();

  constructor(options: ResolvedOptions) {
    this.#o = options;
    this.#tabs = options.tabs ? joinTabs(options.tabs, (m) => this.#onTab(m)) : null;
    this.#listen("addEventListener");
    if (options.restore) {
      this.#state = { status: "signing-in", via: "restore" };
      this.ready = this.#restore();
    } else {
      this.#state = { status: "anonymous" };
      this.ready = Promise.resolve(this.#state);
    }
  }

  get state(): SoloState {
    return this.#state;
  }

  get session(): SessionView | null {
    return this.#state.status === "active" ? this.#state.session : null;
  }

  get connection(): ConnectionStatus {
    return this.#connection;
  }

  get leader(): boolean {
    return this.#channel !== null;
  }

  on<K extends SoloClientEventName>(event: K, handler: SoloClientHandler<K>): () => void {
    return this.#events.on(event, handler);
  }

  off<K extends SoloClientEventName>(event: K, handler: SoloClientHandler<K>): void {
    this.#events.off(event, handler);
  }

  async login(credentials: Readonly<Record<string, unknown>>, options: LoginOptions = {}): Promise<LoginResult> {
    this.#alive();
    if (typeof credentials !== "object" || credentials === null) {
      throw new TypeError("login(): credentials must be an object");
    }
    this.#tabs?.post({ t: "pending" });
    this.#end();
    const epoch = this.#epoch;
    this.#setState({ status: "signing-in", via: "login" });
    const body: Record<string, unknown> = { ...credentials };
    if (this.#o.deviceName !== undefined) body.device = { name: this.#o.deviceName };
    if (options.takeover === true) body.takeover = true;
    let res: Response;
    try {
      res = await this.#o.fetch(`${this.#o.baseUrl}/login`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
        credentials: "include",
      });
    } catch {
      this.#failLogin(epoch);
      throw new SoloClientError("network_error", 0, null);
    }
    if (!res.ok) {
      const error = await readError(res);
      this.#failLogin(epoch);
      throw new SoloClientError(error?.error ?? "internal_error", res.status, error);
    }
    const answer = (await res.json()) as LoginResponse;
    this.#tabs?.post({ t: "login", session: answer.session });
    if (epoch === this.#epoch && !this.#destroyed) {
      this.#token = answer.token;
      this.#activate(answer.session);
    }
    return { session: answer.session, replaced: answer.replaced };
  }

  async logout(options: LogoutOptions = {}): Promise<void> {
    this.#alive();
    const state = this.#state;
    const token = this.#token;
    // Close the channel first (and tell the other tabs), so that no tab takes this logout for a revocation.
    this.#tabs?.post({ t: "pending" });
    this.#end();
    const url = `${this.#o.baseUrl}/logout${options.everywhere === true ? "?scope=all" : ""}`;
    let res: Response;
    try {
      res = await this.#o.fetch(url, { method: "POST", headers: bearer(token), credentials: "include" });
    } catch {
      this.#resume(state, token);
      throw new SoloClientError("network_error", 0, null);
    }
    // 401: there was no live session to end; the page is signed out either way.
    if (!res.ok && res.status !== 401) {
      const error = await readError(res);
      this.#resume(state, token);
      throw new SoloClientError(error?.error ?? "internal_error", res.status, error);
    }
    this.#tabs?.post({ t: "logout" });
    if (this.#o.clearOnLogout && this.#o.clear) await clearAppState(this.#o.clear);
    this.#unwarn();
    this.#setState({ status: "anonymous" });
  }

  async fetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
    this.#alive();
    const ours = this.#sameOrigin(String(input instanceof Request ? input.url : input));
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    if (ours && this.#token !== null && !headers.has("authorization")) {
      headers.set("authorization", `Bearer ${this.#token}`);
    }
    const sessionId = this.session?.id ?? null;
    const epoch = this.#epoch;
    const res = await this.#o.fetch(input, { ...init, headers });
    if (ours && res.status === 401 && epoch === this.#epoch && this.#state.status === "active") {
      const body = await readError(res.clone());
      const revocation = body && fromRefusal(body, sessionId, "http", this.#o.clock());
      if (revocation) await this.#revoke(revocation);
    }
    return res;
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#end();
    this.#unwarn();
    this.#listen("removeEventListener");
    this.#events.clear();
    this.#tabs?.close();
    this.#tabs = null;
    this.#stopWaiting();
  }

  // --- the session's life -------------------------------------------------------------

  async #restore(): Promise<SoloState> {
    const epoch = this.#epoch;
    const check = await this.#check(null);
    if (epoch !== this.#epoch || this.#destroyed) return this.#state;
    if (check.kind === "live") {
      this.#activate(check.session);
    } else {
      const revocation =
        check.kind === "refused" && check.body && fromRefusal(check.body, null, "http", this.#o.clock());
      if (revocation) await this.#revoke(revocation, true);
      else this.#setState({ status: "anonymous" });
    }
    return this.#state;
  }

  #activate(session: SessionView): void {
    this.#epoch++;
    this.#retries = 0;
    this.#unwarn();
    this.#setState({ status: "active", session });
    this.#openChannel();
    if (typeof document !== "undefined") {
      this.#stopActivity = watchActivity(document, this.#o.activityInterval, this.#o.clock, () => {
        if (this.#connection !== "connected") return false;
        if (this.#channel) this.#channel.activity();
        else this.#tabs?.post({ t: "act" });
        return true;
      });
    }
    // Fetch the warning's code now, so it shows at once even if the network is gone later.
    if (this.#o.warning === "builtin") loadWarning().catch(() => {});
  }

  /** Opens the session channel here, or, with other tabs, joins their election: the leader opens it. */
  #openChannel(): void {
    this.#setConnection("connecting");
    if (!this.#tabs) {
      this.#openSocket();
      return;
    }
    this.#leave = this.#tabs.elect(() => {
      this.#openSocket();
      this.#setConnection("connecting"); // told to the other tabs: this one leads now
      return () => {
        this.#drop();
        // Another tab leads now (or none, when this one leaves): ask for the leader's connection.
        this.#tabs?.post({ t: "hi" });
      };
    });
  }

  #openSocket(): void {
    const epoch = this.#epoch;
    let channel: Channel | null = null;
    const mine = () => channel !== null && channel === this.#channel && epoch === this.#epoch;
    const handlers: ChannelHandlers = {
      connected: () => {
        if (!mine()) return;
        this.#retries = 0;
        this.#setConnection("connected");
      },
      disconnected: (cause) => {
        if (!mine()) return;
        if (cause === "network") this.#setConnection("reconnecting");
        else void this.#askServer();
      },
      revoked: (notice) => {
        if (mine()) this.#onNotice(notice);
      },
      refused: (data) => {
        if (mine()) void this.#onRefused(data);
      },
    };
    channel = this.#o.transport({ ...this.#o.channel, token: this.#token }, handlers);
    this.#channel = channel; // none was held: a session's channel opens after the last one was dropped
    this.#events.emit("leader", true);
  }

  #onNotice(notice: RevocationNotice): void {
    if (notice.sessionId !== this.session?.id) return;
    void this.#revoke(fromNotice(notice));
  }

  async #onRefused(data: ConnectErrorData): Promise<void> {
    const revocation = fromRefusal(data, this.session?.id ?? null, "reconnect", this.#o.clock());
    if (revocation) return this.#revoke(revocation);
    if (ASK_AGAIN.has(data.code)) return this.#askServer();
    // The store is down, too many connections, ...: try again later.
    this.#retryLater();
  }

  /** The channel was closed without a notice, or refused our credentials: ask `/auth/session` what is true. */
  async #askServer(): Promise<void> {
    const epoch = this.#epoch;
    const sessionId = this.session?.id ?? null;
    const check = await this.#check(this.#token);
    if (epoch !== this.#epoch || this.#destroyed) return;
    switch (check.kind) {
      case "live":
        if (check.session.id === sessionId) {
          if (this.#tabs) {
            // The elected tab holds the channel: take it back, with backoff.
            this.#retryLater();
          } else {
            // Another connection of this session (another tab, not coordinated) holds the channel.
            this.#setConnection("standby");
          }
          return;
        }
        // The cookie now belongs to a newer sign-in in this browser: ours was replaced by it.
        return this.#revoke({
          reason: "replaced",
          code: "session_replaced",
          sessionId,
          at: check.session.createdAt,
          by: { device: check.session.device, at: check.session.createdAt },
          source: "http",
        });
      case "refused": {
        const revocation = check.body && fromRefusal(check.body, sessionId, "http", this.#o.clock());
        if (revocation) return this.#revoke(revocation);
        if (check.status === 401) {
          // No session any more, and no reason given (the cookie is gone): signed out.
          this.#end();
          this.#setState({ status: "anonymous" });
          return;
        }
        this.#retryLater();
        return;
      }
      case "unreachable":
        this.#retryLater();
        return;
    }
  }

  /**
   * The one way a session ends from outside: stop the channel, clear the app's state, show
   * the warning, emit `revoked`, and have the server clear its cookie.
   */
  async #revoke(revocation: Revocation, restoring = false): Promise<void> {
    if (this.#destroyed || (this.#state.status !== "active" && !restoring)) return;
    this.#end();
    if (this.#pending !== null && (revocation.reason === "replaced" || revocation.reason === "logout")) {
      // Another tab of this browser is signing in or out: this is its doing, not a kick. Wait for it.
      this.#held = revocation;
      return;
    }
    this.#tabs?.post({ t: "revoked", revocation });
    const epoch = this.#epoch;
    const clearing = this.#o.clear ? clearAppState(this.#o.clear) : Promise.resolve(emptyReport());
    this.#setState({ status: "revoked", revocation });
    const cleared = await clearing;
    if (this.#destroyed) return;
    if (epoch === this.#epoch) await this.#warn(revocation, cleared);
    this.#events.emit("revoked", revocation);
    if (revocation.source !== "http") void this.#check(null);
  }

  async #warn(revocation: Revocation, cleared: ClearReport): Promise<void> {
    const warning = this.#o.warning;
    const context = { cleared, locale: this.#o.locale, texts: this.#o.texts };
    if (warning === false) return;
    try {
      if (warning === "builtin") {
        const { showWarning } = await loadWarning();
        if (this.#destroyed) return;
        this.#unwarn();
        this.#removeWarning = showWarning(revocation, context);
      } else {
        warning(revocation, context);
      }
    } catch (error) {
      // A warning that fails must not stop the revocation.
      if (typeof globalThis.reportError === "function") globalThis.reportError(error);
    }
  }

  /**
   * `GET /auth/session`. With `token` null it goes on the cookie alone; an ended session's
   * answer also makes the server clear its cookie.
   */
  async #check(token: string | null): Promise<Check> {
    let res: Response;
    try {
      res = await this.#o.fetch(`${this.#o.baseUrl}/session`, {
        headers: { ...bearer(token), accept: "application/json" },
        credentials: "include",
        cache: "no-store",
      });
    } catch {
      return { kind: "unreachable" };
    }
    if (res.ok) {
      const body = (await res.json().catch(() => null)) as SessionResponse | null;
      if (body?.session) return { kind: "live", session: body.session };
      return { kind: "refused", body: null, status: 502 };
    }
    return { kind: "refused", body: await readError(res), status: res.status };
  }

  // --- connection bookkeeping ----------------------------------------------------------

  // --- the other tabs ---------------------------------------------------------------------

  #onTab(m: TabMessage): void {
    const active = this.#state.status === "active";
    switch (m.t) {
      case "hi":
        if (this.#channel) this.#tabs?.post({ t: "conn", s: this.#connection });
        return;
      case "conn":
        // The leader's connection is this tab's (idle: it left; the next leader says more).
        if (active && !this.#channel && this.#leave && m.s !== "idle") this.#setConnection(m.s);
        return;
      case "act":
        if (this.#channel && this.#connection === "connected") this.#channel.activity();
        return;
      case "pending":
        this.#stopWaiting();
        this.#pending = setTimeout(() => this.#settle(), PENDING_WAIT);
        return;
      case "failed":
        this.#settle();
        return;
      case "login": {
        this.#settle(true);
        // Adopt it, unless this tab is signing in itself (its own answer decides).
        const own = this.#state.status === "signing-in" && this.#state.via === "login";
        if (this.session?.id !== m.session.id && !own) {
          this.#end();
          this.#activate(m.session);
        }
        return;
      }
      case "logout": {
        this.#settle(true);
        // Also when the server's "logout" notice outran the other tab's "pending": it was ours.
        const s = this.#state;
        if (active || (s.status === "revoked" && s.revocation.reason === "logout")) {
          this.#end();
          this.#unwarn();
          this.#setState({ status: "anonymous" });
        }
        return;
      }
      case "revoked": {
        const id = m.revocation.sessionId;
        if (active && (id === null || id === this.session?.id)) void this.#revoke(m.revocation);
        return;
      }
    }
  }

  /**
   * Another tab's sign-in or sign-out is over: a held end of the session was its doing
   * (`done`), or, when it failed or took too long, a kick after all.
   */
  #settle(done = false): void {
    const held = this.#held;
    this.#stopWaiting();
    if (held && !done) void this.#revoke(held);
  }

  #stopWaiting(): void {
    if (this.#pending !== null) clearTimeout(this.#pending);
    this.#pending = null;
    this.#held = null;
  }

  /**
   * The channel is down for now: say so, and connect again with backoff. A tab that stopped
   * leading meanwhile has nothing to retry: the new leader's connection is its own.
   */
  #retryLater(): void {
    if (!this.#channel) return;
    this.#setConnection("reconnecting");
    if (this.#retryTimer !== null) return;
    const { reconnectDelay, reconnectDelayMax } = this.#o.channel;
    const base = Math.min(reconnectDelayMax, reconnectDelay * 2 ** this.#retries);
    const wait = Math.min(reconnectDelayMax, base * (0.5 + Math.random()));
    this.#retries++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#state.status === "active" && isOnline()) this.#channel?.reconnect();
    }, wait);
  }

  #online(): void {
    if (this.#state.status !== "active" || !this.#channel || this.#connection !== "offline") return;
    this.#setConnection("reconnecting");
    this.#channel.reconnect();
  }

  #offline(): void {
    if (this.#state.status !== "active" || !this.#channel || this.#connection === "standby") return;
    this.#channel.pause();
    this.#setConnection("offline");
  }

  /** The page became visible or got focus: a tab in standby takes the channel back. */
  #visible(): void {
    if (typeof document !== "undefined" && document.visibilityState !== "visible") return;
    if (this.#state.status === "active" && this.#connection === "standby" && this.#channel) {
      this.#setConnection("connecting");
      this.#channel.reconnect();
    }
  }

  // --- helpers --------------------------------------------------------------------------

  /** Removes the warning, if one is shown. */
  #unwarn(): void {
    this.#removeWarning?.();
    this.#removeWarning = null;
  }

  /** Adds or removes the page's listeners: network, focus, visibility. */
  #listen(method: "addEventListener" | "removeEventListener"): void {
    if (typeof window === "undefined") return;
    window[method]("online", this.#onOnline);
    window[method]("offline", this.#onOffline);
    window[method]("focus", this.#onVisible);
    document[method]("visibilitychange", this.#onVisible);
  }

  /** Leaves the current session locally: closes the channel, stops timers, forgets the token. */
  #end(): void {
    this.#epoch++;
    this.#leave?.();
    this.#leave = null;
    this.#drop();
    this.#stopActivity?.();
    this.#stopActivity = null;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#token = null;
    this.#setConnection("idle");
  }

  /** Back to a session after a logout that did not reach the server. */
  #resume(state: SoloState, token: string | null): void {
    this.#tabs?.post({ t: "failed" });
    if (state.status !== "active" || this.#destroyed) return;
    this.#token = token;
    this.#activate(state.session);
  }

  #failLogin(epoch: number): void {
    this.#tabs?.post({ t: "failed" });
    if (epoch === this.#epoch && !this.#destroyed) this.#setState({ status: "anonymous" });
  }

  /** Closes the session channel this tab holds, if any, and tells (`leader`: false) that it no longer leads. */
  #drop(): void {
    if (!this.#channel) return;
    this.#channel.close();
    this.#channel = null;
    if (!this.#destroyed) this.#events.emit("leader", false);
  }

  #setState(state: SoloState): void {
    this.#state = state;
    if (!this.#destroyed) this.#events.emit("state", state);
  }

  /**
   * Moves the connection to `next`, tells the other tabs when this one leads, and emits
   * `connected`, or `disconnected` when the channel goes down (or down in another way).
   */
  #setConnection(next: ConnectionStatus): void {
    const prev = this.#connection;
    if (prev === next) return;
    this.#connection = next;
    if (this.#channel) this.#tabs?.post({ t: "conn", s: next });
    const sessionId = this.session?.id;
    if (next === "connected") {
      if (sessionId) this.#events.emit("connected", { sessionId });
    } else if (
      prev === "connected" ||
      // Down in a new way; coming back online (offline → reconnecting) is no new loss.
      (next !== "idle" && next !== "connecting" && !(prev === "offline" && next === "reconnecting"))
    ) {
      // idle: closed here; connecting, reconnecting: the network (or the leader tab) went away.
      const cause: DisconnectCause =
        next === "idle" ? "closed" : next === "offline" || next === "standby" ? next : "network";
      this.#events.emit("disconnected", { cause, reconnecting: next !== "idle" && next !== "standby" });
    }
  }

  #sameOrigin(url: string): boolean {
    try {
      return new URL(url, globalThis.location?.href ?? "http://localhost/").origin === this.#o.origin;
    } catch {
      return false;
    }
  }

  #alive(): void {
    if (this.#destroyed) throw new Error("solo-session: this client was destroyed");
  }
}

/** The built-in warning is a separate chunk: an app that never shows it never loads it. */
function loadWarning(): Promise<typeof import("./warning/dialog.js")> {
  return import("./warning/dialog.js");
}

function bearer(token: string | null): Record<string, string> {
  return token === null ? {} : { authorization: `Bearer ${token}` };
}

function isOnline(): boolean {
  return typeof navigator === "undefined" || navigator.onLine !== false;
}

/** The error body of an answer, if it is one of ours. */
async function readError(res: Response): Promise<ErrorBody | null> {
  try {
    const body = (await res.json()) as Partial<ErrorBody> | null;
    return body && isErrorCode(body.error) ? (body as ErrorBody) : null;
  } catch {
    return null;
  }
}
