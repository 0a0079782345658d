// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { emptyReport } from "../../packages/client/src/clear.js";
import type { Revocation } from "../../packages/client/src/types.js";
import { showWarning } from "../../packages/client/src/warning/dialog.js";
import {
  DEFAULT_TEXTS,
  deviceLabel,
  reasonText,
  type WarningTexts,
  withoutVersion,
} from "../../packages/client/src/warning/texts.js";
import { FIREFOX_WINDOWS } from "./sdk-fakes.js";

const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
  document.body.replaceChildren();
});

const REPLACED: Revocation = {
  reason: "replaced",
  code: "session_replaced",
  sessionId: "s1",
  at: "2025-01-01T10:42:00.000Z",
  by: { device: FIREFOX_WINDOWS, at: "2025-01-01T10:42:00.000Z" },
  source: "push",
  disputable: false,
};

function show(revocation: Revocation = REPLACED, texts: Partial<WarningTexts> = {}, dispute?: () => Promise<unknown>) {
  const remove = showWarning(revocation, {
    cleared: emptyReport(),
    locale: "en-GB",
    texts,
    ...(dispute ? { dispute } : {}),
  });
  removers.push(remove);
  const host = document.querySelector("[data-solo-warning]");
  const root = host?.shadowRoot;
  const dialog = root?.querySelector<HTMLElement>("[role=alertdialog]");
  if (!host || !root || !dialog) throw new Error("no warning rendered");
  return { remove, host, root, dialog };
}

describe("the built-in warning", () => {
  it("is a modal alertdialog, labelled and described inside its shadow root", () => {
    const { root, dialog } = show();
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(dialog.dataset.reason).toBe("replaced");
    const title = root.getElementById(dialog.getAttribute("aria-labelledby") ?? "");
    const why = root.getElementById(dialog.getAttribute("aria-describedby") ?? "");
    expect(title?.tagName).toBe("H2");
    expect(why?.textContent).toBe(reasonText(REPLACED, DEFAULT_TEXTS, "en-GB"));
  });

  it("moves focus to its button and keeps it there on Tab", () => {
    const outside = document.createElement("button");
    document.body.append(outside);
    outside.focus();
    const { root } = show();
    const button = root.querySelector("button");
    expect(root.activeElement).toBe(button);
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Tab", bubbles: true, cancelable: true }));
    expect(root.activeElement).toBe(button);
  });

  it("closes on Escape and on its button, and gives focus back", () => {
    const outside = document.createElement("button");
    document.body.append(outside);
    outside.focus();
    show();
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true }));
    expect(document.querySelector("[data-solo-warning]")).toBeNull();
    expect(document.activeElement).toBe(outside);

    const again = show();
    again.root.querySelector("button")?.click();
    expect(document.querySelector("[data-solo-warning]")).toBeNull();
  });

  it("uses the app's texts", () => {
    const { root } = show(REPLACED, { title: "Abgemeldet", button: "Schließen", replaced: (d, t) => `${d}|${t}` });
    expect(root.querySelector("h2")?.textContent).toBe("Abgemeldet");
    expect(root.querySelector("button")?.textContent).toBe("Schließen");
    expect(root.querySelector(".why")?.textContent?.startsWith("Firefox on Windows|")).toBe(true);
  });

  it.each(["logout", "revoked", "expired", "idle"] as const)("has no device details for reason %s", (reason) => {
    const { root, dialog } = show({ ...REPLACED, reason, by: undefined });
    expect(dialog.dataset.reason).toBe(reason);
    expect(root.querySelector(".details")).toBeNull();
    expect(root.querySelector(".why")?.textContent).toBe(DEFAULT_TEXTS[reason]);
  });
});

