import express, { type Request, type RequestHandler, type Router } from "express";
import type {
  AdminAuditResponse,
  AdminEndResponse,
  AdminEventsResponse,
  AdminSessionsResponse,
  OutboxEventView,
} from "../../protocol/index.js";
import { SoloError } from "../errors/solo-error.js";
import type { SessionService } from "../sessions/service.js";
import { auditEventView, sessionView } from "../sessions/views.js";
import { auditCursor } from "../store/shared/paging.js";
import type { AuditQuery, EventOutbox, OutboxEvent } from "../store/types.js";
import { requestActor } from "./require-session.js";

/** What the admin API needs. */
export interface AdminRouterDeps {
  service: SessionService;
  /** `requireSession({ roles: ["admin"] })`: 401 without a live session, 403 `forbidden` without the role, CSRF check. */
  requireAdmin: RequestHandler;
  /** The outbox of session events, when receivers are configured; `retried` wakes the delivery. */
  events?: { outbox: EventOutbox; clock: () => number; retried: () => void } | null;
}

/** Largest page size of the admin lists. */
export const MAX_PAGE = 500;
/** Longest user id, session id or cursor accepted in a query. */
const MAX_PARAM = 512;

/**
 * The admin API, mounted under the auth router at `/admin` (so `/auth/admin/...`), for
 * sessions whose token carries the role `admin`:
 *
 * - `GET /admin/sessions?user=&cursor=&limit=`: live sessions, newest first, paginated.
 * - `DELETE /admin/sessions/:id`: ends one live session (reason `revoked`); 204, or 404 `not_found`.
 * - `DELETE /admin/users/:userId/sessions`: ends all of a user's live sessions; 200 `{"ended": n}`.
 * - `GET /admin/audit?user=&session=&since=&until=&before=&limit=`: the audit trail, newest first.
 * - `GET /admin/events?state=pending|dead&receiver=&limit=`: session events not yet delivered to
 *   a receiver (or given up on), oldest first; 404 `not_found` when no receivers are configured.
 * - `POST /admin/events/:id/retry`: puts a dead event back in line; 204, or 404 `not_found`.
 *
 * @example
 * ```ts
 * createAuthRouter({ ...deps, extra: [createAdminRouter({ service, requireAdmin: requireSession({ role: "admin" }) })] });
 * ```
 */
export function createAdminRouter(deps: AdminRouterDeps): Router {
  const admin = express.Router();
  const { service } = deps;

  admin.get("/sessions", async (req, res) => {
    const user = stringParam(req, "user");
    const cursor = stringParam(req, "cursor");
    const page = await service.store.listAllLive({
      ...(user !== undefined ? { userId: user } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
      limit: limitParam(req, 50),
    });
    const answer: AdminSessionsResponse = { sessions: page.sessions.map(sessionView), next: page.next };
    res.json(answer);
  });

  admin.delete("/sessions/:id", async (req, res) => {
    const id = pathParam(req, "id");
    if (!(await service.end(id, "revoked", requestActor(req)))) {
      throw new SoloError("not_found", {}, "No live session has this id.");
    }
    res.status(204).end();
  });

  admin.delete("/users/:userId/sessions", async (req, res) => {
    const userId = pathParam(req, "userId");
    const answer: AdminEndResponse = { ended: await service.endAll(userId, "revoked", requestActor(req)) };
    res.json(answer);
  });

  admin.get("/audit", async (req, res) => {
    const limit = limitParam(req, 100);
    const query: AuditQuery = { limit };
    const user = stringParam(req, "user");
    const session = stringParam(req, "session");
    const since = timeParam(req, "since");
    const until = timeParam(req, "until");
    const before = stringParam(req, "before");
    if (user !== undefined) query.userId = user;
    if (session !== undefined) query.sessionId = session;
    if (since !== undefined) query.since = since;
    if (until !== undefined) query.until = until;
    if (before !== undefined) {
      if (!/^[\w.:-]{1,64}$/.test(before)) {
        throw new SoloError("invalid_request", {}, '"before" must be an event id from a previous page.');
      }
      query.before = before;
    }
    const events = await service.store.queryAudit(query);
    const last = events[events.length - 1];
    const answer: AdminAuditResponse = {
      events: events.map(auditEventView),
      next: events.length === limit && last ? auditCursor(last) : null,
    };
    res.json(answer);
  });

  const events = deps.events;
  if (events) {
    admin.get("/events", async (req, res) => {
      const state = stringParam(req, "state");
      if (state !== undefined && state !== "pending" && state !== "dead") {
        throw new SoloError("invalid_request", {}, '"state" must be "pending" or "dead".');
      }
      const receiver = stringParam(req, "receiver");
      const list = await events.outbox.list({
        limit: limitParam(req, 100),
        ...(state !== undefined ? { state } : {}),
        ...(receiver !== undefined ? { receiver } : {}),
      });
      const answer: AdminEventsResponse = { events: list.map(outboxEventView) };
      res.json(answer);
    });

    admin.post("/events/:id/retry", async (req, res) => {
      const id = pathParam(req, "id");
      if (!/^[\w.:-]{1,64}$/.test(id) || !(await events.outbox.retry(id, events.clock()))) {
        throw new SoloError("not_found", {}, "No dead event has this id.");
      }
      events.retried();
      res.status(204).end();
    });
  }

  admin.use((_req, _res, next) => next(new SoloError("not_found")));

  const router = express.Router();
  router.use("/admin", deps.requireAdmin, admin);
  return router;
}

/** An optional query parameter given once as a non-empty string of sane length. */
function stringParam(req: Request, name: string): string | undefined {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "" || value.length > MAX_PARAM) {
    throw new SoloError("invalid_request", {}, `"${name}" must be given once, as a non-empty string.`);
  }
  return value;
}

function pathParam(req: Request, name: string): string {
  const value = req.params[name];
  if (typeof value !== "string" || value === "" || value.length > MAX_PARAM) {
    throw new SoloError("invalid_request", {}, `The ${name} in the path is not valid.`);
  }
  return value;
}

/** `limit`: an integer from 1 to {@link MAX_PAGE}. */
function limitParam(req: Request, fallback: number): number {
  const raw = stringParam(req, "limit");
  if (raw === undefined) return fallback;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE) {
    throw new SoloError("invalid_request", {}, `"limit" must be an integer from 1 to ${MAX_PAGE}.`);
  }
  return Number(raw);
}

/** A time: ISO 8601 (`2026-03-02T10:00:00Z`) or epoch milliseconds. */
function timeParam(req: Request, name: string): number | undefined {
  const raw = stringParam(req, name);
  if (raw === undefined) return undefined;
  const ms = /^\d{1,15}$/.test(raw) ? Number(raw) : /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new SoloError("invalid_request", {}, `"${name}" must be an ISO 8601 time or epoch milliseconds.`);
  }
  return ms;
}

/** An outbox event as the admin API shows it. */
function outboxEventView(event: OutboxEvent): OutboxEventView {
  return {
    id: event.id,
    receiver: event.receiver,
    sessionId: event.sessionId,
    userId: event.userId,
    reason: event.end.reason,
    endedAt: new Date(event.end.at).toISOString(),
    attempts: event.attempts,
    nextAt: new Date(event.nextAt).toISOString(),
    state: event.state,
    lastError: event.lastError,
  };
}
