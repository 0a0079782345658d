import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { NextFunction, Request, RequestHandler, Response } from "express";

/** What is known about the request being handled, wherever the code runs. */
interface RequestContext {
  requestId: string;
}

const context = new AsyncLocalStorage<RequestContext>();

/** An incoming `X-Request-Id` is kept when it is this sane; otherwise a new one is made. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The id of the request being handled (set by {@link requestIds}), for log lines written
 * deeper down, e.g. by listeners of the session service. Undefined outside a request.
 *
 * @example
 * ```ts
 * logger.info({ reqId: currentRequestId(), event: "login" }, "login");
 * ```
 */
export function currentRequestId(): string | undefined {
  return context.getStore()?.requestId;
}

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
    context.run({ requestId }, next);
  };
}

/** How a login attempt ended, as counted in `solo_logins_total{outcome}`. */
export type LoginOutcome = "success" | "invalid_credentials" | "refused" | "rate_limited" | "invalid_request" | "error";

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
        else context.run({ requestId }, report);
      });
    }
    next();
  };
}
