import { AsyncLocalStorage } from "node:async_hooks";

/** What is known about the request being handled, wherever the code runs. */
interface RequestContext {
  requestId: string;
}

const context = new AsyncLocalStorage<RequestContext>();

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
 * Runs `fn` with `requestId` as the current request's id (see {@link currentRequestId}).
 *
 * @example
 * ```ts
 * withRequestId(req.get("x-request-id") ?? randomUUID(), next);
 * ```
 */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return context.run({ requestId }, fn);
}
