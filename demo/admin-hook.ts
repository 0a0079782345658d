/**
 * Loads the admin view for admins only. The page cannot see the session's roles (they are
 * in the token), so it asks the admin API itself: a 200 from `GET /auth/admin/sessions`
 * means this session may administer, and that answer is the view's first page. Only then
 * is the view's code (./admin.ts and its CSS) fetched.
 */

import type { SoloClient, SoloState } from "@solo-session/client";
import type { AdminSessionsResponse } from "solo-session/protocol";
import { type AdminView, FIRST_PAGE } from "./admin-state.js";

/**
 * Shows the admin view in `slot` while an admin's session is live, and removes it when the
 * session ends or another user signs in.
 *
 * @example
 * ```ts
 * showAdminWhenAllowed(solo, document.getElementById("admin-slot")!);
 * ```
 */
export function showAdminWhenAllowed(solo: SoloClient, slot: HTMLElement): void {
  let current: { sessionId: string; stop(): void } | null = null;
  const sync = (state: SoloState): void => {
    const sessionId = state.status === "active" ? state.session.id : null;
    if (current?.sessionId === sessionId) return;
    current?.stop();
    current = sessionId === null ? null : start(solo, slot, sessionId);
  };
  solo.on("state", sync);
  sync(solo.state);
}

function start(solo: SoloClient, slot: HTMLElement, sessionId: string): { sessionId: string; stop(): void } {
  let stopped = false;
  let view: AdminView | null = null;
  delete slot.dataset.access;
  (async () => {
    const res = await solo.fetch(`/auth/admin/sessions?limit=${FIRST_PAGE}`, {
      headers: { accept: "application/json" },
    });
    if (stopped) return;
    // The answer decided: `data-access` on the slot says so (the view follows only when granted).
    slot.dataset.access = res.status === 200 ? "granted" : "denied";
    if (res.status !== 200) return;
    const first = (await res.json()) as AdminSessionsResponse;
    const { mountAdmin } = await import("./admin.js");
    if (stopped) return;
    view = mountAdmin({ solo, slot, sessionId, first });
  })().catch(() => {
    // Not an admin, offline, or the session ended meanwhile: the page stays as it is.
  });
  return {
    sessionId,
    stop() {
      stopped = true;
      view?.destroy();
      view = null;
    },
  };
}
