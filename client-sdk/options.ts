import type { Transport } from "solo-session/protocol";
import { type ChannelFactory, type ChannelOptions, socketChannel } from "./channel.js";
import type { ClearOptions, NameMatcher, ResolvedClear, StorageArea } from "./clear.js";
import type { WarningRenderer, WarningTexts } from "./warning/texts.js";

/**
 * Options of {@link createSoloClient}. Every one is optional.
 *
 * @example
 * ```ts
 * const options: SoloClientOptions = { baseUrl: "/auth", deviceName: "Work laptop", clear: { keep: ["theme"] } };
 * const solo = createSoloClient(options);
 * ```
 */
export interface SoloClientOptions {
  /** Where the server's `/auth` router is mounted (absolute, or relative to the page). @default "/auth" */
  baseUrl?: string;
  /** Origin of the Socket.IO server. @default the origin of `baseUrl` */
  socketUrl?: string;
  /** Socket.IO path on that server. @default "/socket.io" */
  socketPath?: string;
  /**
   * Engine.IO transports, like the server's `transports`: WebSocket only by default. Behind a
   * proxy that does not pass WebSocket, set `["websocket", "polling"]` here and on the server.
   * @default ["websocket"]
   */
  transports?: readonly Transport[];
  /** Ask `/auth/session` at start, so a reload keeps (or learns the end of) the session. @default true */
  restore?: boolean;
  /** A name for this device, shown to the user's other devices (e.g. "Work laptop"). @default undefined */
  deviceName?: string;
  /**
   * What to clear when the session is revoked: `true` clears localStorage, sessionStorage,
   * IndexedDB, Cache Storage and script-readable cookies of this origin; an object narrows it;
   * `false` clears nothing. @default true
   */
  clear?: boolean | ClearOptions;
  /** Clear the same way after `logout()`. @default true */
  clearOnLogout?: boolean;
  /**
   * The warning shown on a revocation: `"builtin"` (an accessible dialog, loaded on demand),
   * a function that shows the app's own, or `false` for none (listen to `revoked`). @default "builtin"
   */
  warning?: "builtin" | false | WarningRenderer;
  /** Texts of the built-in warning, e.g. for another language. @default English */
  texts?: Partial<WarningTexts>;
  /** Locale for the times in the warning. @default the browser's */
  locale?: string;
  /** Report interaction to the server at most this often, in ms; 0 turns it off. @default 60000 */
  activityInterval?: number;
  /** First delay before reconnecting, in ms (doubles up to `reconnectDelayMax`, with jitter). @default 1000 */
  reconnectDelay?: number;
  /** Longest delay between reconnection attempts, in ms. @default 30000 */
  reconnectDelayMax?: number;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Share one session channel between this browser's tabs: they elect a leader (Web Locks, or
   * heartbeats over BroadcastChannel where Web Locks is missing) that alone holds the socket
   * and tells the others; a sign-in, sign-out or revocation in one tab reaches them all.
   * `false`: this page keeps its own channel and ignores the other tabs. @default true
   */
  tabs?: boolean;
  /** The session channel. Advanced: replace the Socket.IO transport (tests). @default Socket.IO */
  transport?: ChannelFactory;
  /** The clock, in epoch ms (tests). @default Date.now */
  clock?: () => number;
}

/** Options with their defaults applied. */
export interface ResolvedOptions {
  baseUrl: string;
  /** The origin of `baseUrl`: requests there get the session's credentials. */
  origin: string;
  /** Where and how the session channel connects (all but the token). */
  channel: Omit<ChannelOptions, "token">;
  restore: boolean;
  deviceName: string | undefined;
  clear: ResolvedClear | null;
  clearOnLogout: boolean;
  warning: "builtin" | false | WarningRenderer;
  texts: Partial<WarningTexts>;
  locale: string | undefined;
  activityInterval: number;
  fetch: typeof fetch;
  transport: ChannelFactory;
  clock: () => number;
  /** The name the tabs of this browser share (per auth server), or null with `tabs: false`. */
  tabs: string | null;
}

/** Every area the SDK can clear. */
export const ALL_AREAS: readonly StorageArea[] = ["localStorage", "sessionStorage", "indexedDB", "caches", "cookies"];

/**
 * Applies the defaults and checks every option, throwing a TypeError that names the bad one.
 *
 * @example
 * ```ts
 * const resolved = resolveOptions({ baseUrl: "/auth/" }, location); // resolved.baseUrl === "/auth"
 * ```
 */
