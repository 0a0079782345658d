/**
 * The session lifecycle (`SessionService`): open through the policy and the store's atomic
 * claim, check a token against the store, record activity, end (one, all, the others), sweep,
 * and tell the ended devices (the notice, with a replacement's dispute capability). Longer than
 * the ~300 lines of other modules because these are one job: every way a session changes goes
 * through the same `#end`/`#tell` pair, and splitting them would spread that invariant.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { ENDED_CODE, type ErrorCode, type RevocationNotice, type RevocationReason } from "../../protocol/index.js";
import { SoloError } from "../errors/solo-error.js";
import type { DeliveryStatus, DeviceInfo, SessionRecord, SessionStore } from "../store/types.js";
import type { SessionClaims, TokenService } from "../tokens/tokens.js";
import type { Actor, AuditTrail } from "./audit.js";
import { CheckCache } from "./check-cache.js";
import type { DisputeCapabilities } from "./dispute-capabilities.js";
import type { PolicyOption } from "./policy.js";
import { decide, type PolicySpec } from "./policy.js";
import type { SessionUser } from "./user.js";
import { replacedBy, revocationNotice, sessionView } from "./views.js";

/** Delivers revocation notices to a session's sockets, wherever they are. */
export interface Notifier {
  /**
   * Sends `session:revoked` to the ended session's sockets and disconnects them. Returns how
   * many sockets of this node it reached at once (others report their delivery themselves).
   */
  revoke(notice: RevocationNotice): number;
}

/** A successful login. */
export interface Opened {
  token: string;
  session: SessionRecord;
  replaced: readonly SessionRecord[];
}

/** A token that passed every check, with its live session. */
export interface Checked {
  claims: SessionClaims;
  session: SessionRecord;
}

/** Events of the service, for metrics and logs. */
export interface SessionEvents {
  login: [session: SessionRecord, replaced: readonly SessionRecord[]];
  refused: [userId: string, active: SessionRecord, policy: string];
  /**
   * A session ended; `actor` is who ended it (the user, and the session it was ended from:
   * logout, the user's own device list, an administrator, a dispute), null for the system.
   */
  ended: [session: SessionRecord, actor: Actor | null];
  /** A notice moved forward; `seconds` is the emit → acknowledgement time when known. */
  delivery: [sessionId: string, status: DeliveryStatus, seconds: number | null];
  rejected: [code: ErrorCode];
}

/** Settings of {@link SessionService}. */
export interface SessionServiceOptions {
  policy: PolicyOption;
  abandonGrace: number;
  maxAge: number;
  idleTimeout: number;
  touchInterval: number;
  tombstoneRetention: number;
  auditRetention: number;
  /** How long (ms) a live session read from the store may answer later checks; 0: always read. */
  sessionCacheTtl: number;
  clock: () => number;
  /**
   * Resolves when the keys and the store can serve: until then every operation waits; if it
   * rejects, every operation answers `store_unavailable`. @default ready at once
   */
  ready?: Promise<unknown>;
  /**
   * Issues the dispute capability that a replaced session's notice, refused handshake and 401
   * carry while the dispute window is open. @default none: no capability
   */
  capabilities?: DisputeCapabilities | null;
}

/** Largest batch of stale sessions handled per sweep step. */
const SWEEP_BATCH = 500;

/**
 * The session lifecycle: opens sessions through the policy and the store's atomic claim,
 * checks tokens against the store, records activity, ends sessions, and tells the ended
 * ones through the notifier. Knows nothing of HTTP or Socket.IO.
 */
export class SessionService extends EventEmitter<SessionEvents> {
  readonly store: SessionStore;
  readonly tokens: TokenService;
  readonly #audit: AuditTrail;
  readonly #options: SessionServiceOptions;
  #notifier: Notifier | null = null;
  /** Live sessions recently read from the store (see `sessionCacheTtl`). */
  readonly #cache: CheckCache;
  /** Set once the keys and the store can serve (see `ready`). */
  #started = false;
  readonly #starting: Promise<void>;

