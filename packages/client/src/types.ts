/**
 * The public types of the client: its state, revocations, the connection, the events, the
 * options of `login()` and `logout()`, and the {@link SoloClient} interface itself. Type-only.
 * The wire types are in `wire.ts`, the clearing and warning types beside their code
 * (`clear.ts`, `warning/texts.ts`).
 *
 *
 * Longer than ~300 lines: type-only, each documented for the editor.
 *
 * @module
 */

import type { DisputeResponse, OwnSessionView, RevocationNotice, SessionEndedCode, SessionView } from "./wire.js";

/**
 * How a revocation reached this page.
 *
 * @example
 * ```ts
 * solo.on("revoked", (r) => metrics.count("kick", { source: r.source satisfies RevocationSource }));
 * ```
 */
export type RevocationSource =
  /** `session:revoked` pushed on the live connection. */
  | "push"
  /** A refused (re)connection: the device was offline or asleep when the session ended. */
  | "reconnect"
  /** A 401 `session_*` answer over HTTP: `solo.fetch()`, or `/auth/session` on start. */
  | "http";

/**
 * A session that ended, as the SDK learned it: the server's {@link RevocationNotice} plus
 * the code and how it arrived. `sessionId` is null when the page did not know the session
 * (a reload that found an ended session). `at` is when the session ended, or, when the
 * server did not say, when this page found out.
 *
 * @example
 * ```ts
 * solo.on("revoked", (r: Revocation) => {
 *   if (r.reason === "replaced") toast(`Signed in on ${r.by?.device.browser} at ${r.by?.at}`);
 * });
 * ```
 */
export interface Revocation extends Omit<RevocationNotice, "sessionId" | "dispute"> {
  sessionId: string | null;
  code: SessionEndedCode;
  source: RevocationSource;
  /**
   * True when the person can say "This wasn't me" with `solo.dispute()`: a replacement whose
   * notice carried a dispute capability (the SDK keeps it to itself, never in this object)
   * that has not been used yet.
   */
  disputable: boolean;
}

/**
 * The SDK's state: one of four, switch on `status`.
 *
 * - `anonymous`: nobody is signed in.
 * - `signing-in`: `login()` is on its way (`via: "login"`), or the start-up check of
 *   `/auth/session` (`via: "restore"`).
 * - `active`: a live session.
 * - `revoked`: the session was ended elsewhere; the page has been told and cleared.
 *
 * @example
 * ```ts
 * function view(state: SoloState): string {
 *   switch (state.status) {
 *     case "anonymous": return "sign-in form";
 *     case "signing-in": return "spinner";
 *     case "active": return `Signed in as ${state.session.userId}`;
 *     case "revoked": return `Signed out (${state.revocation.reason})`;
 *   }
 * }
 * ```
 */
export type SoloState =
  | { status: "anonymous" }
  | { status: "signing-in"; via: "login" | "restore" }
  | { status: "active"; session: SessionView }
  | { status: "revoked"; revocation: Revocation };

/**
 * The session channel's condition while signed in. In a tab that is not the leader, the
 * leader's.
 *
 * @example
 * ```ts
 * badge.textContent = solo.connection === ("connected" satisfies ConnectionStatus) ? "Live" : "Offline";
 * ```
 */
export type ConnectionStatus =
  /** Not signed in, or closed. */
  | "idle"
  /** The first connection attempt is on its way. */
  | "connecting"
  /** Connected: revocations arrive within milliseconds. */
  | "connected"
  /** The connection was lost (network, server restart); reconnecting with backoff. */
  | "reconnecting"
  /** The browser reports no network; reconnects as soon as it is back. */
  | "offline"
  /**
   * Another connection of the same session (a page that does not coordinate with this one,
   * e.g. `tabs: false`) took over the channel; this one waits and reconnects when the page
   * becomes visible again.
   */
  | "standby";

/**
 * Why the channel went down: the connection broke (`network`, also when the leader tab
 * went away), the browser went offline, another page took the channel over (`standby`), or
 * the session ended here (`closed`).
 *
 * @example
 * ```ts
 * solo.on("disconnected", ({ cause }: { cause: DisconnectCause }) => cause === "offline" && showOfflineBanner());
 * ```
 */
export type DisconnectCause = "network" | "offline" | "standby" | "closed";

/**
 * The payload of `disconnected`.
 *
 * @example
 * ```ts
 * solo.on("disconnected", (e: DisconnectedEvent) => console.log(e.cause, e.reconnecting ? "retrying" : "stopped"));
 * ```
 */
export interface DisconnectedEvent {
  cause: DisconnectCause;
  /** True when the SDK will try to connect again by itself. */
  reconnecting: boolean;
}

