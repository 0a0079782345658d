/** A clock the test moves by hand: pass `clock.now` as the server's `clock` option. */
export interface ManualClock {
  now: () => number;
  advance(ms: number): void;
  set(ms: number): void;
}

/** Starts at `start` (epoch ms); never moves on its own. */
export function manualClock(start = Date.parse("2026-03-02T10:00:00Z")): ManualClock {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
    set(ms) {
      t = ms;
    },
  };
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
