const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Parses a duration as written in the environment: `90s`, `30m`, `8h`, `2d`, `500ms`, or a
 * number of seconds. Throws a TypeError naming the variable.
 *
 * @example
 * ```ts
 * parseDuration("30m", "SOLO_IDLE_TIMEOUT") // → 1_800_000
 * ```
 */
export function parseDuration(value: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) throw new TypeError(`${name} must be a duration like 90s, 30m or 8h, got "${value}"`);
  const n = Number(match[1]);
  const unit = match[2] ?? "s";
  const factor = { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: 24 * HOUR }[unit] ?? 1000;
  return Math.round(n * factor);
}