/**
 * The payload of `connected`.
 *
 * @example
 * ```ts
 * solo.on("connected", (e: ConnectedEvent) => console.log("live", e.sessionId));
 * ```
 */
export interface ConnectedEvent {
  sessionId: string;
}

/**
 * Events of the client and their payloads.
 *
 * @example
 * ```ts
 * const onState = (s: SoloClientEvents["state"]) => render(s);
 * solo.on("state", onState);
 * ```
 */
export interface SoloClientEvents {
  /** The session ended elsewhere (after clearing and showing the warning). */
  revoked: Revocation;
  /** The state changed. */
  state: SoloState;
  /** The session channel is up. */
  connected: ConnectedEvent;
  /** The session channel went down. */
  disconnected: DisconnectedEvent;
  /**
   * This tab started (`true`) or stopped (`false`) holding the session channel for the
   * browser's tabs (see `solo.leader`): it was elected, or another tab took over (the leader
   * came back from a freeze, two tabs claimed at once without Web Locks), or the session ended.
   */
  leader: boolean;
}

/**
 * Name of a client event.
 *
 * @example
 * ```ts
 * const names: SoloClientEventName[] = ["revoked", "state", "connected", "disconnected", "leader"];
 * ```
 */
export type SoloClientEventName = keyof SoloClientEvents;

/**
 * A handler of one client event.
 *
 * @example
 * ```ts
 * const onRevoked: SoloClientHandler<"revoked"> = (r) => router.go("/signin", { reason: r.reason });
 * solo.on("revoked", onRevoked);
 * ```
 */
export type SoloClientHandler<K extends SoloClientEventName> = (payload: SoloClientEvents[K]) => void;

/**
 * `login()` options.
 *
 * @example
 * ```ts
 * const options: LoginOptions = { takeover: true }; // after the person confirmed "continue here?"
 * await solo.login(credentials, options);
 * ```
 */
export interface LoginOptions {
  /** Under the `confirm` policy: end the active session and take over. @default false */
  takeover?: boolean;
}

/**
 * `logout()` options.
 *
 * @example
 * ```ts
 * await solo.logout({ everywhere: true } satisfies LogoutOptions); // every device of this user
 * ```
 */
export interface LogoutOptions {
  /** End every session of this user, on every device. @default false */
  everywhere?: boolean;
}

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
 * What `dispute()` resolves to: the sign-in the person disputed, and the sessions it ended.
 *
 * @example
 * ```ts
 * const { disputed, ended }: DisputeResult = await solo.dispute();
 * ```
 */
export type DisputeResult = DisputeResponse;

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
   * The signed-in user's live sessions ("Your devices"), newest first; this one has
   * `current: true`. Rejects with a {@link SoloClientError} (a `session_*` code is also a
   * revocation, as for {@link fetch}).
   *
   * @example
   * ```ts
   * for (const s of await solo.sessions()) console.log(s.device.browser, s.device.ip, s.lastSeenAt, s.current);
   * ```
   */
  sessions(): Promise<OwnSessionView[]>;
  /**
   * Ends one of the user's sessions: its device is told at once (reason `revoked`). The id of
   * this very session signs out (as {@link logout}). Rejects with a {@link SoloClientError}:
   * `not_found` for an id that is not a live session of this user.
   *
   * @example
   * ```ts
   * await solo.endSession(lostPhone.id);
   * ```
   */
  endSession(id: string): Promise<void>;
  /**
   * Ends every session of the user but this one ("Sign out of all other devices"); each is
   * told at once. Rejects with a {@link SoloClientError}.
   *
   * @example
   * ```ts
   * await solo.endOtherSessions();
   * ```
   */
  endOtherSessions(): Promise<void>;
  /**
   * "This wasn't me": while `state.revocation.disputable`, tells the server that the sign-in
   * that replaced this session was not the person's. The server ends that sign-in (and by
   * default every session of the user) and calls the app's `onDispute` (which may lock the
   * account or ask for a new password). Resolves with what was ended; afterwards the
   * revocation is no longer disputable. Rejects with a {@link SoloClientError}: `dispute_used`
   * (reported already, e.g. from another tab), `invalid_token` (the window closed),
   * `rate_limited`, `network_error` (may be retried); throws an Error when there is nothing
   * to dispute.
   *
   * @example
   * ```ts
   * solo.on("revoked", async (r) => {
   *   if (r.disputable && (await ask("Signed out by a new sign-in. Was this you?")) === "no") {
   *     const { disputed } = await solo.dispute();
   *     showResetPassword(disputed.device);
   *   }
   * });
   * ```
   */
  dispute(): Promise<DisputeResult>;
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