  constructor(store: SessionStore, tokens: TokenService, audit: AuditTrail, options: SessionServiceOptions) {
    super();
    this.store = store;
    this.tokens = tokens;
    this.#audit = audit;
    this.#options = options;
    this.#cache = new CheckCache(store, options.sessionCacheTtl, options.clock);
    this.#starting = Promise.resolve(options.ready).then(
      () => {
        this.#started = true;
      },
      () => {
        throw new SoloError("store_unavailable", {}, "The session service did not start; see the server's log.");
      },
    );
    this.#starting.catch(() => {}); // answered to each caller
  }

  /** Waits until the keys and the store can serve; `store_unavailable` if they never will. */
  #whenStarted(): Promise<void> | undefined {
    return this.#started ? undefined : this.#starting;
  }

  /** Connects the realtime side; until then, ended sessions learn it on their next request. */
  setNotifier(notifier: Notifier | null): void {
    this.#notifier = notifier;
  }

  /**
   * Opens a session for an authenticated user. Under a refusing policy, throws
   * `session_active` with the active session.
   */
  async open(user: SessionUser, device: DeviceInfo, takeover: boolean): Promise<Opened> {
    await this.#whenStarted();
    const now = this.#options.clock();
    const id = randomBytes(16).toString("base64url");
    const session: SessionRecord = {
      id,
      userId: user.userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.#options.maxAge,
      device,
      presenceAt: null,
      ended: null,
    };
    const policy = this.policyFor(user);
    const ctx = { now, takeover, abandonGrace: this.#options.abandonGrace };
    const result = await this.store.claim(session, (live) => decide(policy, live, ctx));
    if (result.kind === "refused") {
      const policyName = typeof policy === "string" ? policy : `max:${policy.maxSessions}`;
      this.#audit.refused(user.userId, device, now, result.active, policyName);
      this.emit("refused", user.userId, result.active, policyName);
      throw new SoloError("session_active", { active: sessionView(result.active), takeover: policy === "confirm" });
    }
    const told = Promise.all(result.evicted.map((ended) => this.#tell(ended, null)));
    const token = await this.tokens.sign({
      userId: user.userId,
      sessionId: id,
      roles: user.roles,
      issuedAt: now,
      expiresAt: session.expiresAt,
    });
    await told;
    this.#audit.login(result.session);
    this.emit("login", result.session, result.evicted);
    return { token, session: result.session, replaced: result.evicted };
  }

  /** The policy that applies to a user. */
  policyFor(user: SessionUser): PolicySpec {
    const option = this.#options.policy;
    return typeof option === "function" ? option(user) : option;
  }

  /**
   * Checks a token: signature and claims, then the session in the store. Throws a
   * {@link SoloError}: `missing_token`, `invalid_token`, `token_expired` (expired, and its
   * session no longer remembered), or for an ended session `session_replaced` (with `by`),
   * `session_revoked`, `session_expired`, `session_idle` (also when the token has expired too).
   * A session found past its idle or absolute deadline is ended here (and told).
   */
  async check(token: string | null): Promise<Checked> {
    try {
      await this.#whenStarted();
      if (token === null) throw new SoloError("missing_token");
      // An expired token is still looked up, so that the answer says why its session ended
      // (session_expired, session_replaced...) for as long as the store remembers it.
      const { claims, expired } = await this.tokens.verifyAllowingExpiry(token);
      const { session, cached } = await this.#cache.lookup(claims.sid);
      if (!session || session.userId !== claims.sub) throw new SoloError(expired ? "token_expired" : "invalid_token");
      if (session.ended) {
        this.delivered(session.id, "delivered");
        throw await this.#endedError(session);
      }
      const lapse = this.#lapse(session, this.#options.clock());
      if (lapse && cached) {
        // The remembered copy may miss activity recorded elsewhere: never end a session on it.
        this.forget(session.id);
        return await this.check(token);
      }
      if (expired && !lapse) throw new SoloError("token_expired");
      if (lapse) {
        const ended = await this.#end(session.id, lapse, null);
        if (ended) this.delivered(ended.id, "delivered"); // this answer tells the device
        throw endedError(ended ?? { ...session, ended: { at: this.#options.clock(), reason: lapse, by: null } });
      }
      return { claims, session };
    } catch (error) {
      if (error instanceof SoloError) this.emit("rejected", error.code);
      throw error;
    }
  }

  /**
   * The synchronous fast path of {@link check}: the token was verified before and its live
   * session is remembered (see `sessionCacheTtl`) and within its deadlines. Null whenever
   * anything needs work or a decision: then call {@link check}.
   */
  checkCached(token: string | null): Checked | null {
    if (token === null || !this.#cache.enabled) return null;
    const claims = this.tokens.cached(token);
    if (!claims) return null;
    const session = this.#cache.peek(claims.sid);
    if (!session || session.userId !== claims.sub || this.#lapse(session, this.#options.clock())) return null;
    return { claims, session };
  }

  /**
   * Forgets a cached live session: another node ended it (its `solo:revoke` notice arrived).
   * Sessions ended through this service are forgotten as they end.
   */
  forget(sessionId: string): void {
    this.#cache.forget(sessionId);
  }

  /**
   * Records activity of a checked session: written to the store at most once per touch
   * interval. Returns without waiting for the write.
   */
  activity(session: SessionRecord): void {
    const now = this.#options.clock();
    if (now - session.lastSeenAt < this.#options.touchInterval) return;
    session.lastSeenAt = now;
    this.store.touch(session.id, now).catch(() => {});
  }

  /**
   * Records activity reported over the socket (the person interacted with the page).
   * Reads the session fresh, so a session already past its deadline is ended, not revived.
   */
  async activityById(sessionId: string): Promise<void> {
    await this.#whenStarted();
    this.forget(sessionId);
    const session = await this.store.get(sessionId);
    if (!session || session.ended) return;
    const lapse = this.#lapse(session, this.#options.clock());
    if (lapse) await this.#end(session.id, lapse, null);
    else this.activity(session);
  }

  /**
   * Ends one session (logout, the user's own device list, an administrator's revoke). Returns
   * false if it was not live.
   */
  async end(sessionId: string, reason: "logout" | "revoked", actor: Actor | null): Promise<boolean> {
    return (await this.endSession(sessionId, reason, actor)) !== null;
  }

  /** Ends one session like {@link end}; returns the ended record, or null if it was not live. */
  async endSession(
    sessionId: string,
    reason: "logout" | "revoked",
    actor: Actor | null,
  ): Promise<SessionRecord | null> {
    await this.#whenStarted();
    return this.#end(sessionId, reason, actor);
  }

  /** Ends every live session of a user. Returns how many. */
  async endAll(userId: string, reason: "logout" | "revoked", actor: Actor | null): Promise<number> {
    return (await this.endUserSessions(userId, reason, actor)).length;
  }

  /** Ends every live session of a user like {@link endAll}; returns the ended records. */
  async endUserSessions(userId: string, reason: "logout" | "revoked", actor: Actor | null): Promise<SessionRecord[]> {
    await this.#whenStarted();
    const ended = await this.store.endAll(userId, { at: this.#options.clock(), reason, by: null });
    await Promise.all(ended.map((s) => this.#tell(s, actor)));
    return ended;
  }

  /**
   * Ends every live session of a user but `keep` (reason `revoked`: "sign out my other
   * devices"). A session that starts meanwhile is not ended. Returns the ended records.
   */
  async endOthers(userId: string, keep: string, actor: Actor | null): Promise<SessionRecord[]> {
    const ended: SessionRecord[] = [];
    for (const s of await this.liveSessions(userId)) {
      if (s.id === keep) continue;
      const record = await this.#end(s.id, "revoked", actor);
      if (record) ended.push(record);
    }
    return ended;
  }

  /**
   * A user's live sessions, newest first; those past their idle or absolute deadline (which
   * the sweeper has not ended yet, and which no request can use any more) are left out.
   */
  async liveSessions(userId: string): Promise<SessionRecord[]> {
    await this.#whenStarted();
    const now = this.#options.clock();
    const out: SessionRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.store.listAllLive({ userId, limit: 500, ...(cursor ? { cursor } : {}) });
      for (const s of page.sessions) if (!this.#lapse(s, now)) out.push(s);
      cursor = page.next;
    } while (cursor);
    return out;
  }

  /**
   * The `session:revoked` notice of an ended session, as its device gets it: a replacement's
   * carries the dispute capability while the dispute window is open. Never rejects (a
   * capability that cannot be signed is left out).
   */
  async notice(session: Pick<SessionRecord, "id" | "userId" | "ended">): Promise<RevocationNotice> {
    const notice = revocationNotice(session);
    const dispute = await this.#capability(session);
    if (dispute) notice.dispute = dispute;
    return notice;
  }

  /**
   * Completes a notice heard from another node that lacks the dispute capability it is due
   * (the Redis ends stream carries none): reads the session and adds it. Null when the notice
   * is complete as it is (nothing to read); the promise never rejects.
   */
  completeNotice(notice: RevocationNotice): Promise<RevocationNotice> | null {
    const capabilities = this.#options.capabilities;
    if (!capabilities || notice.reason !== "replaced" || notice.dispute !== undefined) return null;
    if (!capabilities.open(Date.parse(notice.at))) return null;
    return this.store.get(notice.sessionId).then(
      (session) => (session?.ended ? this.notice(session) : notice),
      () => notice,
    );
  }

  /**
   * Ends the sessions that went idle or passed their absolute lifetime, tells their
   * devices, and forgets tombstones and audit events past retention. Returns how many
   * sessions it ended. Runs on a timer; call it directly in tests with an injected clock.
   */
  async sweep(): Promise<number> {
    await this.#whenStarted();
    const now = this.#options.clock();
    let count = 0;
    for (;;) {
      const stale = await this.store.findStale(now, now - this.#options.idleTimeout, SWEEP_BATCH);
      for (const s of stale) {
        const lapse = this.#lapse(s, now) ?? "idle";
        if (await this.#end(s.id, lapse, null)) count++;
      }
      if (stale.length < SWEEP_BATCH) break;
    }
    await this.store.purge(now - this.#options.tombstoneRetention, now - this.#options.auditRetention);
    return count;
  }

  /**
   * Reports how far a revocation notice got (emit → acknowledgement `seconds` when known).
   * A status this node already recorded is not recorded or emitted again.
   */
  delivered(sessionId: string, status: DeliveryStatus, seconds: number | null = null): void {
    if (this.#audit.delivery(sessionId, status)) this.emit("delivery", sessionId, status, seconds);
  }

  /**
   * Whether a token belongs to a live session, with no side effects: unlike {@link check} it
   * records no activity, ends nothing, marks no notice delivered and emits nothing. For
   * token introspection by other services. Returns null for anything not live.
   */
  async inspect(token: string): Promise<Checked | null> {
    await this.#whenStarted();
    let claims: SessionClaims;
    try {
      claims = await this.tokens.verify(token);
    } catch (error) {
      if (error instanceof SoloError) return null;
      throw error;
    }
    const session = await this.store.get(claims.sid);
    if (!session || session.ended || session.userId !== claims.sub) return null;
    if (this.#lapse(session, this.#options.clock())) return null;
    return { claims, session };
  }

  #lapse(s: SessionRecord, now: number): "expired" | "idle" | null {
    if (s.expiresAt <= now) return "expired";
    if (s.lastSeenAt + this.#options.idleTimeout <= now) return "idle";
    return null;
  }

  async #end(sessionId: string, reason: RevocationReason, actor: Actor | null): Promise<SessionRecord | null> {
    const ended = await this.store.end(sessionId, { at: this.#options.clock(), reason, by: null });
    if (ended) await this.#tell(ended, actor);
    return ended;
  }

  /**
   * Pushes the notice first (nothing stands between the commit and the device but the
   * signature of a replacement's dispute capability), then audits the ended session:
   * `delivered` when a socket of this node got the notice, else `pending`. Never rejects.
   */
  async #tell(ended: SessionRecord, actor: Actor | null): Promise<void> {
    this.forget(ended.id);
    const notice = await this.notice(ended);
    const reached = this.#notifier?.revoke(notice) ?? 0;
    this.#audit.ended(ended, reached > 0 ? "delivered" : "pending", actor);
    if (reached > 0) this.emit("delivery", ended.id, "delivered", null);
    this.emit("ended", ended, actor);
  }

  /** The dispute capability of an ended session, when one is due; undefined otherwise or when it cannot be signed. */
  async #capability(session: Pick<SessionRecord, "id" | "userId" | "ended">): Promise<string | undefined> {
    try {
      return await this.#options.capabilities?.issue(session);
    } catch {
      return undefined;
    }
  }

  /** {@link endedError}, with the dispute capability of a replaced session while it is due. */
  async #endedError(session: SessionRecord): Promise<SoloError> {
    const error = endedError(session);
    const dispute = await this.#capability(session);
    if (dispute) error.details.dispute = dispute;
    return error;
  }
}

/** The error a request with an ended session's token gets. */
export function endedError(session: SessionRecord): SoloError {
  const end = session.ended;
  if (!end) return new SoloError("invalid_token");
  return new SoloError(ENDED_CODE[end.reason], {
    reason: end.reason,
    ...(end.by ? { by: replacedBy(end.by) } : {}),
  });
}