export function resolveOptions(options: SoloClientOptions, location: { href: string } | undefined): ResolvedOptions {
  if (typeof options !== "object" || options === null) fail("options", "an object");
  const o = options;
  const baseUrl = trimSlash(str(o.baseUrl, "baseUrl") ?? "/auth");
  let auth: URL;
  try {
    auth = new URL(baseUrl, location?.href ?? "http://localhost/");
  } catch {
    fail("baseUrl", "a URL");
  }
  const fetchImpl = fn(o.fetch, "fetch") ?? globalThis.fetch?.bind(globalThis);
  if (!fetchImpl) fail("fetch", "given (there is no global fetch)");
  const warning = o.warning ?? "builtin";
  if (warning !== "builtin" && warning !== false) fn(warning, "warning", '"builtin", false or a function');
  if (o.texts !== undefined && (typeof o.texts !== "object" || o.texts === null)) fail("texts", "an object");
  const reconnectDelay = ms(o.reconnectDelay, "reconnectDelay", 1000);
  const reconnectDelayMax = ms(o.reconnectDelayMax, "reconnectDelayMax", 30_000);
  if (reconnectDelayMax < reconnectDelay) fail("reconnectDelayMax", "reconnectDelay or more");
  return {
    baseUrl,
    origin: auth.origin,
    channel: {
      url: trimSlash(str(o.socketUrl, "socketUrl") ?? auth.origin),
      path: str(o.socketPath, "socketPath") ?? "/socket.io",
      transports: list(o.transports ?? ["websocket"], ["websocket", "polling"], "transports"),
      reconnectDelay,
      reconnectDelayMax,
    },
    restore: bool(o.restore, "restore", true),
    deviceName: str(o.deviceName, "deviceName"),
    clear: resolveClear(o.clear),
    clearOnLogout: bool(o.clearOnLogout, "clearOnLogout", true),
    warning,
    texts: o.texts ?? {},
    locale: str(o.locale, "locale"),
    activityInterval: ms(o.activityInterval, "activityInterval", 60_000),
    fetch: fetchImpl,
    transport: fn(o.transport, "transport") ?? socketChannel,
    clock: fn(o.clock, "clock") ?? Date.now,
    tabs: bool(o.tabs, "tabs", true) ? `solo-session ${auth.href}` : null,
  };
}

/**
 * Resolves the `clear` option; null means "clear nothing".
 *
 * @example
 * ```ts
 * resolveClear({ keep: ["theme"] }); // { areas: Set(5), keep: ["theme"], only: null }
 * ```
 */
export function resolveClear(clear: SoloClientOptions["clear"]): ResolvedClear | null {
  if (clear === undefined || clear === true) return { areas: new Set(ALL_AREAS), keep: [], only: null };
  if (clear === false) return null;
  if (typeof clear !== "object" || clear === null) fail("clear", "true, false or { areas?, keep?, only? }");
  return {
    areas: new Set(list(clear.areas ?? ALL_AREAS, ALL_AREAS, "clear.areas")),
    keep: matchers(clear.keep, "clear.keep") ?? [],
    only: matchers(clear.only, "clear.only"),
  };
}

/** A list of `allowed` values (none of them may be anything else). */
function list<T>(value: unknown, allowed: readonly T[], name: string): T[] {
  if (!Array.isArray(value) || value.some((v) => !allowed.includes(v))) fail(name, `a list of ${allowed.join(", ")}`);
  return value;
}

function fail(name: string, what: string): never {
  throw new TypeError(`createSoloClient: ${name} must be ${what}`);
}

function matchers(value: unknown, name: string): NameMatcher[] | null {
  if (value === undefined) return null;
  const ok =
    Array.isArray(value) &&
    value.every(
      (m: unknown) =>
        (typeof m === "string" && m !== "") ||
        (typeof (m as { prefix?: unknown } | null)?.prefix === "string" && (m as { prefix: string }).prefix !== ""),
    );
  if (!ok) fail(name, "a list of names or { prefix } objects");
  return value as NameMatcher[];
}

function fn<T>(value: T | undefined, name: string, what = "a function"): T | undefined {
  if (value !== undefined && typeof value !== "function") fail(name, what);
  return value;
}

function str(value: unknown, name: string): string | undefined {
  if (value !== undefined && (typeof value !== "string" || value === "")) fail(name, "a non-empty string");
  return value as string | undefined;
}

function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") fail(name, "true or false");
  return value;
}

function ms(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) fail(name, "a number of ms (0 or more)");
  return value;
}

function trimSlash(url: string): string {
  return url.length > 1 && url.endsWith("/") ? url.slice(0, -1) : url;
}
