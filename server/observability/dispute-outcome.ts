import type { SettledDispute } from "../sessions/disputes.js";
import type { DisputeClaims } from "../tokens/dispute-tokens.js";

/** How a dispute can end, as counted in `solo_disputes_total{outcome}`. */
export const DISPUTE_OUTCOMES = ["accepted", "invalid", "refused", "rate_limited", "error"] as const;

/**
 * How a dispute ended (see {@link DISPUTE_OUTCOMES}): `accepted` (sessions ended), `invalid` (a
 * malformed body, or a capability that is forged, expired or not one), `refused` (a genuine
 * capability that does not match its sessions (`forbidden`) or was spent before
 * (`dispute_used`), or a foreign origin),
 * `rate_limited`, `error` (the store or the app's `onDispute` failed).
 */
export type DisputeOutcome = (typeof DISPUTE_OUTCOMES)[number];

/** One answered `POST /auth/dispute`, for the metrics and the log. */
export interface DisputeReport {
  outcome: DisputeOutcome;
  /** The client's address. */
  ip: string | null;
  /** The capability's claims, once it was verified. */
  claims: DisputeClaims | null;
  /** The settled dispute, when it was accepted. */
  settled: SettledDispute | null;
}

/**
 * The outcome of a dispute from the status of its answer.
 *
 * @example
 * ```ts
 * disputeOutcome(403) // → "refused"
 * ```
 */
export function disputeOutcome(status: number): DisputeOutcome {
  if (status === 200) return "accepted";
  if (status === 403 || status === 409) return "refused";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "error";
  return "invalid";
}
