/**
 * The demo's answer to a sign-in refused because the account is in use elsewhere
 * (`session_active`). Under the `confirm` policy it asks "continue here?" in an accessible
 * modal; under `oldest-wins` (no takeover possible) it only says where the account is in use.
 */

import type { DeviceView, SessionConflict } from "@solo-session/client";
import "./conflict.css";

const ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8M12 16v4"/></svg>';

/** "Chrome on Windows": browser and system without versions, or the name the device was given. */
export function deviceName(device: DeviceView): string {
  const short = (name: string | null) => name?.replace(/\s+v?\d[\w.]*$/i, "") || null;
  const browser = short(device.browser);
  const os = short(device.os);
  const described = browser && os ? `${browser} on ${os}` : (browser ?? os ?? "another device");
  return device.name ? `${device.name} (${described})` : described;
}

/** "10:42" today, "23 Nov, 10:42" on another day. */
export function sinceLabel(since: Date, now = new Date()): string {
  const sameDay = since.toDateString() === now.toDateString();
  return new Intl.DateTimeFormat(undefined, {
    ...(sameDay ? {} : { day: "numeric", month: "short" }),
    hour: "2-digit",
    minute: "2-digit",
  }).format(since);
}

/** The sentence for a refusal without takeover (oldest-wins). */
export function inUseText(conflict: SessionConflict): string {
  return (
    `This account is signed in on ${deviceName(conflict.active.device)} since ${sinceLabel(conflict.since)}. ` +
    "Only one session is allowed at a time: sign out there first, or try again once that session has ended."
  );
}

let open: Promise<boolean> | null = null;

/**
 * Asks whether to end the other session and continue here. Resolves true for "Continue
 * here", false for "Cancel", Escape or a click outside the panel. Focus moves into the
 * dialog and comes back to `returnFocus` after.
 */
export function askContinueHere(conflict: SessionConflict, returnFocus: HTMLElement | null): Promise<boolean> {
  if (open) return open;
  const { active } = conflict;
  const dialog = document.createElement("dialog");
  dialog.className = "conflict";
  dialog.setAttribute("role", "alertdialog");
  dialog.setAttribute("aria-modal", "true");
  dialog.setAttribute("aria-labelledby", "conflict-title");
  dialog.setAttribute("aria-describedby", "conflict-text");

  const icon = document.createElement("div");
  icon.className = "conflict-icon";
  icon.innerHTML = ICON;
  const title = element("h2", "conflict-title", "Continue here?");
  title.id = "conflict-title";
  const text = element(
    "p",
    "conflict-text",
    `You are signed in on ${deviceName(active.device)} since ${sinceLabel(conflict.since)}. ` +
      "If you continue, that session ends and its window is told at once.",
  );
  text.id = "conflict-text";

  const facts = element("dl", "conflict-facts");
  const row = (term: string, value: string) => {
    const wrap = document.createElement("div");
    wrap.append(element("dt", "", term), element("dd", "", value));
    facts.append(wrap);
  };
  row("Device", [active.device.browser, active.device.os].filter(Boolean).join(" · ") || "unknown");
  row(
    "Signed in",
    new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(conflict.since),
  );
  row("IP address", active.device.ip ?? "unknown");

  const actions = element("div", "conflict-actions");
  const cancel = element("button", "button button-secondary", "Cancel") as HTMLButtonElement;
  cancel.type = "button";
  const proceed = element("button", "button button-primary", "Continue here") as HTMLButtonElement;
  proceed.type = "button";
  actions.append(cancel, proceed);
  dialog.append(icon, title, text, facts, actions);
  document.body.append(dialog);

  open = new Promise<boolean>((resolve) => {
    const finish = (answer: boolean) => {
      if (dialog.open) dialog.close();
      dialog.remove();
      open = null;
      if (returnFocus?.isConnected) returnFocus.focus();
      resolve(answer);
    };
    proceed.addEventListener("click", () => finish(true));
    cancel.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    // A click on the backdrop (the dialog box itself, outside the panel's content) cancels.
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) {
        const r = dialog.getBoundingClientRect();
        const inside =
          event.clientX >= r.left && event.clientX <= r.right && event.clientY >= r.top && event.clientY <= r.bottom;
        if (!inside) finish(false);
      }
    });
  });
  dialog.showModal();
  proceed.focus();
  return open;
}

function element(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
