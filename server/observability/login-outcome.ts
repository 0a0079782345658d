/** How a login attempt can end, as counted in `solo_logins_total{outcome}`. */
export const LOGIN_OUTCOMES = [
  "success",
  "invalid_credentials",
  "refused",
  "rate_limited",
  "invalid_request",
  "error",
] as const;

/** How a login attempt ended (see {@link LOGIN_OUTCOMES}). */
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

/**
 * The outcome of a login from the status of its answer.
 *
 * @example
 * ```ts
 * loginOutcome(409) // → "refused"
 * ```
 */
export function loginOutcome(status: number): LoginOutcome {
  if (status === 200) return "success";
  if (status === 401) return "invalid_credentials";
  if (status === 409) return "refused";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "error";
  return "invalid_request";
}
