/** The interactions that count as activity. Timers and network traffic do not. */
export const ACTIVITY_EVENTS = ["pointerdown", "keydown", "visibilitychange"] as const;

/**
 * Calls `report` when the person interacts with the page (pointer, key, the page becoming
 * visible), at most once per `interval` ms. `report` returns false when it could not send
 * (not connected); the next interaction then tries again. Returns a function that stops.
 *
 * @example
 * ```ts
 * const stop = watchActivity(document, 60_000, Date.now, () => channel.activity());
 * ```
 */
export function watchActivity(
  target: Pick<Document, "addEventListener" | "removeEventListener" | "visibilityState">,
  interval: number,
  clock: () => number,
  report: () => boolean,
): () => void {
  if (interval <= 0) return () => {};
  let last = Number.NEGATIVE_INFINITY;
  const onEvent = (event: Event) => {
    if (event.type === "visibilitychange" && target.visibilityState !== "visible") return;
    const now = clock();
    if (now - last < interval) return;
    if (report()) last = now;
  };
  for (const type of ACTIVITY_EVENTS) target.addEventListener(type, onEvent, { capture: true, passive: true });
  return () => {
    for (const type of ACTIVITY_EVENTS) target.removeEventListener(type, onEvent, { capture: true });
  };
}
