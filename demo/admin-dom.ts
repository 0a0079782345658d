/**
 * The admin view's markup: the section with its two tables, one row per session or audit
 * event, badges and the texts people read. No state and no network here (see ./admin.ts).
 */

import {
  type AuditEventView,
  type AuditKind,
  type DeliveryStatus,
  type DeviceView,
  isEndingKind,
} from "solo-session/protocol";

const KIND: Record<AuditKind, { label: string; tone: "good" | "warn" | "bad" | "neutral" }> = {
  login: { label: "Signed in", tone: "good" },
  login_refused: { label: "Sign-in refused", tone: "warn" },
  replaced: { label: "Replaced", tone: "bad" },
  logout: { label: "Signed out", tone: "neutral" },
  revoked: { label: "Ended", tone: "bad" },
  idle: { label: "Idle timeout", tone: "warn" },
  expired: { label: "Expired", tone: "neutral" },
  disputed: { label: "Disputed", tone: "bad" },
};

const DELIVERY: Record<DeliveryStatus, { label: string; help: string }> = {
  pending: {
    label: "Pending",
    help: "The device had no live connection when the session ended: it is told on its next contact.",
  },
  delivered: { label: "Delivered", help: "The notice reached the device, which has not confirmed it yet." },
  acknowledged: { label: "Acknowledged", help: "The device confirmed: it cleared its data and warned the person." },
};

const clockTime = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dayTime = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const fullTime = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });

/** The view's section, empty: `[data-admin=...]` marks the parts ./admin.ts fills in. */
export function buildView(): HTMLElement {
  const root = document.createElement("section");
  root.className = "admin";
  root.setAttribute("aria-labelledby", "admin-title");
  root.innerHTML = `
    <div class="admin-head">
      <div>
        <p class="eyebrow admin-eyebrow">Administration</p>
        <h2 class="admin-title" id="admin-title">Sessions and audit trail</h2>
        <p class="page-subtitle">Every live session of every user, and what happened to them. Updates as it happens.</p>
      </div>
      <span class="pill" data-admin="feed" data-status="connecting" role="status" aria-live="polite">
        <span class="pill-dot" aria-hidden="true"></span><span data-admin="feed-text">Connecting…</span>
      </span>
    </div>

    <section class="card admin-card" aria-labelledby="admin-sessions-title">
      <div class="card-head admin-card-head">
        <div>
          <h3 class="card-title" id="admin-sessions-title" tabindex="-1">
            Live sessions <span class="count" data-admin="sessions-count"></span>
          </h3>
          <p class="card-subtitle">Newest first. Ending one signs that device out at once and tells it why.</p>
        </div>
        <p class="admin-note" data-admin="note" role="status" aria-live="polite"></p>
      </div>
      <div class="table-wrap">
        <table class="admin-table admin-sessions" data-admin="sessions">
          <caption class="visually-hidden">Live sessions, newest first</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Device</th>
              <th scope="col">IP address</th>
              <th scope="col">Started</th>
              <th scope="col">Last activity</th>
              <th scope="col"><span class="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </div>
      <button type="button" class="button button-secondary admin-more" data-admin="sessions-more" hidden>Show more sessions</button>
    </section>

    <section class="card admin-card" aria-labelledby="admin-audit-title">
      <div class="card-head admin-card-head">
        <div>
          <h3 class="card-title" id="admin-audit-title">Audit trail</h3>
          <p class="card-subtitle">Sign-ins and ended sessions, newest first. For each kick: did the device get the notice?</p>
        </div>
        <ul class="legend" aria-label="Delivery statuses">
          <li><span class="delivery" data-status="pending">Pending</span> not told yet</li>
          <li><span class="delivery" data-status="delivered">Delivered</span> sent</li>
          <li><span class="delivery" data-status="acknowledged">Acknowledged</span> device confirmed</li>
        </ul>
      </div>
      <div class="table-wrap">
        <table class="admin-table admin-audit" data-admin="audit">
          <caption class="visually-hidden">Audit trail, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">User</th>
              <th scope="col">Device</th>
              <th scope="col">Node</th>
              <th scope="col">Delivery</th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </div>
      <p class="admin-empty" data-admin="audit-empty">Loading…</p>
      <button type="button" class="button button-secondary admin-more" data-admin="audit-older" hidden>Load older events</button>
    </section>`;
  // Tables keep their roles when the phone layout turns rows into cards.
  for (const el of root.querySelectorAll("table")) el.setAttribute("role", "table");
  for (const el of root.querySelectorAll("thead, tbody")) el.setAttribute("role", "rowgroup");
  for (const el of root.querySelectorAll("tr")) el.setAttribute("role", "row");
  for (const el of root.querySelectorAll("th")) el.setAttribute("role", "columnheader");
  return root;
}

