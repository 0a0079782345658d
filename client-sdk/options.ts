import type { ChannelFactory } from "./channel.js";
import type { ClearOptions, NameMatcher, StorageArea, WarningRenderer, WarningTexts } from "./types.js";

/** Options of {@link createSoloClient}. Every one is optional. */
export interface SoloClientOptions {
  /** Where the server's `/auth` router is mounted (absolute, or relative to the page). @default "/auth" */
  baseUrl?: string;
  /** Origin of the Socket.IO server. @default the origin of `baseUrl` */
  socketUrl?: string;
  /** Socket.IO path on that server. @default "/socket.io" */
  socketPath?: string;
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
  /** The session channel. Advanced: replace the Socket.IO transport (tests, cross-tab sharing). @default Socket.IO */
  transport?: ChannelFactory;
  /** The clock, in epoch ms (tests). @default Date.now */
  clock?: () => number;
}

/** Clearing with every option decided. */
export interface ResolvedClear {
  areas: ReadonlySet<StorageArea>;
  keep: readonly NameMatcher[];
  only: readonly NameMatcher[] | null;
}

/** Options with their defaults applied. */
export interface ResolvedOptions {
  baseUrl: string;
  socketUrl: string;
  socketPath: string;
  restore: boolean;
  deviceName: string | undefined;
  clear: ResolvedClear | null;
  clearOnLogout: boolean;
  warning: "builtin" | false | WarningRenderer;
  texts: Partial<WarningTexts>;
  locale: string | undefined;
  activityInterval: number;
  reconnectDelay: number;
  reconnectDelayMax: number;
  fetch: typeof fetch;
  transport: ChannelFactory | null;
  clock: () => number;
}

/** Every area the SDK can clear. */
export const ALL_AREAS: readonly StorageArea[] = ["localStorage", "sessionStorage", "indexedDB", "caches", "cookies"];

/**
 * Applies the defaults and checks every option, throwing a TypeError that names the bad one.
 * `transport: null` means the built-in Socket.IO channel.
 */
export function resolveOptions(options: SoloClientOptions, location: { href: string } | undefined): ResolvedOptions {
  if (typeof options !== "object" || options === null)
    throw new TypeError("createSoloClient: options must be an object");
  const o = options;
  const baseUrl = trimSlash(str(o.baseUrl, "baseUrl") ?? "/auth");
  const page = location?.href ?? "http://localhost/";
  let origin: string;
  try {
    origin = new URL(baseUrl, page).origin;
  } catch {
    throw new TypeError(`createSoloClient: baseUrl "${baseUrl}" is not a URL`);
  }
  const fetchImpl = o.fetch ?? globalThis.fetch?.bind(globalThis);
  if (typeof fetchImpl !== "function") throw new TypeError("createSoloClient: no fetch available; pass options.fetch");
  const warning = o.warning ?? "builtin";
  if (warning !== "builtin" && warning !== false && typeof warning !== "function") {
    throw new TypeError('createSoloClient: warning must be "builtin", false or a function');
  }
  if (o.transport !== undefined && typeof o.transport !== "function") {
    throw new TypeError("createSoloClient: transport must be a function");
  }
  if (o.clock !== undefined && typeof o.clock !== "function")
    throw new TypeError("createSoloClient: clock must be a function");
  if (o.texts !== undefined && (typeof o.texts !== "object" || o.texts === null)) {
    throw new TypeError("createSoloClient: texts must be an object");
  }
  const reconnectDelay = ms(o.reconnectDelay, "reconnectDelay", 1000);
  const reconnectDelayMax = ms(o.reconnectDelayMax, "reconnectDelayMax", 30_000);
  if (reconnectDelayMax < reconnectDelay) {
    throw new TypeError("createSoloClient: reconnectDelayMax must not be below reconnectDelay");
  }
  return {
    baseUrl,
    socketUrl: trimSlash(str(o.socketUrl, "socketUrl") ?? origin),
    socketPath: str(o.socketPath, "socketPath") ?? "/socket.io",
    restore: bool(o.restore, "restore", true),
    deviceName: str(o.deviceName, "deviceName"),
    clear: resolveClear(o.clear),
    clearOnLogout: bool(o.clearOnLogout, "clearOnLogout", true),
    warning,
    texts: o.texts ?? {},
    locale: str(o.locale, "locale"),
    activityInterval: ms(o.activityInterval, "activityInterval", 60_000),
    reconnectDelay,
    reconnectDelayMax,
    fetch: fetchImpl,
    transport: o.transport ?? null,
    clock: o.clock ?? Date.now,
  };
}

/** Resolves the `clear` option; null means "clear nothing". */
export function resolveClear(clear: SoloClientOptions["clear"]): ResolvedClear | null {
  if (clear === undefined || clear === true) return { areas: new Set(ALL_AREAS), keep: [], only: null };
  if (clear === false) return null;
  if (typeof clear !== "object" || clear === null) {
    throw new TypeError("createSoloClient: clear must be true, false or { areas?, keep?, only? }");
  }
  const areas = clear.areas ?? ALL_AREAS;
  if (!Array.isArray(areas) || !areas.every((a) => ALL_AREAS.includes(a))) {
    throw new TypeError(`createSoloClient: clear.areas must list some of ${ALL_AREAS.join(", ")}`);
  }
  return {
    areas: new Set(areas),
    keep: matchers(clear.keep, "clear.keep") ?? [],
    only: matchers(clear.only, "clear.only"),
  };
}

function matchers(value: unknown, name: string): NameMatcher[] | null {
  if (value === undefined) return null;
  const ok =
    Array.isArray(value) &&
    value.every(
      (m: unknown) =>
        (typeof m === "string" && m !== "") ||
        (typeof m === "object" &&
          m !== null &&
          typeof (m as { prefix?: unknown }).prefix === "string" &&
          (m as { prefix: string }).prefix !== ""),
    );
  if (!ok) throw new TypeError(`createSoloClient: ${name} must be a list of names or { prefix } objects`);
  return value as NameMatcher[];
}

function str(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`createSoloClient: ${name} must be a non-empty string`);
  }
  return value;
}

function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new TypeError(`createSoloClient: ${name} must be true or false`);
  return value;
}

function ms(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`createSoloClient: ${name} must be a number of milliseconds (0 or more)`);
  }
  return value;
}

function trimSlash(url: string): string {
  return url.length > 1 && url.endsWith("/") ? url.slice(0, -1) : url;
}
