/**
 * The demo's admin view, loaded only for admins (see ./admin-hook.ts): every live session
 * with its device and last activity and a button to end it, and the audit trail with where
 * each kick's notice stands. It stays current through the `/admin` Socket.IO feed: new
 * audit events are prepended, delivery badges only move forward, and the session list is
 * fetched again whenever a session starts or ends.
 */

import "./admin.css";
import type { SoloClient } from "@solo-session/client";
import { io, type Socket } from "socket.io-client";
import {
  ADMIN_EVENTS,
  ADMIN_NAMESPACE,
  type AdminAuditResponse,
  type AdminClientToServerEvents,
  type AdminEndResponse,
  type AdminServerToClientEvents,
  type AdminSessionsResponse,
  type AuditEventView,
  type ErrorBody,
  type SessionView,
} from "solo-session/protocol";
import {
  absolute,
  ago,
  buildView,
  button,
  capitalize,
  cell,
  deviceText,
  emptyRow,
  eventRow,
  flash,
  mono,
  setDelivery,
  setDevice,
  span,
  timeEl,
  tr,
} from "./admin-dom.js";

import { type AdminView, FIRST_PAGE, Trail } from "./admin-state.js";

/** What the view needs from the page. */
export interface MountOptions {
  solo: SoloClient;
  /** Where the view goes; it is shown while the view lives. */
  slot: HTMLElement;
  /** The admin's own session (its row cannot be ended from here: use "Sign out"). */
  sessionId: string;
  /** The first page of live sessions, already fetched by the hook. */
  first: AdminSessionsResponse;
}

type FeedSocket = Socket<AdminServerToClientEvents, AdminClientToServerEvents>;
type FeedStatus = "connecting" | "connected" | "reconnecting" | "offline" | "refused";

/** Page size of the audit trail. */
const AUDIT_PAGE = 50;
/** The largest session list the view asks for ("Show more" grows it by {@link FIRST_PAGE}). */
const MAX_SESSIONS = 500;
/** `lastSeenAt` is not pushed: the list is fetched again on this period too. */
const SESSIONS_REFRESH_MS = 30_000;
/** Relative times ("2 min ago") are redrawn on this period. */
const TICK_MS = 15_000;
/** How long the result of an action stays in view. */
const NOTE_MS = 10_000;

/**
 * Builds the admin view into `slot` and connects it to the `/admin` feed.
 *
 * @example
 * ```ts
 * const view = mountAdmin({ solo, slot, sessionId: session.id, first: await res.json() });
 * view.destroy(); // when the admin signs out
 * ```
 */
export function mountAdmin(options: MountOptions): AdminView {
  const view = new AdminPanel(options);
  return { destroy: () => view.destroy() };
}

class AdminPanel {
  readonly #solo: SoloClient;
  readonly #slot: HTMLElement;
  readonly #ownSessionId: string;
  readonly #root: HTMLElement;
  readonly #feed: FeedSocket;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #destroyed = false;
  #noteTimer: ReturnType<typeof setTimeout> | undefined;

  // Sessions
  #sessions: SessionView[] = [];
  #sessionsLimit = FIRST_PAGE;
  #sessionsMore = false;
  readonly #sessionRows = new Map<string, HTMLTableRowElement>();
  #refreshing: Promise<void> | null = null;
  #refreshAgain = false;

  // Audit trail
  readonly #trail = new Trail();
  readonly #eventRows = new Map<string, HTMLTableRowElement>();
  #olderCursor: string | null = null;
  #auditLoaded = false;

