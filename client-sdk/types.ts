/**
 * Public types of the browser SDK. Type-only: the wire types come from the server's
 * protocol module, never copied.
 *
 * @module
 */

import type * as Protocol from "solo-session/protocol";

// The wire types, as the server's protocol module defines them (aliases, not copies).

/**
 * A session as the server shows it: id, user, times (ISO 8601) and the device.
 *
 * @example
 * ```ts
 * const { userId, createdAt, device }: SessionView = solo.session!;
 * ```
 */
export type SessionView = Protocol.SessionView;

/**
 * The device a session was opened from (parsed from its User-Agent; null when unknown).
 *
 * @example
 * ```ts
 * const d: DeviceView = session.device; // { name: null, browser: "Firefox 132", os: "Windows 10", ip: "203.0.113.7" }
 * ```
 */
export type DeviceView = Protocol.DeviceView;

/**
 * Who took over a replaced session, and when.
 *
 * @example
 * ```ts
 * const by: ReplacedBy | undefined = revocation.by; // for reason "replaced"
 * ```
 */
export type ReplacedBy = Protocol.ReplacedBy;

/**
 * Why a session ended.
 *
 * @example
 * ```ts
 * const why: RevocationReason = revocation.reason; // "replaced" | "logout" | "revoked" | "expired" | "idle"
 * ```
 */
export type RevocationReason = Protocol.RevocationReason;

/**
 * The codes of an ended session (a 401 with one of them is a revocation).
 *
 * @example
 * ```ts
 * const ended: SessionEndedCode[] = ["session_replaced", "session_revoked", "session_expired", "session_idle"];
 * ```
 */
export type SessionEndedCode = Protocol.SessionEndedCode;

/**
 * Every error code of the server (one closed union).
 *
 * @example
 * ```ts
 * if (error instanceof SoloClientError && error.code === ("rate_limited" satisfies ErrorCode)) wait();
 * ```
 */
export type ErrorCode = Protocol.ErrorCode;

/**
 * The JSON body of the server's error answers.
 *
 * @example
 * ```ts
 * const body: ErrorBody | null = error.body; // { error: "session_active", message, active, takeover }
 * ```
 */
export type ErrorBody = Protocol.ErrorBody;

/**
 * The `session:revoked` notice pushed on the session channel.
 *
 * @example
 * ```ts
 * const notice: RevocationNotice = { reason: "replaced", sessionId, at, by: { device, at } };
 * ```
 */
export type RevocationNotice = Protocol.RevocationNotice;

/**
 * What a refused Socket.IO handshake carries (`err.data`).
 *
 * @example
 * ```ts
 * const refused: ConnectErrorData = { code: "session_replaced", message: "...", reason: "replaced" };
 * ```
 */
export type ConnectErrorData = Protocol.ConnectErrorData;

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
export interface Revocation extends Omit<RevocationNotice, "sessionId"> {
  sessionId: string | null;
  code: SessionEndedCode;
  source: RevocationSource;
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
 * A name to match: an exact key, or every key starting with `prefix`.
 *
 * @example
 * ```ts
 * const keep: NameMatcher[] = ["theme", { prefix: "ui:" }];
 * ```
 */
export type NameMatcher = string | { prefix: string };

/**
 * The places of app state the SDK can clear.
 *
 * @example
 * ```ts
 * const areas: StorageArea[] = ["localStorage", "indexedDB"];
 * createSoloClient({ clear: { areas } });
 * ```
 */
export type StorageArea = "localStorage" | "sessionStorage" | "indexedDB" | "caches" | "cookies";

/**
 * What to clear on a revocation. Names are keys of localStorage and sessionStorage,
 * IndexedDB database names, Cache Storage cache names and cookie names.
 *
 * @example
 * ```ts
 * const clear: ClearOptions = { keep: ["theme", { prefix: "ui:" }] };
 * createSoloClient({ clear });
 * ```
 */
export interface ClearOptions {
  /** The areas to clear. @default all five */
  areas?: readonly StorageArea[];
  /** Names to leave alone (e.g. a theme preference). @default [] */
  keep?: readonly NameMatcher[];
  /** When set, clear only these names; everything else is kept. @default undefined (clear all) */
  only?: readonly NameMatcher[];
}

/**
 * What was cleared, by area (names).
 *
 * @example
 * ```ts
 * createSoloClient({ warning: (r, { cleared }: { cleared: ClearReport }) => console.log(cleared.localStorage) });
 * ```
 */
export interface ClearReport {
  localStorage: string[];
  sessionStorage: string[];
  indexedDB: string[];
  caches: string[];
  cookies: string[];
}

/**
 * The texts of the built-in warning. Override any of them (e.g. for another language).
 *
 * @example
 * ```ts
 * const texts: Partial<WarningTexts> = { title: "Sie wurden abgemeldet", button: "OK" };
 * createSoloClient({ texts, locale: "de-DE" });
 * ```
 */
export interface WarningTexts {
  /** The heading. */
  title: string;
  /** Why, for a replaced session. `device` is like "Firefox on Windows", `time` like "10:42". */
  replaced: (device: string, time: string) => string;
  /** Why, for a replaced session whose new device is unknown. */
  replacedUnknown: (time: string) => string;
  /** Why, when the user signed out (elsewhere). */
  logout: string;
  /** Why, when an administrator or the app ended the session. */
  revoked: string;
  /** Why, when the session reached its lifetime. */
  expired: string;
  /** Why, after a period of inactivity. */
  idle: string;
  /** Label of the "new sign-in" details. */
  newSignIn: string;
  /** Label of the device row in the details. */
  deviceTerm: string;
  /** Label of the time row in the details. */
  when: string;
  /** Label of the IP address row in the details. */
  from: string;
  /** Said after a replacement: what to do if it was not you. */
  notYou: string;
  /** Said when local data was removed. */
  cleared: string;
  /** The button that closes the warning. */
  button: string;
  /** Joins browser and operating system: `(browser, os) => "Firefox on Windows"`. */
  device: (browser: string | null, os: string | null) => string;
  /** Said for a device that nothing is known about. */
  unknownDevice: string;
}

/**
 * What a warning renderer is given.
 *
 * @example
 * ```ts
 * const renderer = (r: Revocation, ctx: WarningContext) => myModal.open(r.reason, ctx.locale);
 * ```
 */
export interface WarningContext {
  /** What was cleared (empty lists when clearing is off). */
  cleared: ClearReport;
  /** The locale for dates and times. */
  locale: string | undefined;
  /** The app's texts (the `texts` option); the built-in warning fills in the rest. */
  texts: Partial<WarningTexts>;
}

/**
 * Shows a warning of the app's own making instead of the built-in one.
 *
 * @example
 * ```ts
 * const warning: WarningRenderer = (r) => toast.error(`Signed out: ${r.reason}`);
 * createSoloClient({ warning });
 * ```
 */
export type WarningRenderer = (revocation: Revocation, context: WarningContext) => void;

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
