/**
 * The leader election where the Web Locks API is missing (insecure origins, old browsers):
 * heartbeats over the tabs' BroadcastChannel. Loaded only by such browsers.
 *
 * @module
 */

import type { TabMessage } from "./tabs.js";

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
): { hear: (message: TabMessage) => void; leave: () => void } {
  const id = Math.random();
  let stop: (() => void) | null = null;
  let claim: ReturnType<typeof setTimeout> | undefined;
  // A leader answers `hi` at once; without an answer this tab claims soon.
  let heard = Date.now() - SILENCE + 3 * CLAIM_WAIT;
  const beat = () => post({ t: "hb", id, lead: stop !== null });
  const giveUp = () => {
    clearTimeout(claim);
    claim = undefined;
  };
  const tryClaim = () => {
    if (stop || claim !== undefined) return;
    beat();
    claim = setTimeout(() => {
      claim = undefined;
      stop = lead();
      beat();
    }, CLAIM_WAIT);
  };
  const timer = setInterval(() => {
    if (stop) beat();
    else if (Date.now() - heard > SILENCE) tryClaim();
  }, HEARTBEAT);
  const leave = () => {
    clearInterval(timer);
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
      heard = Date.now();
      if (m.lead) {
        // Another leader: a claim of ours is moot; of two leaders the higher id stays.
        giveUp();
        if (stop && m.id > id) {
          stop();
          stop = null;
        } else if (stop) beat();
      } else if (stop)
        beat(); // a claim while this tab leads: answer, the claimer backs off
      else if (claim !== undefined && m.id > id) giveUp();
    },
  };
}
