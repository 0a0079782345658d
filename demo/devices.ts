/**
 * The demo's "Your devices" panel: the signed-in user's live sessions (`solo.sessions()`),
 * with a button to sign out each other device (`solo.endSession(id)`) and one to sign out
 * all of them (`solo.endOtherSessions()`). Every outcome is said in a status line.
 */

import { type OwnSessionView, type SoloClient, SoloClientError } from "@solo-session/client";

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "Work laptop (Chrome on macOS)", "Firefox on Windows", or "An unknown device". */
export function deviceText(device: OwnSessionView["device"]): string {
  const described =
    device.browser && device.os ? `${device.browser} on ${device.os}` : (device.browser ?? device.os ?? null);
  if (device.name) return described ? `${device.name} (${described})` : device.name;
  return described ?? "An unknown device";
}

/**
 * Fills `panel` (the card with `#devices-list`, `#devices-status`, `#devices-refresh` and
 * `#devices-others`) while a session is live, and reloads it whenever a session starts, the
 * page becomes visible again, or the person asks. `log` reports to the page's event log.
 */
export function showDevices(
  solo: SoloClient,
  panel: HTMLElement,
  log: (kind: "info" | "good" | "bad", title: string, detail?: string) => void,
): void {
  const list = part<HTMLUListElement>(panel, "#devices-list");
  const status = part(panel, "#devices-status");
  const refresh = part<HTMLButtonElement>(panel, "#devices-refresh");
  const others = part<HTMLButtonElement>(panel, "#devices-others");
  let loaded: string | null = null;

  const say = (text: string, tone: "info" | "good" | "bad" = "info") => {
    status.textContent = text;
    status.dataset.tone = tone;
    status.hidden = text === "";
  };

  async function load(): Promise<void> {
    if (solo.state.status !== "active") return;
    panel.setAttribute("aria-busy", "true");
    try {
      const sessions = await solo.sessions();
      render(sessions);
      others.disabled = sessions.every((s) => s.current);
    } catch (error) {
      say(`The devices could not be loaded (${codeOf(error)}).`, "bad");
    } finally {
      panel.removeAttribute("aria-busy");
    }
  }

  function render(sessions: OwnSessionView[]): void {
    list.replaceChildren(...sessions.map(item));
    panel.dataset.count = String(sessions.length);
  }

  function item(session: OwnSessionView): HTMLLIElement {
    const li = document.createElement("li");
    li.className = "device";
    li.dataset.sessionId = session.id;
    if (session.current) li.dataset.current = "";
    const name = deviceText(session.device);
    const text = document.createElement("div");
    text.className = "device-text";
    const title = document.createElement("p");
    title.className = "device-name";
    title.textContent = name;
    if (session.current) {
      const badge = document.createElement("span");
      badge.className = "device-badge";
      badge.textContent = "This device";
      title.append(" ", badge);
    }
    const facts = document.createElement("p");
    facts.className = "device-facts";
    facts.textContent = [
      session.device.ip ? `IP ${session.device.ip}` : null,
      `Signed in ${dateTime.format(new Date(session.createdAt))}`,
      `Last active ${dateTime.format(new Date(session.lastSeenAt))}`,
    ]
      .filter(Boolean)
      .join(" · ");
    text.append(title, facts);
    li.append(text);
    if (!session.current) {
      const end = document.createElement("button");
      end.type = "button";
      end.className = "button button-secondary";
      end.textContent = "Sign out";
      end.setAttribute("aria-label", `Sign out ${name}`);
      end.addEventListener("click", () => endOne(session, name, end));
      li.append(end);
    }
    return li;
  }

  async function endOne(session: OwnSessionView, name: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      await solo.endSession(session.id);
      say(`Signed out ${name}. That device was told at once.`, "good");
      log("good", "Device signed out", name);
    } catch (error) {
      say(`${name} could not be signed out (${codeOf(error)}).`, "bad");
      button.disabled = false;
    }
    await load();
    // Keep focus in the panel: the button that was pressed is gone.
    refresh.focus();
  }

  others.addEventListener("click", async () => {
    others.disabled = true;
    try {
      await solo.endOtherSessions();
      say("Signed out every other device.", "good");
      log("good", "Other devices signed out");
    } catch (error) {
      say(`The other devices could not be signed out (${codeOf(error)}).`, "bad");
    }
    await load();
  });
  refresh.addEventListener("click", () => {
    say("");
    void load();
  });
  solo.on("state", (state) => {
    if (state.status !== "active") {
      loaded = null;
      list.replaceChildren();
      say("");
    } else if (state.session.id !== loaded) {
      loaded = state.session.id;
      void load();
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void load();
  });
}

function codeOf(error: unknown): string {
  return error instanceof SoloClientError ? error.code : "network_error";
}

function part<T extends HTMLElement = HTMLElement>(panel: HTMLElement, selector: string): T {
  const node = panel.querySelector<T>(selector);
  if (!node) throw new Error(`${selector} is missing`);
  return node;
}
