/**
 * The tab sync: what this tab does with the other tabs' messages. Their connection news
 * goes to the {@link Connection}; a sign-in, a sign-out or a revocation in another tab
 * changes this tab's session too. While another tab signs in or out (`pending`), an end of
 * the session that arrives (`replaced`, `logout`) is that tab's doing: it is held, and
 * dropped when that tab succeeds, or taken for a kick when it fails or takes too long.
 *
 * @module
 */

import type { SessionView } from "solo-session/protocol";
import { assertNever } from "./assert-never.js";
import type { Connection } from "./connection.js";
import type { Kick } from "./revocation.js";
import type { TabMessage } from "./tab-messages.js";
import type { SoloState } from "./types.js";

/** How long a tab waits for another tab's sign-in or sign-out before an ending counts as a kick, in ms. */
export const PENDING_WAIT = 10_000;

/** What the tab sync asks of the client. */
export interface SyncedSession {
  /** Another tab signed in: leave the current session, take this one (on the cookie). */
  adopt(session: SessionView): void;
  /** Another tab signed out: sign out here too, without a warning. */
  signOut(): void;
  /** End the session from outside (clear, warn, emit `revoked`). */
  revoke(revocation: Kick): void;
}

/** One client's side of the tabs' conversation. */
export interface TabSync {
  /** Handles a message of another tab, given this tab's state. */
  hear(message: TabMessage, state: SoloState): void;
  /**
   * Holds an end of the session that another tab's sign-in or sign-out explains; true when
   * held (the client then waits for that tab's outcome).
   */
  hold(revocation: Kick): boolean;
  /** Stops waiting for another tab, forgetting a held end (the client is destroyed). */
  close(): void;
}

/**
 * The tab sync of a client: connection news goes to `connection`, the rest to `session`.
 *
 * @example
 * ```ts
 * const sync = syncTabs(connection, { adopt, signOut, revoke });
 * const tabs = joinTabs(name, (m) => sync.hear(m, state));
 * ```
 */
export function syncTabs(connection: Connection, session: SyncedSession): TabSync {
  /** Set while another tab signs in or out: the session's end then is that tab's doing. */
  let pending: ReturnType<typeof setTimeout> | undefined;
  /** An end of the session (replaced, logout) that arrived while another tab signs in or out. */
  let held: Kick | null = null;
  const stop = () => {
    clearTimeout(pending);
    pending = undefined;
    held = null;
  };
  /**
   * Another tab's sign-in or sign-out is over: a held end of the session was its doing
   * (`done`), or, when it failed or took too long, a kick after all.
   */
  const settle = (done = false) => {
    const end = held;
    stop();
    if (end && !done) session.revoke(end);
  };
  return {
    close: stop,
    hold: (revocation) => {
      if (pending === undefined || (revocation.reason !== "replaced" && revocation.reason !== "logout")) return false;
      held = revocation;
      return true;
    },
    hear: (m, state) => {
      const current = state.status === "active" ? state.session : null;
      switch (m.t) {
        case "hi":
          connection.answer();
          break;
        case "conn":
          connection.follow(m.s);
          break;
        case "act":
          connection.relay();
          break;
        case "pending":
          stop();
          pending = setTimeout(settle, PENDING_WAIT);
          break;
        case "failed":
          settle();
          break;
        case "login":
          settle(true);
          // Adopt it, unless this tab is signing in itself (its own answer decides).
          if (current?.id !== m.session.id && !(state.status === "signing-in" && state.via === "login")) {
            session.adopt(m.session);
          }
          break;
        case "logout":
          settle(true);
          // Also when the server's "logout" notice outran the other tab's "pending": it was ours.
          if (current || (state.status === "revoked" && state.revocation.reason === "logout")) session.signOut();
          break;
        case "revoked": {
          const id = m.revocation.sessionId;
          if (current && (id === null || id === current.id)) session.revoke(m.revocation);
          break;
        }
        case "hb":
        case "bye":
          break; // the heartbeat election's: tabs.ts hands them to it
        default:
          assertNever(m);
      }
    },
  };
}
