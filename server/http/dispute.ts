import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from "express";
import type { DisputeResponse } from "../../protocol/index.js";
import { SoloError } from "../errors/solo-error.js";
import { type DisputeReport, disputeOutcome } from "../observability/dispute-outcome.js";
import { currentRequestId, withRequestId } from "../observability/request-context.js";
import type { OnDispute } from "../options/types.js";
import type { DisputeLimiter } from "../ratelimit/dispute.js";
import type { Disputes, SettledDispute } from "../sessions/disputes.js";
import { sessionView } from "../sessions/views.js";
import type { DisputeClaims } from "../tokens/dispute-tokens.js";
import { MAX_BODY, requireJson } from "./auth-routes.js";

/** What the dispute route needs. */
export interface DisputeRouterDeps {
  disputes: Disputes;
  /** Disputes per user. */
  limiter: DisputeLimiter;
  /** The app's hook, called once a dispute has ended the sessions; null: none. */
  onDispute: OnDispute | null;
  /** The origin check, as on the login route. */
  guards: RequestHandler[];
  /** The client's address, for the log. */
  clientAddress: (req: Request) => string;
  /** Told of every answered dispute (metrics, the log line). */
  observe: (report: DisputeReport) => void;
}

/** What the route learned, for {@link DisputeReport}. */
interface Learned {
  claims: DisputeClaims | null;
  settled: SettledDispute | null;
}

/**
 * `POST /dispute` ("This wasn't me"), mounted on the auth router. The body is JSON
 * `{ "capability": "<the replacement notice's dispute>" }`, from an allowed origin (the login
 * route's check). In order: the capability is verified (400 `invalid_request` for a body that
 * is not that, 401 `invalid_token` for a forged, altered or expired one), counted against its
 * user (429 `rate_limited`; a refused dispute is refunded), matched with the store (403
 * `forbidden` unless its session was ended as `replaced` by the session it names; 409
 * `dispute_used` when that replacement was disputed before) and spent; then the
 * dispute ends sessions (reason `revoked`), is audited as `disputed`, the app's `onDispute`
 * runs, and the answer is 200 {@link DisputeResponse}. Every refusal ends nothing.
 *
 * @example
 * ```ts
 * createAuthRouter({ ...deps, extra: [createDisputeRouter({ disputes, limiter, onDispute, guards, clientAddress, observe })] });
 * ```
 */
export function createDisputeRouter(deps: DisputeRouterDeps): Router {
  const router = express.Router();
  const json = express.json({ limit: MAX_BODY, strict: true, type: () => true });

  router.post("/dispute", observed(deps), ...deps.guards, requireJson, json, async (req, res) => {
    const learned = res.locals as Partial<Learned>;
    const body: unknown = req.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new SoloError("invalid_request", {}, 'The body must be a JSON object like {"capability": "..."}.');
    }
    const claims = await deps.disputes.verify((body as { capability?: unknown }).capability);
    learned.claims = claims;
    const counted = await deps.limiter.count(claims.sub);
    let settled: SettledDispute;
    try {
      settled = await deps.disputes.settle(claims);
    } catch (error) {
      // A refused dispute ended nothing: it does not count (a replayed capability cannot use
      // up the limit of the user it names).
      if (error instanceof SoloError && (error.code === "forbidden" || error.code === "dispute_used")) {
        await counted.refund();
      }
      throw error;
    }
    learned.settled = settled;
    await deps.onDispute?.({
      userId: settled.userId,
      disputed: sessionView(settled.disputed),
      by: sessionView(settled.by),
      ended: settled.ended.map(sessionView),
      req,
    });
    const answer: DisputeResponse = { disputed: sessionView(settled.disputed), ended: settled.ended.map(sessionView) };
    res.status(200).json(answer);
  });

  return router;
}

/** Reports each answered dispute (whichever guard or step answered it) with what the route learned. */
function observed(deps: DisputeRouterDeps): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const requestId = currentRequestId();
    res.once("finish", () => {
      const learned = res.locals as Partial<Learned>;
      const report = () =>
        deps.observe({
          outcome: disputeOutcome(res.statusCode),
          ip: deps.clientAddress(req),
          claims: learned.claims ?? null,
          settled: learned.settled ?? null,
        });
      if (requestId === undefined) report();
      else withRequestId(requestId, report);
    });
    next();
  };
}
