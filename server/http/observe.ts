import { randomUUID } from "node:crypto";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { type LoginOutcome, loginOutcome } from "../observability/login-outcome.js";

import { currentRequestId, withRequestId } from "../observability/request-context.js";

/** An incoming `X-Request-Id` is kept when it is this sane; otherwise a new one is made. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * Middleware: gives each request an id, from a sane incoming `X-Request-Id` or a new UUID,
 * echoes it in the `X-Request-Id` response header and makes it available to
 * {@link currentRequestId} for the rest of the request.
 *
 * @example
 * ```ts
 * router.use(requestIds());
 * ```
 */
export function requestIds(): RequestHandler {
  return function soloRequestId(req: Request, res: Response, next: NextFunction): void {
    const incoming = req.get("x-request-id");
    const requestId = incoming !== undefined && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.set("X-Request-Id", requestId);
    withRequestId(requestId, next);
  };
}

/**
 * Middleware for the auth router: when a `POST /login` has been answered, reports its
 * outcome (by status, whichever guard or route answered it).
 *
 * @example
 * ```ts
 * router.use(loginOutcomes((outcome) => metrics.login(outcome)));
 * ```
 */
export function loginOutcomes(onOutcome: (outcome: LoginOutcome, req: Request) => void): RequestHandler {
  return function soloLoginOutcome(req: Request, res: Response, next: NextFunction): void {
    if (req.method === "POST" && req.path === "/login") {
      const requestId = currentRequestId();
      res.once("finish", () => {
        const report = () => onOutcome(loginOutcome(res.statusCode), req);
        if (requestId === undefined) report();
        else withRequestId(requestId, report);
      });
    }
    next();
  };
}
