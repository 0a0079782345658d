/**
 * Clearing the app's state in this browser after a revocation: localStorage, sessionStorage,
 * IndexedDB databases, Cache Storage and the cookies that script can see, each filtered by
 * the `keep` and `only` name lists.
 *
 * @module
 */

import type { ResolvedClear } from "./options.js";
import type { ClearReport, NameMatcher } from "./types.js";

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
 * Clears what `options` selects. Storage and cookies are cleared before this returns
 * (synchronously); IndexedDB and Cache Storage within the returned promise, which settles
 * after {@link ASYNC_CLEAR_LIMIT} ms at most. Never throws: an area that fails is skipped.
 *
 * @example
 * ```ts
 * const report = await clearAppState(resolveClear({ keep: ["theme", { prefix: "ui:" }] })!);
 * console.log(report.localStorage); // the keys that were removed
 * ```
 */
export function clearAppState(options: ResolvedClear, target: ClearTarget = globalThis): Promise<ClearReport> {
  const report = emptyReport();
  const wanted = (name: string) => selected(name, options);
  const areas = options.areas;
  if (areas.has("localStorage")) report.localStorage = attempt(() => clearStorage(target.localStorage, wanted), []);
  if (areas.has("sessionStorage"))
    report.sessionStorage = attempt(() => clearStorage(target.sessionStorage, wanted), []);
  if (areas.has("cookies")) report.cookies = attempt(() => clearCookies(target, wanted), []);
  const pending: Promise<void>[] = [];
  const factory = areas.has("indexedDB") ? attempt(() => target.indexedDB, undefined) : undefined;
  if (factory) {
    pending.push(
      clearDatabases(factory, wanted).then((names) => {
        report.indexedDB = names;
      }, ignore),
    );
  }
  const caches = areas.has("caches") ? attempt(() => target.caches, undefined) : undefined;
  if (caches) {
    pending.push(
      clearCaches(caches, wanted).then((names) => {
        report.caches = names;
      }, ignore),
    );
  }
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

async function clearDatabases(factory: IDBFactory, wanted: (name: string) => boolean): Promise<string[]> {
  if (typeof factory.databases !== "function") return [];
  const names = (await factory.databases())
    .map((db) => db.name)
    .filter((name): name is string => typeof name === "string" && wanted(name));
  await Promise.all(names.map((name) => deleteDatabase(factory, name)));
  return names;
}

/** Resolves when the database is gone, or when another connection blocks it (the browser finishes later). */
function deleteDatabase(factory: IDBFactory, name: string): Promise<void> {
  return new Promise((resolve) => {
    const request = factory.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}

async function clearCaches(caches: CacheStorage, wanted: (name: string) => boolean): Promise<string[]> {
  const names = (await caches.keys()).filter(wanted);
  await Promise.all(names.map((name) => caches.delete(name)));
  return names;
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