  readonly #el: {
    feed: HTMLElement;
    feedText: HTMLElement;
    sessionsCount: HTMLElement;
    sessionsBody: HTMLTableSectionElement;
    sessionsTitle: HTMLElement;
    sessionsMore: HTMLButtonElement;
    note: HTMLElement;
    auditBody: HTMLTableSectionElement;
    auditEmpty: HTMLElement;
    auditOlder: HTMLButtonElement;
  };

  constructor(options: MountOptions) {
    this.#solo = options.solo;
    this.#slot = options.slot;
    this.#ownSessionId = options.sessionId;
    this.#root = this.#build();
    this.#el = {
      feed: this.#find("[data-admin=feed]"),
      feedText: this.#find("[data-admin=feed-text]"),
      sessionsCount: this.#find("[data-admin=sessions-count]"),
      sessionsBody: this.#find("[data-admin=sessions] tbody"),
      sessionsTitle: this.#find("#admin-sessions-title"),
      sessionsMore: this.#find("[data-admin=sessions-more]"),
      note: this.#find("[data-admin=note]"),
      auditBody: this.#find("[data-admin=audit] tbody"),
      auditEmpty: this.#find("[data-admin=audit-empty]"),
      auditOlder: this.#find("[data-admin=audit-older]"),
    };
    this.#slot.replaceChildren(this.#root);
    this.#slot.hidden = false;

    this.#showSessions(options.first);
    this.#el.sessionsMore.addEventListener("click", () => {
      this.#sessionsLimit = Math.min(MAX_SESSIONS, this.#sessionsLimit + FIRST_PAGE);
      void this.#refreshSessions();
    });
    this.#el.auditOlder.addEventListener("click", () => void this.#loadOlder());

    this.#feed = io(ADMIN_NAMESPACE, {
      withCredentials: true,
      forceNew: true,
      // WebSocket first; long-polling if a proxy refuses the upgrade.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
    });
    this.#listen();
    void this.#loadAudit();
    this.#timers.push(
      setInterval(() => void this.#refreshSessions(), SESSIONS_REFRESH_MS),
      setInterval(() => this.#renderSessions(), TICK_MS),
    );
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const timer of this.#timers) clearInterval(timer);
    clearTimeout(this.#noteTimer);
    window.removeEventListener("offline", this.#offline);
    window.removeEventListener("online", this.#online);
    this.#feed.disconnect();
    this.#root.remove();
    this.#slot.hidden = true;
  }

  // --- feed ------------------------------------------------------------------------------

  // Like the SDK's channel: a browser that reports no network pauses the feed, and it
  // reconnects (and catches up) as soon as the network is back.
  readonly #offline = (): void => {
    this.#feed.disconnect();
    this.#setFeed("offline");
  };
  readonly #online = (): void => {
    if (!this.#feed.connected) this.#feed.connect();
  };

  #listen(): void {
    window.addEventListener("offline", this.#offline);
    window.addEventListener("online", this.#online);
    this.#setFeed(navigator.onLine ? "connecting" : "offline");
    this.#feed.on("connect", () => {
      this.#setFeed("connected");
      // Catch up on what happened before the feed was up, or while it was down.
      this.#resync();
    });
    this.#feed.on("disconnect", (reason) => {
      if (this.#destroyed || reason === "io client disconnect") return;
      this.#setFeed("reconnecting");
      // The server closed the feed (it is shutting down, or this session ended: then the
      // SDK finds out and the page removes this view). Try once more in a moment.
      if (reason === "io server disconnect") {
        setTimeout(() => {
          if (!this.#destroyed && !this.#feed.connected) this.#feed.connect();
        }, 2000);
      }
    });
    this.#feed.on("connect_error", () => {
      // Without `active`, the server refused the handshake (not an admin, session ended):
      // Socket.IO will not retry. Otherwise it is a network failure and it retries.
      this.#setFeed(this.#feed.active ? "reconnecting" : "refused");
    });
    this.#feed.on(ADMIN_EVENTS.audit, (event) => {
      this.#addEvents([event], true);
      if (event.sessionId !== null) void this.#refreshSessions();
    });
    this.#feed.on(ADMIN_EVENTS.delivery, (update) => {
      const changed = this.#trail.deliver(update);
      if (changed !== null) this.#renderAudit(new Set(), new Set([changed]));
    });
  }

  #setFeed(status: FeedStatus): void {
    const text: Record<FeedStatus, string> = {
      connecting: "Connecting…",
      connected: "Live feed",
      reconnecting: "Reconnecting…",
      offline: "Offline",
      refused: "Live feed unavailable",
    };
    this.#el.feed.dataset.status = status;
    this.#el.feedText.textContent = text[status];
  }

  #resync(): void {
    void this.#refreshSessions();
    void this.#loadAudit();
  }

  // --- sessions --------------------------------------------------------------------------

  /** Fetches the session list again; calls while one is on its way are folded into one more. */
  #refreshSessions(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#refreshAgain = false;
        const page = await this.#get<AdminSessionsResponse>(`/auth/admin/sessions?limit=${this.#sessionsLimit}`);
        if (page) this.#showSessions(page);
      } while (this.#refreshAgain && !this.#destroyed);
    })().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  #showSessions(page: AdminSessionsResponse): void {
    if (this.#destroyed) return;
    this.#sessions = page.sessions;
    this.#sessionsMore = page.next !== null && this.#sessionsLimit < MAX_SESSIONS;
    this.#renderSessions();
  }

  #renderSessions(): void {
    const body = this.#el.sessionsBody;
    const seen = new Set<string>();
    const fresh = body.dataset.filled === "true";
    body.querySelector(".row-empty")?.remove();
    this.#sessions.forEach((session, index) => {
      seen.add(session.id);
      let row = this.#sessionRows.get(session.id);
      if (!row) {
        row = this.#sessionRow(session);
        this.#sessionRows.set(session.id, row);
        if (fresh) flash(row);
      }
      this.#fillSessionRow(row, session);
      if (body.children[index] !== row) body.insertBefore(row, body.children[index] ?? null);
    });
    for (const [id, row] of this.#sessionRows) {
      if (seen.has(id)) continue;
      if (row.contains(document.activeElement)) this.#el.sessionsTitle.focus();
      row.remove();
      this.#sessionRows.delete(id);
    }
    body.dataset.filled = "true";
    const count = this.#sessions.length;
    this.#el.sessionsCount.textContent = this.#sessionsMore ? `${count}+` : String(count);
    this.#el.sessionsMore.hidden = !this.#sessionsMore;
    if (count === 0) body.append(emptyRow(6, "No live sessions."));
  }

  #sessionRow(session: SessionView): HTMLTableRowElement {
    const row = tr();
    row.dataset.sessionId = session.id;
    row.dataset.userId = session.userId;
    const own = session.id === this.#ownSessionId;
    const user = cell("User", "cell-user");
    const avatar = span("admin-avatar", session.userId.slice(0, 1).toUpperCase());
    avatar.setAttribute("aria-hidden", "true");
    const name = span("admin-user-name", session.userId);
    user.append(avatar, name);
    if (own) user.append(span("tag", "You"));
    const actions = cell("Actions", "cell-actions");
    if (own) {
      actions.classList.add("is-own");
      actions.append(span("admin-muted", "This session"));
    } else {
      const what = `${session.userId}'s session on ${deviceText(session.device)}`;
      const end = button("End session", `End session: ${what}`, "button-danger");
      end.dataset.action = "end-session";
      end.addEventListener("click", () => void this.#endSession(session, end));
      const all = button("End all", `End all sessions of ${session.userId}`, "button-ghost");
      all.dataset.action = "end-user";
      all.addEventListener("click", () => void this.#endUser(session.userId, all));
      actions.append(end, all);
    }
    row.append(
      user,
      cell("Device", "cell-device"),
      cell("IP address", "cell-ip"),
      cell("Started", "cell-started"),
      cell("Last activity", "cell-seen"),
      actions,
    );
    return row;
  }

  #fillSessionRow(row: HTMLTableRowElement, s: SessionView): void {
    const [, device, ip, started, seen] = row.cells;
    if (!device || !ip || !started || !seen) return;
    setDevice(device, s.device);
    ip.replaceChildren(s.device.ip ? mono(s.device.ip) : span("admin-muted", "unknown"));
    started.replaceChildren(timeEl(s.createdAt, absolute(s.createdAt)));
    seen.replaceChildren(timeEl(s.lastSeenAt, ago(s.lastSeenAt)));
  }

  async #endSession(session: SessionView, control: HTMLButtonElement): Promise<void> {
    const what = `${session.userId}'s session on ${deviceText(session.device)}`;
    control.disabled = true;
    control.textContent = "Ending…";
    const res = await this.#send(`/auth/admin/sessions/${encodeURIComponent(session.id)}`);
    if (res.status === 204) this.#say(`Ended ${what}.`);
    else if (res.code === "not_found") this.#say(`${capitalize(what)} had already ended.`);
    else this.#say(`Could not end ${what} (${res.code}).`, true);
    control.disabled = false;
    control.textContent = "End session";
    await this.#refreshSessions();
  }

  async #endUser(userId: string, control: HTMLButtonElement): Promise<void> {
    control.disabled = true;
    const res = await this.#send(`/auth/admin/users/${encodeURIComponent(userId)}/sessions`);
    if (res.status === 200) {
      const n = (res.body as AdminEndResponse | null)?.ended ?? 0;
      this.#say(n === 1 ? `Ended 1 session of ${userId}.` : `Ended ${n} sessions of ${userId}.`);
    } else {
      this.#say(`Could not end the sessions of ${userId} (${res.code}).`, true);
    }
    control.disabled = false;
    await this.#refreshSessions();
  }

  #say(text: string, bad = false): void {
    this.#el.note.textContent = text;
    this.#el.note.dataset.tone = bad ? "bad" : "good";
    clearTimeout(this.#noteTimer);
    this.#noteTimer = setTimeout(() => {
      this.#el.note.textContent = "";
    }, NOTE_MS);
  }

  // --- audit trail -----------------------------------------------------------------------

  async #loadAudit(): Promise<void> {
    const page = await this.#get<AdminAuditResponse>(`/auth/admin/audit?limit=${AUDIT_PAGE}`);
    if (!page || this.#destroyed) return;
    const first = !this.#auditLoaded;
    this.#auditLoaded = true;
    if (first) this.#olderCursor = page.next;
    this.#addEvents(page.events, !first);
  }

  async #loadOlder(): Promise<void> {
    const before = this.#olderCursor;
    if (before === null) return;
    this.#el.auditOlder.disabled = true;
    const page = await this.#get<AdminAuditResponse>(
      `/auth/admin/audit?limit=${AUDIT_PAGE}&before=${encodeURIComponent(before)}`,
    );
    this.#el.auditOlder.disabled = false;
    if (!page || this.#destroyed) return;
    this.#olderCursor = page.next;
    this.#trail.add(page.events, true);
    this.#renderAudit(new Set(), new Set());
  }

  #addEvents(events: readonly AuditEventView[], highlight: boolean): void {
    const added = this.#trail.add(events);
    // Events from the feed may arrive before the first page: the page still decides "older".
    this.#renderAudit(new Set(highlight && this.#auditLoaded ? added : []), new Set());
  }

  #renderAudit(highlight: ReadonlySet<string>, moved: ReadonlySet<string>): void {
    const body = this.#el.auditBody;
    const events = this.#trail.events;
    const seen = new Set<string>();
    events.forEach((event, index) => {
      seen.add(event.id);
      let row = this.#eventRows.get(event.id);
      if (!row) {
        row = eventRow(event);
        this.#eventRows.set(event.id, row);
        if (highlight.has(event.id)) flash(row);
      }
      setDelivery(row, event.delivery, moved.has(event.id));
      if (body.children[index] !== row) body.insertBefore(row, body.children[index] ?? null);
    });
    for (const [id, row] of this.#eventRows) {
      if (seen.has(id)) continue;
      row.remove();
      this.#eventRows.delete(id);
    }
    this.#el.auditEmpty.hidden = !this.#auditLoaded || events.length > 0;
    this.#el.auditEmpty.textContent = "No events yet.";
    this.#el.auditOlder.hidden = this.#olderCursor === null;
  }

  // --- HTTP ------------------------------------------------------------------------------

  async #get<T>(path: string): Promise<T | null> {
    try {
      const res = await this.#solo.fetch(path, { headers: { accept: "application/json" } });
      if (res.status !== 200) {
        this.#say(`The admin API answered ${res.status} (${(await errorCode(res)) ?? "error"}).`, true);
        return null;
      }
      return (await res.json()) as T;
    } catch {
      this.#say("The server could not be reached.", true);
      return null;
    }
  }

  async #send(path: string): Promise<{ status: number; code: string; body: unknown }> {
    try {
      const res = await this.#solo.fetch(path, { method: "DELETE", headers: { accept: "application/json" } });
      if (res.status === 204) return { status: 204, code: "", body: null };
      const body: unknown = await res.json().catch(() => null);
      const code = res.ok ? "" : ((body as Partial<ErrorBody> | null)?.error ?? `http_${res.status}`);
      return { status: res.status, code, body };
    } catch {
      return { status: 0, code: "network_error", body: null };
    }
  }

  #build(): HTMLElement {
    return buildView();
  }

  #find<T extends HTMLElement>(selector: string): T {
    const node = this.#root.querySelector<T>(selector);
    if (!node) throw new Error(`admin view: ${selector} is missing`);
    return node;
  }
}

async function errorCode(res: Response): Promise<string | null> {
  const body = (await res.json().catch(() => null)) as Partial<ErrorBody> | null;
  return body?.error ?? null;
}