// --- rows ------------------------------------------------------------------------------

/** One audit event as a table row (`data-kind`, `data-session-id`); its delivery cell is filled by {@link setDelivery}. */
export function eventRow(e: AuditEventView): HTMLTableRowElement {
  const row = tr();
  row.dataset.eventId = e.id;
  row.dataset.kind = e.kind;
  if (e.sessionId !== null) row.dataset.sessionId = e.sessionId;
  if (isEndingKind(e.kind)) row.dataset.ends = "true";

  const when = cell("Time", "cell-time");
  when.append(timeEl(e.at, absolute(e.at)));

  const what = cell("Event", "cell-event");
  const kind = KIND[e.kind];
  const badge = span(`kind kind-${kind.tone}`, kind.label);
  badge.title = e.kind;
  what.append(badge);
  const detail = eventDetail(e);
  if (detail) what.append(span("admin-sub", detail));

  const user = cell("User", "cell-who");
  user.append(span("admin-user-name", e.userId));

  const device = cell("Device", "cell-device");
  if (e.device) setDevice(device, e.device, true);
  else device.append(span("admin-muted", "unknown"));

  const node = cell("Node", "cell-node");
  node.append(mono(e.node));

  const delivery = cell("Delivery", "cell-delivery");
  row.append(when, what, user, device, node, delivery);
  return row;
}

function eventDetail(e: AuditEventView): string {
  switch (e.kind) {
    case "replaced":
      return e.by?.device ? `by ${deviceText(e.by.device)}` : "by a new sign-in";
    case "revoked":
      if (!e.by?.userId) return "by the app";
      if (e.by.userId !== e.userId) return `by administrator ${e.by.userId}`;
      return e.by.device ? `by the user, from ${deviceText(e.by.device)}` : "by the user";
    case "disputed":
      return e.by?.device ? `"not me", said from ${deviceText(e.by.device)}` : `"not me", said by the user`;
    case "logout":
      return e.by?.userId && e.by.userId !== e.userId ? `by ${e.by.userId}` : "";
    case "login_refused":
      return e.detail ? `policy ${e.detail}` : "";
    case "login":
    case "idle":
    case "expired":
      return "";
  }
}

/** Sets the delivery badge of an audit row; `moved` plays a short pulse. */
export function setDelivery(row: HTMLTableRowElement, status: DeliveryStatus | null, moved: boolean): void {
  const target = row.cells[5];
  if (!target) return;
  const kind = row.dataset.kind as AuditKind;
  const current = target.firstElementChild as HTMLElement | null;
  if (status === null) {
    if (current && !isEndingKind(kind)) return;
    const none = span("admin-muted", "—");
    none.title = isEndingKind(kind) ? "Not recorded" : "No notice: this event did not end a session";
    const label = span("visually-hidden", isEndingKind(kind) ? "not recorded" : "none");
    none.setAttribute("aria-hidden", "true");
    target.replaceChildren(none, label);
    return;
  }
  if (current?.dataset.status === status) return;
  const badge = span("delivery", DELIVERY[status].label);
  badge.dataset.status = status;
  badge.title = DELIVERY[status].help;
  if (moved) badge.classList.add("is-moved");
  target.replaceChildren(badge);
}