describe('"This wasn\'t me" in the built-in warning', () => {
  /** A dispute the test settles by hand. */
  function pending() {
    let settle: { resolve(value?: unknown): void; reject(error: unknown): void } | undefined;
    const calls: number[] = [];
    const dispute = () => {
      calls.push(1);
      return new Promise((resolve, reject) => {
        settle = { resolve, reject };
      });
    };
    return { dispute, calls, settle: () => settle as NonNullable<typeof settle> };
  }
  const tab = (shiftKey = false) =>
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Tab", shiftKey, bubbles: true, cancelable: true }));

  it("is a second button only for a replacement with a dispute; focus starts on OK, Tab and Shift+Tab move between them", () => {
    for (const other of [show(REPLACED), show({ ...REPLACED, reason: "revoked" }, {}, pending().dispute)]) {
      expect(other.root.querySelectorAll("button")).toHaveLength(1);
      other.remove();
    }
    const { root } = show(REPLACED, {}, pending().dispute);
    const [notMe, ok] = [...root.querySelectorAll("button")];
    expect(notMe?.textContent).toBe(DEFAULT_TEXTS.disputeButton);
    expect(notMe?.type).toBe("button");
    expect(ok?.textContent).toBe(DEFAULT_TEXTS.button);
    expect(root.activeElement).toBe(ok);
    tab();
    expect(root.activeElement).toBe(notMe);
    tab();
    expect(root.activeElement).toBe(ok);
    tab(true);
    expect(root.activeElement).toBe(notMe);
    expect(root.querySelector(".note")?.textContent).toBe(DEFAULT_TEXTS.notYouAction);
    expect(root.querySelector("[role=status]")?.textContent).toBe("");
  });

  it("says what happens in a status line: disputing, then done; the button goes and focus moves to OK", async () => {
    const d = pending();
    const { root } = show(REPLACED, {}, d.dispute);
    const notMe = root.querySelector<HTMLButtonElement>("[data-action=dispute]");
    notMe?.click();
    notMe?.click();
    expect(d.calls).toHaveLength(1);
    expect(notMe?.disabled).toBe(true);
    const status = root.querySelector("[role=status]");
    expect(status?.textContent).toBe(DEFAULT_TEXTS.disputing);
    d.settle().resolve();
    await vi.waitFor(() => expect(status?.textContent).toBe(DEFAULT_TEXTS.disputed));
    expect(root.querySelector("[data-action=dispute]")).toBeNull();
    expect(root.querySelector<HTMLElement>(".note")?.hidden).toBe(true);
    expect(root.activeElement?.textContent).toBe(DEFAULT_TEXTS.button);
  });

  it("dispute_used says it was reported already; a network error lets the person try again", async () => {
    const used = pending();
    const first = show(REPLACED, {}, used.dispute);
    first.root.querySelector<HTMLButtonElement>("[data-action=dispute]")?.click();
    used.settle().reject(Object.assign(new Error("x"), { code: "dispute_used" }));
    await vi.waitFor(() =>
      expect(first.root.querySelector("[role=status]")?.textContent).toBe(DEFAULT_TEXTS.disputeUsed),
    );
    expect(first.root.querySelector("[data-action=dispute]")).toBeNull();
    first.remove();

    const offline = pending();
    const second = show(REPLACED, {}, offline.dispute);
    const notMe = second.root.querySelector<HTMLButtonElement>("[data-action=dispute]");
    notMe?.click();
    offline.settle().reject(Object.assign(new Error("x"), { code: "network_error" }));
    await vi.waitFor(() => expect(notMe?.disabled).toBe(false));
    expect(second.root.querySelector("[role=status]")?.textContent).toBe(DEFAULT_TEXTS.disputeFailed);
    notMe?.click();
    expect(offline.calls).toHaveLength(2);
  });

  it("uses the app's texts", () => {
    const { root } = show(
      REPLACED,
      { disputeButton: "Das war ich nicht", notYouAction: "Nicht Sie?" },
      pending().dispute,
    );
    expect(root.querySelector("[data-action=dispute]")?.textContent).toBe("Das war ich nicht");
    expect(root.querySelector(".note")?.textContent).toBe("Nicht Sie?");
  });
});

describe("device labels", () => {
  it("drops versions for the sentence and keeps a chosen name", () => {
    expect(withoutVersion("Firefox 132")).toBe("Firefox");
    expect(withoutVersion("Mac OS 10.15.7")).toBe("Mac OS");
    expect(withoutVersion("Linux")).toBe("Linux");
    expect(deviceLabel(FIREFOX_WINDOWS, DEFAULT_TEXTS)).toBe(DEFAULT_TEXTS.device("Firefox", "Windows"));
    expect(deviceLabel({ ...FIREFOX_WINDOWS, name: "Work laptop" }, DEFAULT_TEXTS).startsWith("Work laptop")).toBe(
      true,
    );
    expect(deviceLabel({ name: null, browser: null, os: null, ip: null }, DEFAULT_TEXTS)).toBe(
      DEFAULT_TEXTS.unknownDevice,
    );
  });
});
