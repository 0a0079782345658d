import express, { type Router } from "express";
import { SoloError } from "../errors/solo-error.js";
import type { SessionStore } from "../store/types.js";
import { sendError } from "./respond.js";

/** How long `/readyz` waits for the store by default, in ms. */
const READY_TIMEOUT = 2000;

/** What the health routes need. */
export interface HealthDeps {
  store: Pick<SessionStore, "ping">;
  /** How long `/readyz` waits for the store, in ms. @default 2000 */
  timeout?: number;
}

/**
 * `GET /healthz`: 200 `{"status":"ok"}` while the process serves requests (liveness).
 * `GET /readyz`: 200 `{"status":"ready"}` when the store answers a ping within the timeout,
 * else 503 `store_unavailable` (readiness: take the node out of the load balancer).
 *
 * @example
 * ```ts
 * app.use(createHealthRouter({ store }));
 * ```
 */
export function createHealthRouter(deps: HealthDeps): Router {
  const router = express.Router();
  router.get("/healthz", (_req, res) => {
    res.set("Cache-Control", "no-store");
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    res.set("Cache-Control", "no-store");
    if (await reachable(deps.store, deps.timeout ?? READY_TIMEOUT)) res.json({ status: "ready" });
    else sendError(res, new SoloError("store_unavailable"));
  });
  return router;
}

/** True when the store answers a ping within `timeout` ms. */
async function reachable(store: Pick<SessionStore, "ping">, timeout: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeout);
  });
  try {
    return await Promise.race([store.ping().then(() => true), late]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
