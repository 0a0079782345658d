/**
 * Clearing the app's state in this browser after a revocation: localStorage, sessionStorage,
 * IndexedDB databases, Cache Storage and the cookies that script can see, each filtered by
 * the `keep` and `only` name lists.
 *
 * @module
 */

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

/** Clearing with every option decided. */
export interface ResolvedClear {
  areas: ReadonlySet<StorageArea>;
  keep: readonly NameMatcher[];
  only: readonly NameMatcher[] | null;
}

/** The browser objects clearing uses; missing ones are skipped. Defaults to `globalThis`. */
export interface ClearTarget {
  localStorage?: Storage;
  sessionStorage?: Storage;
  indexedDB?: IDBFactory;
  caches?: CacheStorage;
  document?: Pick<Document, "cookie">;
  location?: Pick<Location, "hostname" | "pathname">;
}

/** An empty report. */
export function emptyReport(): ClearReport {
  return { localStorage: [], sessionStorage: [], indexedDB: [], caches: [], cookies: [] };
}

/** Longest wait for IndexedDB and Cache Storage; a database held open elsewhere is deleted later by the browser. */
export const ASYNC_CLEAR_LIMIT = 500;

/**
 * Clears what `options` selects (nothing when it is null). Storage and cookies are cleared
 * before this returns (synchronously); IndexedDB and Cache Storage within the returned
 * promise, which settles after {@link ASYNC_CLEAR_LIMIT} ms at most. Never throws: an area
 * that fails is skipped.
 *
 * @example
 * ```ts
 * const report = await clearAppState(resolveClear({ keep: ["theme", { prefix: "ui:" }] }));
 * console.log(report.localStorage); // the keys that were removed
 * ```
 */
export function clearAppState(options: ResolvedClear | null, target: ClearTarget = globalThis): Promise<ClearReport> {
  const report = emptyReport();
  if (!options) return Promise.resolve(report);
  const pending: Promise<void>[] = [];
  const wanted = (name: string) => selected(name, options);
  /** Clears one area if it is selected: its names now, or (IndexedDB, Cache Storage) when done. */
  const clear = (area: StorageArea, run: () => string[] | Promise<string[]> | undefined) => {
    if (!options.areas.has(area)) return;
    const names = attempt(run, undefined);
    if (Array.isArray(names)) report[area] = names;
    else if (names) {
      pending.push(
        names.then((list) => {
          report[area] = list;
        }, ignore),
      );
    }
  };
  clear("localStorage", () => clearStorage(target.localStorage, wanted));
  clear("sessionStorage", () => clearStorage(target.sessionStorage, wanted));
  clear("cookies", () => clearCookies(target, wanted));
  clear("indexedDB", () => {
    const factory = target.indexedDB;
    if (typeof factory?.databases !== "function") return;
    const names = factory.databases().then((databases) => databases.map((db) => db.name));
    return deleteNamed(names, wanted, (name) => deleteDatabase(factory, name));
  });
  clear("caches", () => {
    const caches = target.caches;
    return caches && deleteNamed(caches.keys(), wanted, (name) => caches.delete(name));
  });
  if (pending.length === 0) return Promise.resolve(report);
  return Promise.race([Promise.all(pending), delay(ASYNC_CLEAR_LIMIT)]).then(() => report);
}

/** True when a name is to be cleared: not kept, and in `only` when that is given. */
export function selected(name: string, options: Pick<ResolvedClear, "keep" | "only">): boolean {
  if (options.keep.some((m) => matches(name, m))) return false;
  return options.only === null || options.only.some((m) => matches(name, m));
}

function matches(name: string, matcher: NameMatcher): boolean {
  return typeof matcher === "string" ? name === matcher : name.startsWith(matcher.prefix);
}

function clearStorage(storage: Storage | undefined, wanted: (name: string) => boolean): string[] {
  if (!storage) return [];
  const names: string[] = [];
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (key !== null && wanted(key)) names.push(key);
  }
  for (const key of names) storage.removeItem(key);
  return names;
}

/**
 * Expires each selected cookie for every path and domain it may have been set with: the
 * path prefixes of the current page and the host's parent domains (HttpOnly cookies are the
 * server's job and are not visible here).
 */
function clearCookies(target: ClearTarget, wanted: (name: string) => boolean): string[] {
  const doc = target.document;
  if (!doc || typeof doc.cookie !== "string") return [];
  const names = new Set<string>();
  for (const part of doc.cookie.split(";")) {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (name !== "" && wanted(name)) names.add(name);
  }
  const paths = pathPrefixes(target.location?.pathname ?? "/");
  const domains = parentDomains(target.location?.hostname ?? "");
  const expired = "=; Max-Age=0";
  for (const name of names) {
    for (const path of paths) {
      doc.cookie = `${name}${expired}; path=${path}`;
      for (const domain of domains) doc.cookie = `${name}${expired}; path=${path}; domain=${domain}`;
    }
  }
  return [...names];
}

function pathPrefixes(pathname: string): string[] {
  const out = ["/"];
  const parts = pathname.split("/").filter(Boolean);
  let path = "";
  for (const part of parts) {
    path += `/${part}`;
    out.push(path);
  }
  return out;
}

function parentDomains(hostname: string): string[] {
  if (hostname === "" || /^[\d.]+$/.test(hostname) || hostname.includes(":")) return [];
  const labels = hostname.split(".");
  const out: string[] = [];
  for (let i = 0; i < labels.length - 1; i++) out.push(labels.slice(i).join("."));
  return out;
}

/** Deletes the wanted ones of `names` (IndexedDB databases, Cache Storage caches); resolves to them. */
async function deleteNamed(
  names: Promise<(string | undefined)[]>,
  wanted: (name: string) => boolean,
  remove: (name: string) => Promise<unknown>,
): Promise<string[]> {
  const chosen = (await names).filter((name): name is string => typeof name === "string" && wanted(name));
  await Promise.all(chosen.map(remove));
  return chosen;
}

/** Resolves when the database is gone, or when another connection blocks it (the browser finishes later). */
function deleteDatabase(factory: IDBFactory, name: string): Promise<void> {
  return new Promise((resolve) => {
    const request = factory.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}

function ignore(): void {}

/** `fn()`, or `fallback` when it throws: storage can be disabled (a sandboxed frame, a privacy setting). */
function attempt<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