/** Fills a cell with the device ("Firefox 132 on Windows 10", or its name) and, below, the rest. */
export function setDevice(target: HTMLElement, device: DeviceView, withIp = false): void {
  const main = span("admin-device", device.name ?? deviceText(device));
  const parts: string[] = [];
  if (device.name) parts.push(deviceText(device));
  if (withIp && device.ip) parts.push(device.ip);
  target.replaceChildren(main);
  if (parts.length > 0) target.append(span("admin-sub", parts.join(" · ")));
}

// --- small DOM helpers -------------------------------------------------------------------

/** A table row that keeps its role when CSS turns it into a card. */
export function tr(): HTMLTableRowElement {
  const row = document.createElement("tr");
  row.setAttribute("role", "row");
  return row;
}

/** A cell; `label` names the field when the row is shown as a card. */
export function cell(label: string, className: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.className = className;
  td.dataset.label = label;
  td.setAttribute("role", "cell");
  return td;
}

/** A full-width row saying the table is empty. */
export function emptyRow(columns: number, text: string): HTMLTableRowElement {
  const row = tr();
  row.className = "row-empty";
  const td = cell("", "cell-empty");
  td.colSpan = columns;
  td.textContent = text;
  row.append(td);
  return row;
}

/** A span with a class and a text. */
export function span(className: string, text: string): HTMLSpanElement {
  const el = document.createElement("span");
  el.className = className;
  el.textContent = text;
  return el;
}

/** A code-like text (IP address, node name). */
export function mono(text: string): HTMLElement {
  const el = document.createElement("code");
  el.className = "admin-mono";
  el.textContent = text;
  return el;
}

/** A small button; `label` is its accessible name and says what it acts on. */
export function button(text: string, label: string, variant: string): HTMLButtonElement {
  const el = document.createElement("button");
  el.type = "button";
  el.className = `button button-small ${variant}`;
  el.textContent = text;
  el.setAttribute("aria-label", label);
  el.title = label;
  return el;
}

/** A `<time>` with the full date and time as its tooltip. */
export function timeEl(iso: string, text: string): HTMLTimeElement {
  const el = document.createElement("time");
  el.dateTime = iso;
  el.textContent = text;
  el.title = fullTime.format(new Date(iso));
  return el;
}

/** Plays the "new row" highlight once (CSS turns it off for reduced motion). */
export function flash(row: HTMLElement): void {
  row.classList.add("is-new");
  row.addEventListener("animationend", () => row.classList.remove("is-new"), { once: true });
}

// --- text --------------------------------------------------------------------------------

/** "Firefox 132 on Windows 10", or what is known of it. */
export function deviceText(d: DeviceView): string {
  if (d.browser && d.os) return `${d.browser} on ${d.os}`;
  return d.browser ?? d.os ?? "an unknown device";
}

/** A time of today as "10:42:05", an older one with its day. */
export function absolute(iso: string): string {
  const date = new Date(iso);
  const today = new Date();
  return date.toDateString() === today.toDateString() ? clockTime.format(date) : dayTime.format(date);
}

/** How long ago, in words: "just now", "3 min. ago". */
export function ago(iso: string): string {
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 10) return "just now";
  if (seconds < 60) return relative.format(-seconds, "second");
  if (seconds < 3600) return relative.format(-Math.floor(seconds / 60), "minute");
  if (seconds < 86_400) return relative.format(-Math.floor(seconds / 3600), "hour");
  return relative.format(-Math.floor(seconds / 86_400), "day");
}

/** The text with its first letter in capitals. */
export function capitalize(text: string): string {
  return text.slice(0, 1).toUpperCase() + text.slice(1);
}
