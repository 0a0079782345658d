/**
 * Settling a dispute ("This wasn't me"): the person on a replaced device says the sign-in that
 * replaced it was not them. Knows nothing of HTTP.
 *
 * @module
 */

import { EventEmitter } from "node:events";
import { SoloError } from "../errors/solo-error.js";
import type { SessionRecord } from "../store/types.js";
import type { DisputeClaims } from "../tokens/dispute-tokens.js";
import { MAX_TOKEN_LENGTH } from "../tokens/tokens.js";
import { type Actor, type AuditTrail, actorOf } from "./audit.js";
import type { DisputeCapabilities } from "./dispute-capabilities.js";
import type { SessionService } from "./service.js";

/**
 * Which sessions a dispute ends (reason `revoked`): `"all"`, every live session of the user
 * (the intruder may have signed in more than once); `"taker"`, only the session that took over.
 */
export type DisputeEnds = "all" | "taker";

/** A settled dispute. */
export interface SettledDispute {
  userId: string;
  /** The session that took over, the one the person disputed (as it was before the dispute ended it). */
  disputed: SessionRecord;
  /** The replaced session, from whose device the person disputed. */
  by: SessionRecord;
  /** The sessions the dispute ended (reason `revoked`), newest first. */
  ended: SessionRecord[];
  /** The capability's claims. */
  claims: DisputeClaims;
}

/** What {@link Disputes} needs. */
export interface DisputesDeps {
  service: SessionService;
  capabilities: DisputeCapabilities;
  audit: AuditTrail;
  /** Which sessions a dispute ends. */
  ends: DisputeEnds;
  clock: () => number;
}

/**
 * Settles disputes. A capability is checked in two steps, so that the caller can count an
 * attempt against its user between them: {@link verify} (the token: `invalid_request` when it
 * is not a string, `invalid_token` when it is not a genuine, unexpired capability) and
 * {@link settle} (the sessions: `forbidden` unless the session it names was ended as `replaced`
 * by the session it names, both of its user; `dispute_used` when that replacement was disputed
 * before). Only then does it end sessions (reason `revoked`, by the replaced session), audit
 * `disputed`, and emit it.
 *
 * An intruder who is disputed cannot dispute back: their sessions end as `revoked`, which
 * carries no capability, and the replaced session can be disputed once.
 *
 * @example
 * ```ts
 * const claims = await disputes.verify(req.body.capability);
 * await limiter.consume(claims.sub);
 * const settled = await disputes.settle(claims);
 * ```
 */
export class Disputes extends EventEmitter<{ settled: [SettledDispute] }> {
  readonly #deps: DisputesDeps;

  constructor(deps: DisputesDeps) {
    super();
    this.#deps = deps;
  }

  /** Checks the capability itself (see the class). Ends nothing. */
  async verify(capability: unknown): Promise<DisputeClaims> {
    if (typeof capability !== "string" || capability === "" || capability.length > MAX_TOKEN_LENGTH) {
      throw new SoloError("invalid_request", {}, '"capability" must be the string a replacement notice carried.');
    }
    return this.#deps.capabilities.verify(capability);
  }

  /** Checks the sessions, spends the capability and ends what the dispute ends (see the class). */
  async settle(claims: DisputeClaims): Promise<SettledDispute> {
    const { service, capabilities, audit } = this.#deps;
    const [replaced, taker] = await Promise.all([service.store.get(claims.sid), service.store.get(claims.by)]);
    const userId = claims.sub;
    if (
      !replaced ||
      !taker ||
      replaced.userId !== userId ||
      taker.userId !== userId ||
      replaced.ended?.reason !== "replaced" ||
      replaced.ended.by?.sessionId !== taker.id
    ) {
      throw new SoloError("forbidden", {}, "This capability does not match the sessions it names.");
    }
    if (!(await service.store.useOnce(capabilities.onceKey(claims), capabilities.spentUntil(claims)))) {
      throw new SoloError("dispute_used");
    }
    const actor: Actor = actorOf(replaced);
    const ended =
      this.#deps.ends === "all"
        ? await service.endUserSessions(userId, "revoked", actor)
        : [await service.endSession(taker.id, "revoked", actor)].filter((s): s is SessionRecord => s !== null);
    ended.sort((a, b) => b.createdAt - a.createdAt);
    audit.disputed(taker, replaced, this.#deps.clock(), this.#deps.ends);
    const settled: SettledDispute = { userId, disputed: taker, by: replaced, ended, claims };
    this.emit("settled", settled);
    return settled;
  }
}
