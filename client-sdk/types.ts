/**
 * Public types of the browser SDK. Type-only: the wire types come from the server's
 * protocol module, never copied.
 *
 * @module
 */

import type { RevocationNotice, SessionEndedCode, SessionView } from "../server/protocol.js";

export type {
  ConnectErrorData,
  DeviceView,
  ErrorBody,
  ErrorCode,
  ReplacedBy,
  RevocationNotice,
  RevocationReason,
  SessionEndedCode,
  SessionView,
} from "../server/protocol.js";

/** How a revocation reached this page. */
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
 */
export type SoloState =
  | { status: "anonymous" }
  | { status: "signing-in"; via: "login" | "restore" }
  | { status: "active"; session: SessionView }
  | { status: "revoked"; revocation: Revocation };

/** The session channel's condition while signed in. */
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
   * Another connection of the same session (another tab of this browser) took over the
   * channel; this one waits and reconnects when the page becomes visible again.
   */
  | "standby";

/**
 * Why the channel went down: the connection broke (`network`), the browser went offline,
 * another tab took the channel over (`standby`), or the session ended here (`closed`).
 */
export type DisconnectCause = "network" | "offline" | "standby" | "closed";

/** The payload of `disconnected`. */
export interface DisconnectedEvent {
  cause: DisconnectCause;
  /** True when the SDK will try to connect again by itself. */
  reconnecting: boolean;
}

/** The payload of `connected`. */
export interface ConnectedEvent {
  sessionId: string;
}

/** Events of the client and their payloads. */
export interface SoloClientEvents {
  /** The session ended elsewhere (after clearing and showing the warning). */
  revoked: Revocation;
  /** The state changed. */
  state: SoloState;
  /** The session channel is up. */
  connected: ConnectedEvent;
  /** The session channel went down. */
  disconnected: DisconnectedEvent;
}

/** Name of a client event. */
export type SoloClientEventName = keyof SoloClientEvents;

/** A handler of one client event. */
export type SoloClientHandler<K extends SoloClientEventName> = (payload: SoloClientEvents[K]) => void;

/** A name to match: an exact key, or every key starting with `prefix`. */
export type NameMatcher = string | { prefix: string };

/** The places of app state the SDK can clear. */
export type StorageArea = "localStorage" | "sessionStorage" | "indexedDB" | "caches" | "cookies";

/**
 * What to clear on a revocation. Names are keys of localStorage and sessionStorage,
 * IndexedDB database names, Cache Storage cache names and cookie names.
 */
export interface ClearOptions {
  /** The areas to clear. @default all five */
  areas?: readonly StorageArea[];
  /** Names to leave alone (e.g. a theme preference). @default [] */
  keep?: readonly NameMatcher[];
  /** When set, clear only these names; everything else is kept. @default undefined (clear all) */
  only?: readonly NameMatcher[];
}

/** What was cleared, by area (names). */
export interface ClearReport {
  localStorage: string[];
  sessionStorage: string[];
  indexedDB: string[];
  caches: string[];
  cookies: string[];
}

/** The texts of the built-in warning. Override any of them (e.g. for another language). */
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

/** What a warning renderer is given. */
export interface WarningContext {
  /** What was cleared (empty lists when clearing is off). */
  cleared: ClearReport;
  /** The locale for dates and times. */
  locale: string | undefined;
  /** The app's texts (the `texts` option); the built-in warning fills in the rest. */
  texts: Partial<WarningTexts>;
}

/** Shows a warning of the app's own making instead of the built-in one. */
export type WarningRenderer = (revocation: Revocation, context: WarningContext) => void;

/** `login()` options. */
export interface LoginOptions {
  /** Under the `confirm` policy: end the active session and take over. @default false */
  takeover?: boolean;
}

/** `logout()` options. */
export interface LogoutOptions {
  /** End every session of this user, on every device. @default false */
  everywhere?: boolean;
}
