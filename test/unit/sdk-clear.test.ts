// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from "vitest";
import { ASYNC_CLEAR_LIMIT, type ClearTarget, clearAppState, selected } from "../../packages/client/src/clear.js";
import { resolveClear } from "../../packages/client/src/options.js";

beforeEach(() => {
  localStorage.clear();
  sessionStorage.clear();
  for (const part of document.cookie.split(";")) {
    const name = part.split("=")[0]?.trim();
    if (name) setCookie(`${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`);
  }
});

/** Script-readable cookies are one of the areas under test. */
function setCookie(value: string): void {
  // biome-ignore lint/suspicious/noDocumentCookie: setting up the cookies that clearing must remove
  document.cookie = value;
}

/** A small IndexedDB factory: `databases()` and `deleteDatabase()`, optionally blocked. */
function fakeIndexedDB(names: string[], blocked: string[] = []) {
  const live = new Set(names);
  const factory = {
    databases: async () => [...live].map((name) => ({ name, version: 1 })),
    deleteDatabase(name: string) {
      const request: { onsuccess?: () => void; onblocked?: () => void; onerror?: () => void } = {};
      setTimeout(() => {
        if (blocked.includes(name)) request.onblocked?.();
        else {
          live.delete(name);
          request.onsuccess?.();
        }
      }, 1);
      return request;
    },
  };
  return { factory: factory as unknown as IDBFactory, live };
}

function fakeCaches(names: string[]) {
  const live = new Set(names);
  const caches = {
    keys: async () => [...live],
    delete: async (name: string) => live.delete(name),
  };
  return { caches: caches as unknown as CacheStorage, live };
}

function target(extra: Partial<ClearTarget> = {}): ClearTarget {
  return { localStorage, sessionStorage, document, location, ...extra };
}

describe("clearAppState", () => {
  it("clears every area by default and reports what it removed", async () => {
    localStorage.setItem("draft", "x");
    localStorage.setItem("theme", "dark");
    sessionStorage.setItem("tab", "1");
    setCookie("pref=1; path=/");
    const idb = fakeIndexedDB(["app-db", "other-db"]);
    const cache = fakeCaches(["v1"]);
    const report = await clearAppState(resolveClear(true)!, target({ indexedDB: idb.factory, caches: cache.caches }));
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(document.cookie).not.toContain("pref=1");
    expect([...idb.live]).toEqual([]);
    expect([...cache.live]).toEqual([]);
    expect(report.localStorage.sort()).toEqual(["draft", "theme"]);
    expect(report.sessionStorage).toEqual(["tab"]);
    expect(report.cookies).toEqual(["pref"]);
    expect(report.indexedDB.sort()).toEqual(["app-db", "other-db"]);
    expect(report.caches).toEqual(["v1"]);
  });

  it("clears storage and cookies before it returns (synchronously)", () => {
    localStorage.setItem("draft", "x");
    setCookie("pref=1; path=/");
    void clearAppState(resolveClear(true)!, target());
    expect(localStorage.getItem("draft")).toBeNull();
    expect(document.cookie).not.toContain("pref=1");
  });

  it("keeps the names and prefixes in keep, in every area", async () => {
    localStorage.setItem("theme", "dark");
    localStorage.setItem("ui:sidebar", "open");
    localStorage.setItem("draft", "x");
    setCookie("theme=dark; path=/");
    setCookie("tracking=1; path=/");
    const idb = fakeIndexedDB(["ui:cache", "app-db"]);
    await clearAppState(resolveClear({ keep: ["theme", { prefix: "ui:" }] })!, target({ indexedDB: idb.factory }));
    expect(Object.keys({ ...localStorage }).sort()).toEqual(["theme", "ui:sidebar"]);
    expect(document.cookie).toContain("theme=dark");
    expect(document.cookie).not.toContain("tracking");
    expect([...idb.live]).toEqual(["ui:cache"]);
  });

  it("with only, clears just those names", async () => {
    localStorage.setItem("app:draft", "x");
    localStorage.setItem("app:list", "y");
    localStorage.setItem("vendor", "z");
    await clearAppState(resolveClear({ only: [{ prefix: "app:" }] })!, target());
    expect(Object.keys({ ...localStorage })).toEqual(["vendor"]);
  });

  it("clears only the chosen areas", async () => {
    localStorage.setItem("draft", "x");
    sessionStorage.setItem("tab", "1");
    await clearAppState(resolveClear({ areas: ["sessionStorage"] })!, target());
    expect(localStorage.getItem("draft")).toBe("x");
    expect(sessionStorage.length).toBe(0);
  });

  it("does not wait for a database that another connection holds open", async () => {
    const idb = fakeIndexedDB(["held", "free"], ["held"]);
    const started = Date.now();
    const report = await clearAppState(resolveClear(true)!, target({ indexedDB: idb.factory }));
    expect(Date.now() - started).toBeLessThan(ASYNC_CLEAR_LIMIT);
    expect(report.indexedDB.sort()).toEqual(["free", "held"]);
    expect([...idb.live]).toEqual(["held"]);
  });

  it("skips an area that throws instead of failing", async () => {
    const broken = {
      get length(): number {
        throw new Error("SecurityError");
      },
    } as unknown as Storage;
    sessionStorage.setItem("tab", "1");
    const report = await clearAppState(resolveClear(true)!, target({ localStorage: broken }));
    expect(report.localStorage).toEqual([]);
    expect(sessionStorage.length).toBe(0);
  });

  it("resolveClear(false) means nothing to clear", () => {
    expect(resolveClear(false)).toBeNull();
  });
});

describe("selected", () => {
  it("applies keep before only", () => {
    const options = { keep: ["app:keep"], only: [{ prefix: "app:" }] };
    expect(selected("app:draft", options)).toBe(true);
    expect(selected("app:keep", options)).toBe(false);
    expect(selected("other", options)).toBe(false);
    expect(selected("anything", { keep: [], only: null })).toBe(true);
  });
});
