/**
 * Cross-tab coordination. The tabs of one browser talk over a BroadcastChannel and elect one
 * leader, which alone holds the session channel (one socket per browser, not per tab). The
 * election uses the Web Locks API where it exists: the leader holds a lock until its tab
 * closes, and the browser grants it to the next tab at once. Elsewhere (insecure origins,
 * old browsers) the leader sends heartbeats over the BroadcastChannel and says goodbye when
 * its page is hidden for good.
 *
 * @module
 */

import type { TabMessage } from "./tab-messages.js";

/**
 * One tab's link to the others.
 *
 * @example
 * ```ts
 * const tabs = joinTabs("solo-session https://app.example/auth", (m) => console.log(m.t));
 * const leave = tabs?.elect(() => { const socket = open(); return () => socket.close(); });
 * ```
 */
export interface Tabs {
  /** Sends to every other tab (not to this one). */
  post(message: TabMessage): void;
  /**
   * Joins the election: `lead` runs when this tab becomes the leader and returns what to do
   * when it stops leading. Returns a function that leaves the election (and stops leading).
   */
  elect(lead: () => () => void): () => void;
  /** Leaves for good. */
  close(): void;
}

/**
 * Joins the tabs of this browser that use the same `name`; null where BroadcastChannel (or a
 * window) is missing, e.g. during server-side rendering: the page then works alone.
 *
 * @example
 * ```ts
 * const tabs = joinTabs(`solo-session ${authUrl}`, onMessage);
 * ```
 */
export function joinTabs(
  name: string,
  receive: (message: TabMessage) => void,
  locks: LockManager | null | undefined = globalThis.navigator?.locks,
): Tabs | null {
  if (typeof window === "undefined" || typeof BroadcastChannel !== "function") return null;
  const bc = new BroadcastChannel(name);
  let beat: ((message: TabMessage) => void) | null = null;
  bc.onmessage = (event: MessageEvent<TabMessage>) => {
    const message = event.data;
    if (typeof message?.t !== "string") return;
    beat?.(message);
    receive(message);
  };
  const post = (message: TabMessage) => bc.postMessage(message);
  return {
    post,
    elect: (lead) => {
      if (locks?.request) {
        post({ t: "hi" });
        return lockElection(locks, name, lead);
      }
      // Without Web Locks: heartbeats, in a chunk that only such browsers load.
      let leave: (() => void) | null = null;
      let left = false;
      import("./heartbeat.js").then(
        ({ beatElection }) => {
          if (left) return;
          const election = beatElection(post, lead);
          beat = election.hear;
          leave = election.leave;
          post({ t: "hi" });
        },
        () => {}, // not loaded (offline): this tab follows; another one leads
      );
      return () => {
        left = true;
        beat = null;
        leave?.();
      };
    },
    close: () => {
      beat = null;
      bc.close();
    },
  };
}

/** Web Locks: the tab holding the lock leads until it leaves or closes. */
function lockElection(locks: LockManager, name: string, lead: () => () => void): () => void {
  const abort = new AbortController();
  let release: (() => void) | undefined;
  let stop: (() => void) | undefined;
  locks
    .request(name, { signal: abort.signal }, () => {
      stop = lead();
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    })
    .catch(() => {}); // aborted: left before leading
  return () => {
    abort.abort();
    stop?.();
    release?.();
  };
}
