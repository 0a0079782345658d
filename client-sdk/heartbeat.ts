/**
 * The leader election where the Web Locks API is missing (insecure origins, old browsers):
 * heartbeats over the tabs' BroadcastChannel. Loaded only by such browsers.
 *
 * @module
 */

import type { TabMessage } from "./tab-messages.js";

/** Without Web Locks: the leader's heartbeat period, in ms. */
export const HEARTBEAT = 250;
/**
 * Without Web Locks: silence after which a tab takes over, in ms. Above one second, because
 * browsers run the timers of hidden tabs once per second at most.
 */
export const SILENCE = 2500;
/** Without Web Locks: how long a claim waits for a rival's heartbeat before it leads, in ms. */
export const CLAIM_WAIT = 100;

/**
 * The clock and timers of the election; tests give their own.
 *
 * @example
 * ```ts
 * const timers: Timers = { now: () => 0, after: (ms, run) => () => {}, every: (ms, run) => () => {} };
 * ```
 */
export interface Timers {
  /** The time, in ms. */
  now(): number;
  /** Runs `run` once, `ms` from now; returns a function that cancels it. */
  after(ms: number, run: () => void): () => void;
  /** Runs `run` every `ms`; returns a function that stops it. */
  every(ms: number, run: () => void): () => void;
}

/** The page's own clock and timers, looked up at each call (so fake timers installed later apply). */
export const PAGE_TIMERS: Timers = {
  now: () => Date.now(),
  after: (ms, run) => {
    const id = setTimeout(run, ms);
    return () => clearTimeout(id);
  },
  every: (ms, run) => {
    const id = setInterval(run, ms);
    return () => clearInterval(id);
  },
};

/**
 * Joins the election. A tab that hears no leader for {@link SILENCE} ms (or hears it leave)
 * claims, and leads unless a leader answers or a rival with a higher id claims within
 * {@link CLAIM_WAIT} ms. A leader answers every claim, so a new tab never unseats it; of two
 * leaders, the one with the lower id steps down. The leader leaves on `pagehide` and says
 * so, and another tab takes over at once.
 *
 * @example
 * ```ts
 * const { hear, leave } = beatElection((m) => channel.postMessage(m), () => openSocket());
 * channel.onmessage = (e) => hear(e.data);
 * ```
 */
export function beatElection(
  post: (message: TabMessage) => void,
  lead: () => () => void,
  timers: Timers = PAGE_TIMERS,
): { hear: (message: TabMessage) => void; leave: () => void } {
  const id = Math.random();
  let stop: (() => void) | null = null;
  /** Cancels this tab's claim while one waits for rivals. */
  let claim: (() => void) | null = null;
  // A leader answers `hi` at once; without an answer this tab claims soon.
  let heard = timers.now() - SILENCE + 3 * CLAIM_WAIT;
  const beat = () => post({ t: "hb", id, lead: stop !== null });
  const giveUp = () => {
    claim?.();
    claim = null;
  };
  const tryClaim = () => {
    if (stop || claim) return;
    beat();
    claim = timers.after(CLAIM_WAIT, () => {
      claim = null;
      stop = lead();
      beat();
    });
  };
  const stopBeating = timers.every(HEARTBEAT, () => {
    if (stop) beat();
    else if (timers.now() - heard > SILENCE) tryClaim();
  });
  const leave = () => {
    stopBeating();
    giveUp();
    window.removeEventListener("pagehide", leave);
    if (stop) {
      stop();
      stop = null;
      post({ t: "bye" });
    }
  };
  window.addEventListener("pagehide", leave);
  return {
    leave,
    hear: (m) => {
      if (m.t === "bye") return tryClaim();
      if (m.t === "hi" && stop) return beat();
      if (m.t !== "hb") return;
      heard = timers.now();
      if (m.lead) {
        // Another leader: a claim of ours is moot; of two leaders the higher id stays.
        giveUp();
        if (stop && m.id > id) {
          stop();
          stop = null;
        } else if (stop) beat();
      } else if (stop)
        beat(); // a claim while this tab leads: answer, the claimer backs off
      else if (claim && m.id > id) giveUp();
    },
  };
}
