/**
 * The demo page: an app that uses the SDK the way a real one would. It keeps a draft note
 * in localStorage (cleared on a kick), calls an existing API through `solo.fetch()`, and
 * shows what the SDK reports.
 */

import {
  createSoloClient,
  type Revocation,
  type SessionConflict,
  SoloClientError,
  type SoloState,
} from "@solo-session/client";
import { showAdminWhenAllowed } from "./admin-hook.js";
import { askContinueHere, deviceName, inUseText } from "./conflict.js";
import { showDevices } from "./devices.js";

const DRAFT_KEY = "demo:draft";

const solo = createSoloClient({ baseUrl: "/auth" });

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing`);
  return node as T;
};

const ui = {
  page: $("page"),
  loading: $("view-loading"),
  signin: $("view-signin"),
  app: $("view-app"),
  account: $("account"),
  accountName: $("account-name"),
  avatar: $("account-avatar"),
  signout: $<HTMLButtonElement>("signout"),
  form: $<HTMLFormElement>("signin-form"),
  username: $<HTMLInputElement>("username"),
  password: $<HTMLInputElement>("password"),
  signinButton: $<HTMLButtonElement>("signin-button"),
  signinError: $("signin-error"),
  ended: $("ended"),
  endedText: $("ended-text"),
  userName: $("user-name"),
  summary: $("session-summary"),
  connection: $("connection"),
  connectionText: $("connection-text"),
  device: $("fact-device"),
  started: $("fact-started"),
  ip: $("fact-ip"),
  sessionId: $("fact-id"),
  draft: $<HTMLTextAreaElement>("draft"),
  draftSaved: $("draft-saved"),
  loadNotes: $<HTMLButtonElement>("load-notes"),
  notesStatus: $("notes-status"),
  notes: $("notes"),
  log: $("log"),
};

const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

// --- rendering --------------------------------------------------------------------------

function render(state: SoloState): void {
  ui.page.setAttribute("aria-busy", String(state.status === "signing-in" && state.via === "restore"));
  ui.loading.hidden = !(state.status === "signing-in" && state.via === "restore");
  const signedIn = state.status === "active";
  ui.app.hidden = !signedIn;
  ui.account.hidden = !signedIn;
  ui.signin.hidden = signedIn || (state.status === "signing-in" && state.via === "restore");
  ui.signinButton.disabled = state.status === "signing-in";
  ui.signinButton.textContent = state.status === "signing-in" && state.via === "login" ? "Signing in…" : "Sign in";

  if (state.status === "active") {
    const { session } = state;
    ui.userName.textContent = session.userId;
    ui.accountName.textContent = session.userId;
    ui.avatar.textContent = session.userId.slice(0, 1).toUpperCase();
    ui.summary.textContent = `On ${device(session.device.browser, session.device.os)} since ${dateTime.format(new Date(session.createdAt))}`;
    ui.device.textContent = device(session.device.browser, session.device.os);
    ui.started.textContent = dateTime.format(new Date(session.createdAt));
    ui.ip.textContent = session.device.ip ?? "unknown";
    ui.sessionId.textContent = `${session.id.slice(0, 12)}…`;
    ui.sessionId.title = session.id;
    ui.draft.value = localStorage.getItem(DRAFT_KEY) ?? "";
    ui.draftSaved.textContent = ui.draft.value ? "Saved in this browser" : "";
    ui.ended.hidden = true;
  } else {
    ui.notes.replaceChildren();
    ui.notesStatus.hidden = true;
    ui.draft.value = "";
  }
  if (state.status === "revoked") {
    ui.ended.hidden = false;
    ui.ended.dataset.code = state.revocation.code;
    ui.ended.dataset.source = state.revocation.source;
    ui.endedText.textContent = endedText(state.revocation);
  }
  renderConnection();
}

function renderConnection(): void {
  const status = solo.connection;
  const labels: Record<typeof status, string> = {
    idle: "Not connected",
    connecting: "Connecting…",
    connected: "Live",
    reconnecting: "Reconnecting…",
    offline: "Offline",
    standby: "Live in another tab",
  };
  // One tab of this browser holds the connection; the others are live through it.
  const through = status === "connected" && !solo.leader;
  ui.connection.dataset.status = status;
  ui.connection.dataset.leader = String(solo.leader);
  ui.connectionText.textContent = through ? "Live via another tab" : labels[status];
  ui.connection.title = solo.leader
    ? "This tab holds the session channel for every tab of this browser."
    : "Another tab of this browser holds the session channel and tells this one.";
}

function device(browser: string | null, os: string | null): string {
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? "an unknown device";
}

function endedText(r: Revocation): string {
  const at = time.format(new Date(r.by?.at ?? r.at));
  switch (r.reason) {
    case "replaced":
      return r.by
        ? `Your account signed in on ${device(r.by.device.browser, r.by.device.os)} at ${at}.`
        : `Your account signed in on another device at ${at}.`;
    case "logout":
      return "You signed out in another window or on another device.";
    case "revoked":
      return "It was signed out from another of your devices, or by an administrator.";
    case "expired":
      return "The session expired.";
    case "idle":
      return "The session ended after a period of inactivity.";
  }
}

type LogKind = "info" | "good" | "warn" | "bad";

function log(kind: LogKind, title: string, detail = ""): void {
  const item = document.createElement("li");
  item.className = `log-item log-${kind}`;
  const when = document.createElement("time");
  const now = new Date();
  when.dateTime = now.toISOString();
  when.textContent = time.format(now);
  const text = document.createElement("span");
  text.className = "log-text";
  const strong = document.createElement("strong");
  strong.textContent = title;
  text.append(strong);
  if (detail) text.append(` ${detail}`);
  item.append(when, text);
  ui.log.prepend(item);
  while (ui.log.children.length > 50) ui.log.lastElementChild?.remove();
}

// --- SDK events -------------------------------------------------------------------------

let lastState = solo.state;
solo.on("state", (state) => {
  const before = lastState;
  lastState = state;
  render(state);
  // "This wasn't me" (the warning's button, or solo.dispute()) used the revocation's chance.
  if (state.status === "revoked" && before.status === "revoked" && before.revocation.disputable) {
    if (!state.revocation.disputable) log("warn", "Disputed", "you said the other sign-in was not you");
    return;
  }
  const detail = state.status === "active" ? `as ${state.session.userId}` : "";
  log(state.status === "revoked" ? "bad" : "info", `State: ${state.status}`, detail);
});
solo.on("connected", () => {
  renderConnection();
  log("good", "Connected", "to the session channel");
});
solo.on("disconnected", (event) => {
  renderConnection();
  const kind = event.cause === "closed" ? "info" : "warn";
  log(kind, "Disconnected", `(${event.cause})${event.reconnecting ? ", reconnecting" : ""}`);
});
solo.on("leader", (leading) => {
  renderConnection();
  if (leading) log("info", "Leading", "this tab holds the channel for the browser's tabs");
  else log("info", "Not leading", "this tab no longer holds the channel");
});
solo.on("revoked", (r) => {
  const by = r.by ? ` by ${device(r.by.device.browser, r.by.device.os)}` : "";
  const disputable = r.disputable ? '; the warning offers "This wasn\'t me"' : "";
  log("bad", "Revoked", `${r.code}${by}, found by ${r.source}; local data cleared${disputable}`);
});

// --- the app ----------------------------------------------------------------------------

ui.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  ui.signinError.hidden = true;
  const username = ui.username.value.trim();
  const password = ui.password.value;
  if (!username || !password) {
    showSigninError("Enter a username and a password.");
    return;
  }
  await signIn({ username, password }, false);
});

async function signIn(credentials: { username: string; password: string }, takeover: boolean): Promise<void> {
  try {
    const { replaced } = await solo.login(credentials, { takeover });
    ui.password.value = "";
    if (replaced.length > 0) {
      const names = replaced.map((s) => device(s.device.browser, s.device.os)).join(", ");
      log("warn", "Signed out elsewhere", `${replaced.length} session(s): ${names}`);
    }
  } catch (error) {
    const conflict = error instanceof SoloClientError ? error.conflict : null;
    if (conflict && !takeover) return onConflict(conflict, credentials);
    const code = error instanceof SoloClientError ? error.code : "network_error";
    showSigninError(signinMessage(code), code);
  }
}

/** The account is in use elsewhere: ask "continue here?" (confirm policy), or say so (oldest-wins). */
async function onConflict(
  conflict: SessionConflict,
  credentials: { username: string; password: string },
): Promise<void> {
  const where = deviceName(conflict.active.device);
  if (!conflict.takeover) {
    showSigninError(inUseText(conflict), "session_active");
    log("warn", "Sign-in refused", `the account is in use on ${where}`);
    return;
  }
  log("warn", "Account in use", `on ${where}: asking before taking over`);
  if (await askContinueHere(conflict, ui.signinButton)) await signIn(credentials, true);
  else log("info", "Not signed in", `the session on ${where} continues`);
}

function signinMessage(code: string): string {
  switch (code) {
    case "invalid_credentials":
      return "That username and password do not match.";
    case "rate_limited":
      return "Too many attempts. Wait a moment and try again.";
    case "session_active":
      return "This account is already signed in on another device.";
    case "network_error":
      return "The server could not be reached. Check your connection.";
    default:
      return "Signing in did not work. Try again.";
  }
}

function showSigninError(message: string, code = ""): void {
  ui.signinError.textContent = message;
  ui.signinError.dataset.code = code;
  ui.signinError.hidden = false;
}

ui.signout.addEventListener("click", async () => {
  ui.signout.disabled = true;
  try {
    await solo.logout();
    log("info", "Signed out");
  } catch (error) {
    log("bad", "Sign-out failed", error instanceof SoloClientError ? error.code : "");
  } finally {
    ui.signout.disabled = false;
  }
});

let saveTimer: ReturnType<typeof setTimeout> | undefined;
ui.draft.addEventListener("input", () => {
  localStorage.setItem(DRAFT_KEY, ui.draft.value);
  ui.draftSaved.textContent = "Saving…";
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    ui.draftSaved.textContent = ui.draft.value ? "Saved in this browser" : "";
  }, 400);
});

ui.loadNotes.addEventListener("click", async () => {
  ui.loadNotes.disabled = true;
  const started = performance.now();
  try {
    const res = await solo.fetch("/api/notes");
    const ms = Math.round(performance.now() - started);
    const body = (await res.json().catch(() => null)) as {
      notes?: { id: number; title: string; body: string }[];
      error?: string;
    } | null;
    ui.notesStatus.hidden = false;
    ui.notesStatus.dataset.status = String(res.status);
    ui.notesStatus.dataset.code = body?.error ?? "";
    if (res.ok && body?.notes) {
      ui.notesStatus.textContent = `${res.status} OK · ${ms} ms`;
      ui.notes.replaceChildren(
        ...body.notes.map((note) => {
          const li = document.createElement("li");
          const title = document.createElement("strong");
          title.textContent = note.title;
          const text = document.createElement("p");
          text.textContent = note.body;
          li.append(title, text);
          return li;
        }),
      );
      log("good", "GET /api/notes", `${res.status}`);
    } else {
      ui.notesStatus.textContent = `Refused: ${res.status} ${body?.error ?? ""}`;
      ui.notes.replaceChildren();
      log("bad", "GET /api/notes", `${res.status} ${body?.error ?? ""}`);
    }
  } catch {
    ui.notesStatus.hidden = false;
    ui.notesStatus.dataset.status = "0";
    ui.notesStatus.dataset.code = "network_error";
    ui.notesStatus.textContent = "The server could not be reached.";
  } finally {
    ui.loadNotes.disabled = false;
  }
});

render(solo.state);
showAdminWhenAllowed(solo, $("admin-slot"));
showDevices(solo, $("devices"), log);
log("info", "Page loaded", "asking /auth/session");
solo.ready.then(renderConnection);
