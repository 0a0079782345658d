/**
 * What the tabs of one browser tell each other over their BroadcastChannel. Types only: the
 * tabs (`tabs.ts`), the heartbeat election (`heartbeat.ts`) and the tab sync (`tab-sync.ts`)
 * import it, and it imports nothing of theirs.
 *
 * @module
 */

import type { SessionView } from "solo-session/protocol";
import type { Kick } from "./revocation.js";
import type { ConnectionStatus } from "./types.js";

/**
 * What the tabs of one browser tell each other.
 *
 * @example
 * ```ts
 * tabs.post({ t: "login", session }); // the other tabs adopt the new session silently
 * ```
 */
export type TabMessage =
  /** The leader's connection changed (or a tab asked with `hi`). */
  | { t: "conn"; s: ConnectionStatus }
  /** A tab joined the election: the leader answers with its connection (and, without Web Locks, a heartbeat). */
  | { t: "hi" }
  /** A follower saw the person interact; the leader reports it. */
  | { t: "act" }
  /** A tab started signing in or out: an end of the current session that follows is its doing, not a kick. */
  | { t: "pending" }
  /** That sign-in or sign-out failed. */
  | { t: "failed" }
  /** A tab signed in: the others adopt this session. */
  | { t: "login"; session: SessionView }
  /** A tab signed out: the others sign out too. */
  | { t: "logout" }
  /** A tab learned that the session ended: the others warn too (and can dispute it: the capability comes along). */
  | { t: "revoked"; revocation: Kick }
  /** Without Web Locks: a leader's heartbeat (`lead`), or a claim; of two leaders, the higher id stays. */
  | { t: "hb"; id: number; lead: boolean }
  /** Without Web Locks: the leader leaves; the others take over at once. */
  | { t: "bye" };
