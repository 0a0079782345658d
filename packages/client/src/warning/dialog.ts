/**
 * The built-in warning: an accessible modal (`role="alertdialog"`) that says why the
 * session ended. Loaded on demand by the client, so an app that turns it off never loads it.
 *
 * @module
 */

import type { Revocation } from "../types.js";
import { WARNING_CSS } from "./styles.js";
import { DEFAULT_TEXTS, deviceLabel, reasonText, timeLabel, type WarningContext, type WarningTexts } from "./texts.js";

const ICON =
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M12 3l8 3v6c0 4.5-3.4 8.3-8 9-4.6-.7-8-4.5-8-9V6l8-3z"/><path d="M12 8v5"/><path d="M12 16.5h.01"/></svg>';

let counter = 0;

/**
 * Shows the warning for a revocation; returns a function that removes it. Focus moves to
 * the close button and stays inside (Tab and Shift+Tab move between the buttons); Escape and
 * the close button close it; focus then returns to where it was. For a replacement that can
 * be disputed (`context.dispute`), a "This wasn't me" button disputes it and says the outcome
 * in a status line (`role="status"`). The page behind does not move (no scroll lock, the
 * dialog sits in the top layer).
 *
 * @example
 * ```ts
 * const remove = showWarning(revocation, { cleared, locale: "en-GB", texts: { button: "Close" } });
 * ```
 */
export function showWarning(revocation: Revocation, context: WarningContext): () => void {
  const texts: WarningTexts = { ...DEFAULT_TEXTS, ...context.texts };
  const doc = document;
  const id = `solo-warning-${++counter}`;
  const host = doc.createElement("div");
  host.setAttribute("data-solo-warning", "");
  const root = host.attachShadow({ mode: "open" });
  adoptStyles(root, doc);

  const dialog = doc.createElement("dialog");
  dialog.className = "dialog";
  dialog.setAttribute("role", "alertdialog");
  dialog.setAttribute("aria-modal", "true");
  dialog.setAttribute("aria-labelledby", `${id}-title`);
  dialog.setAttribute("aria-describedby", `${id}-why`);
  dialog.dataset.reason = revocation.reason;

  const icon = el(doc, "div", "icon");
  icon.setAttribute("aria-hidden", "true");
  icon.innerHTML = ICON;
  const title = el(doc, "h2", "", texts.title);
  title.id = `${id}-title`;
  const why = el(doc, "p", "why", reasonText(revocation, texts, context.locale));
  why.id = `${id}-why`;
  dialog.append(icon, title, why);

  const by = revocation.reason === "replaced" ? revocation.by : undefined;
  if (by) {
    const details = el(doc, "dl", "details");
    details.append(el(doc, "div", "caption", texts.newSignIn));
    const row = (label: string, value: string) => details.append(el(doc, "dt", "", label), el(doc, "dd", "", value));
    row(texts.deviceTerm, deviceLabel(by.device, texts, true));
    row(texts.when, timeLabel(by.at, context.locale));
    if (by.device.ip) row(texts.from, by.device.ip);
    dialog.append(details);
  }
  const dispute = revocation.reason === "replaced" ? context.dispute : undefined;
  const notes: string[] = [];
  if (Object.values(context.cleared).some((names) => names.length > 0)) notes.push(texts.cleared);
  if (by && !dispute) notes.push(texts.notYou);
  const note = el(doc, "p", "note");
  const say = (action: boolean) => {
    note.textContent = [...notes, ...(action ? [texts.notYouAction] : [])].join(" ");
    note.hidden = note.textContent === "";
  };
  say(!!dispute);
  dialog.append(note);
  // What "This wasn't me" did, read out by screen readers when it changes.
  const status = el(doc, "p", "status");
  status.setAttribute("role", "status");
  dialog.append(status);

  const actions = el(doc, "div", "actions");
  const button = el(doc, "button", "", texts.button) as HTMLButtonElement;
  button.type = "button";
  button.autofocus = true;
  const disputeButton = dispute ? (el(doc, "button", "secondary", texts.disputeButton) as HTMLButtonElement) : null;
  if (disputeButton && dispute) {
    disputeButton.type = "button";
    disputeButton.dataset.action = "dispute";
    disputeButton.addEventListener("click", () => {
      disputeButton.disabled = true;
      disputeButton.setAttribute("aria-disabled", "true");
      status.textContent = texts.disputing;
      dispute().then(
        () => {
          status.textContent = texts.disputed;
          done();
        },
        (error: unknown) => {
          const code = (error as { code?: unknown } | null)?.code;
          status.textContent = code === "dispute_used" ? texts.disputeUsed : texts.disputeFailed;
          // The server could not be reached or asked to wait: the person may try again.
          if (code === "network_error" || code === "rate_limited" || code === "store_unavailable") {
            disputeButton.disabled = false;
            disputeButton.removeAttribute("aria-disabled");
          } else {
            done();
          }
        },
      );
    });
    actions.append(disputeButton);
  }
  /** The dispute is over: its button and the words that offer it go, focus moves to the one that closes. */
  const done = () => {
    disputeButton?.remove();
    say(false);
    if (!removed) button.focus();
  };
  actions.append(button);
  dialog.append(actions);
  root.append(dialog);

  const previous = doc.activeElement instanceof HTMLElement ? doc.activeElement : null;
  let scrim: HTMLElement | null = null;
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    doc.removeEventListener("keydown", onKeydown, true);
    if (dialog.open && typeof dialog.close === "function") dialog.close();
    host.remove();
    if (previous?.isConnected) previous.focus();
  };
  const onKeydown = (event: KeyboardEvent) => {
    if (event.key === "Escape") {
      event.preventDefault();
      remove();
    } else if (event.key === "Tab") {
      // Keep focus inside: move between the dialog's enabled buttons, in either direction.
      event.preventDefault();
      const buttons = [disputeButton, button].filter((b): b is HTMLButtonElement => !!b?.isConnected && !b.disabled);
      const at = buttons.indexOf(root.activeElement as HTMLButtonElement);
      const next = buttons[(at + (event.shiftKey ? -1 : 1) + buttons.length) % buttons.length];
      next?.focus();
    }
  };
  button.addEventListener("click", remove);
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    remove();
  });
  doc.addEventListener("keydown", onKeydown, true);

  (doc.body ?? doc.documentElement).append(host);
  if (typeof dialog.showModal === "function") {
    dialog.showModal();
  } else {
    // No <dialog> support: an overlay that blocks the page.
    dialog.setAttribute("open", "");
    dialog.classList.add("fallback");
    scrim = el(doc, "div", "scrim");
    root.insertBefore(scrim, dialog);
  }
  button.focus();
  return remove;
}

function el(doc: Document, tag: string, className: string, text?: string): HTMLElement {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A constructable stylesheet where supported (not subject to style-src), else a <style> element. */
function adoptStyles(root: ShadowRoot, doc: Document): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(WARNING_CSS);
    root.adoptedStyleSheets = [sheet];
    return;
  } catch {
    const style = doc.createElement("style");
    style.textContent = WARNING_CSS;
    root.append(style);
  }
}
