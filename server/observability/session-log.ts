import type { Request } from "express";
import type { Logger } from "pino";
import type { EventDeliverer } from "../events/deliverer.js";
import type { SessionService } from "../sessions/service.js";
import type { DeviceInfo, SessionRecord } from "../store/types.js";
import type { DisputeReport } from "./dispute-outcome.js";
import { logId } from "./logger.js";
import type { LoginOutcome } from "./login-outcome.js";
import { currentRequestId } from "./request-context.js";

/** The device fields a log line carries. */
function device(d: DeviceInfo): { name: string | null; browser: string | null; os: string | null; ip: string | null } {
  return { name: d.name, browser: d.browser, os: d.os, ip: d.ip };
}

/** Fields common to every line: the request id when the event happened inside a request. */
function base(event: string): { event: string; reqId?: string } {
  const reqId = currentRequestId();
  return reqId === undefined ? { event } : { event, reqId };
}

/**
 * Writes one structured log line per login, refusal and ended session (kick), from the
 * session service's events, and per dispute (`dispute(report)`: the disputed session as `sid`,
 * the replaced one that disputed as `bySid`, the capability's `jti` and the ended sessions,
 * all hashed). Session ids are hashed ({@link logId}); tokens, passwords and
 * cookies are never logged. Notice delivery is logged at debug level.
 *
 * @example
 * ```ts
 * const logins = logSessionEvents(service, logger);
 * router.use(loginOutcomes((outcome, req) => logins.failed(outcome, req)));
 * ```
 */
export function logSessionEvents(
  service: SessionService,
  logger: Logger,
): { failed(outcome: LoginOutcome, req: Request): void; dispute(report: DisputeReport): void } {
  service.on("login", (session: SessionRecord, replaced: readonly SessionRecord[]) => {
    logger.info(
      {
        ...base("login"),
        userId: session.userId,
        sid: logId(session.id),
        device: device(session.device),
        replaced: replaced.map((s) => logId(s.id)),
      },
      "login",
    );
  });
  service.on("refused", (userId, active, policy) => {
    logger.info(
      { ...base("login_refused"), userId, policy, activeSid: logId(active.id), activeDevice: device(active.device) },
      "login refused by policy",
    );
  });
  service.on("ended", (session, actor) => {
    const end = session.ended;
    if (!end) return;
    logger.info(
      {
        ...base("session_ended"),
        reason: end.reason,
        userId: session.userId,
        sid: logId(session.id),
        device: device(session.device),
        ...(end.by ? { bySid: logId(end.by.sessionId), byDevice: device(end.by.device) } : {}),
        ...(actor?.userId ? { actor: actor.userId } : {}),
        ...(actor?.sessionId ? { actorSid: logId(actor.sessionId) } : {}),
      },
      `session ended: ${end.reason}`,
    );
  });
  service.on("delivery", (sessionId, status, seconds) => {
    logger.debug(
      {
        ...base("notice"),
        sid: logId(sessionId),
        status,
        ...(seconds !== null ? { ms: Math.round(seconds * 1000) } : {}),
      },
      `revocation notice ${status}`,
    );
  });
  return {
    dispute({ outcome, ip, claims, settled }) {
      const line = {
        ...base("dispute"),
        outcome,
        ip,
        ...(claims
          ? { userId: claims.sub, sid: logId(claims.by), bySid: logId(claims.sid), jti: logId(claims.jti) }
          : {}),
        ...(settled
          ? {
              device: device(settled.disputed.device),
              byDevice: device(settled.by.device),
              ended: settled.ended.map((s) => logId(s.id)),
            }
          : {}),
      };
      if (outcome === "accepted")
        logger.warn(line, "session disputed: the person on the replaced device said it was not them");
      else if (outcome === "invalid") logger.info(line, "dispute refused");
      else logger.warn(line, `dispute ${outcome}`);
    },
    failed(outcome, req) {
      if (outcome === "success" || outcome === "refused") return; // logged from the service's events
      const line = { ...base("login_failed"), outcome, ip: req.ip ?? null };
      if (outcome === "error") logger.warn(line, "login failed");
      else logger.info(line, "login failed");
    },
  };
}

/**
 * Writes one log line per attempt at telling a receiver of an ended session: debug when it was
 * delivered, warn when it will be retried or was given up on. Session ids are hashed; the
 * signed token is never logged.
 */
export function logDeliveries(deliverer: EventDeliverer, logger: Logger): void {
  deliverer.on("attempt", (receiver, outcome, seconds, event, error) => {
    const line = {
      event: "receiver_delivery",
      receiver,
      outcome,
      reason: event.end.reason,
      sid: logId(event.sessionId),
      attempts: event.attempts + (outcome === "retry" || outcome === "dead" ? 1 : 0),
      ms: Math.round(seconds * 1000),
      ...(error !== null ? { error } : {}),
    };
    if (outcome === "delivered" || outcome === "skipped") logger.debug(line, `session event ${outcome}`);
    else logger.warn(line, outcome === "dead" ? "session event given up on" : "session event will be retried");
  });
  deliverer.on("error", (error) =>
    logger.warn({ err: error, event: "receiver_delivery" }, "session event pass failed"),
  );
}
