/**
 * The session channel as this tab sees it: its status (and the `connected`, `disconnected`
 * and `leader` events), opening it here or through the tabs' election, reconnecting with
 * backoff, the browser's online, offline and visibility events, and reporting activity.
 * What the channel hears about the session itself (a notice, a refusal, a close without a
 * notice) goes to the client, which alone decides what the session's state is.
 *
 * @module
 */

import type { ConnectErrorData, RevocationNotice } from "solo-session/protocol";
import { watchActivity } from "./activity.js";
import type { Channel } from "./channel.js";
import type { Emitter } from "./emitter.js";
import type { ResolvedOptions } from "./options.js";
import type { Tabs } from "./tabs.js";
import type { ConnectionStatus, DisconnectCause, SoloClientEvents } from "./types.js";

/** What the channel hears that only the client can judge. */
export interface SessionNews {
  /** `session:revoked` arrived on this tab's channel. */
  revoked(notice: RevocationNotice): void;
  /** The server refused the handshake. */
  refused(data: ConnectErrorData): void;
  /** The server closed the channel without a notice. */
  closed(): void;
}

/** The connection of one client: open while its session is active. */
export interface Connection {
  /** The channel's condition; in a tab that is not the leader, the leader's. */
  readonly status: ConnectionStatus;
  /** True while this tab holds the channel (the leader, or a page alone). */
  readonly leader: boolean;
  /**
   * Opens the channel for a session that just became active: here, or, with other tabs,
   * through their election (the leader opens it). Reports the person's activity meanwhile.
   */
  open(sessionId: string, token: string | null): void;
  /** Closes the channel (and leaves the election), stops the timers: `idle`. */
  close(): void;
  /** Removes the page's listeners for good; a `close()` that follows tells no `leader` change. */
  destroy(): void;
  /**
   * The channel is down for now: say so, and connect again with backoff. A tab that stopped
   * leading meanwhile has nothing to retry: the new leader's connection is its own.
   */
  retry(): void;
  /**
   * The server closed the channel of a session that is still live: the elected tab takes it
   * back, with backoff; a page on its own waits in `standby` (another connection of the
   * session, in a tab it does not coordinate with, holds it) until it is visible again.
   */
  takeBack(): void;
  /** A tab asked (`hi`): the leader tells its connection. */
  answer(): void;
  /** The leader's connection (`conn`) is this tab's (idle: it left; the next leader says more). */
  follow(status: ConnectionStatus): void;
  /** A follower saw the person interact (`act`): the leader reports it. */
  relay(): void;
}

/**
 * The connection of a client, with its options, its events, the other tabs (null: a page
 * alone) and where the session's news goes.
 *
 * @example
 * ```ts
 * const connection = createConnection(options, events, tabs, { revoked, refused, closed });
 * connection.open(session.id, token);
 * ```
 */
export function createConnection(
  o: ResolvedOptions,
  events: Emitter<SoloClientEvents>,
  tabs: Tabs | null,
  news: SessionNews,
): Connection {
  let status: ConnectionStatus = "idle";
  /** The channel, while this tab holds it. */
  let channel: Channel | null = null;
  let sessionId = "";
  let token: string | null = null;
  /** Leaves the tabs' election; set while open (with tabs). */
  let leave: (() => void) | null = null;
  let stopActivity: (() => void) | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retries = 0;
  let destroyed = false;

  /** The leader tells the other tabs its connection. */
  const tell = () => {
    if (channel) tabs?.post({ t: "conn", s: status });
  };

  /**
   * Moves the connection to `next`, tells the other tabs when this one leads, and emits
   * `connected`, or `disconnected` when the channel goes down (or down in another way).
   */
  const set = (next: ConnectionStatus) => {
    const prev = status;
    if (prev === next) return;
    status = next;
    tell();
    if (next === "connected") {
      events.emit("connected", { sessionId });
    } else if (
      prev === "connected" ||
      // Down in a new way; coming back online (offline → reconnecting) is no new loss.
      (next !== "idle" && next !== "connecting" && !(prev === "offline" && next === "reconnecting"))
    ) {
      // idle: closed here; connecting, reconnecting: the network (or the leader tab) went away.
      const cause: DisconnectCause =
        next === "idle" ? "closed" : next === "offline" || next === "standby" ? next : "network";
      events.emit("disconnected", { cause, reconnecting: next !== "idle" && next !== "standby" });
    }
  };

  const openChannel = () => {
    let mine: Channel | null = null;
    const current = () => mine !== null && mine === channel;
    mine = o.transport(
      { ...o.channel, token },
      {
        connected: () => {
          if (!current()) return;
          retries = 0;
          set("connected");
        },
        disconnected: (cause) => {
          if (!current()) return;
          if (cause === "network") set("reconnecting");
          else news.closed();
        },
        revoked: (notice) => {
          if (current()) news.revoked(notice);
        },
        refused: (data) => {
          if (current()) news.refused(data);
        },
      },
    );
    channel = mine; // none was held: a session's channel opens after the last one was dropped
    events.emit("leader", true);
  };

  /** Closes the channel this tab holds, if any, and tells (`leader`: false) that it no longer leads. */
  const drop = () => {
    if (!channel) return;
    channel.close();
    channel = null;
    if (!destroyed) events.emit("leader", false);
  };

  const retry = () => {
    if (!channel) return;
    set("reconnecting");
    if (retryTimer !== undefined) return;
    const { reconnectDelay, reconnectDelayMax } = o.channel;
    const base = Math.min(reconnectDelayMax, reconnectDelay * 2 ** retries);
    retries++;
    retryTimer = setTimeout(
      () => {
        retryTimer = undefined;
        if (typeof navigator === "undefined" || navigator.onLine !== false) channel?.reconnect();
      },
      Math.min(reconnectDelayMax, base * (0.5 + Math.random())),
    );
  };

  const onOnline = () => {
    if (!channel || status !== "offline") return;
    set("reconnecting");
    channel.reconnect();
  };
  const onOffline = () => {
    if (!channel || status === "standby") return;
    channel.pause();
    set("offline");
  };
  /** The page became visible or got focus: a tab in standby takes the channel back. */
  const onVisible = () => {
    if (typeof document !== "undefined" && document.visibilityState !== "visible") return;
    if (status === "standby" && channel) {
      set("connecting");
      channel.reconnect();
    }
  };
  /** Adds or removes the page's listeners: network, focus, visibility. */
  const listen = (method: "addEventListener" | "removeEventListener") => {
    if (typeof window === "undefined") return;
    window[method]("online", onOnline);
    window[method]("offline", onOffline);
    window[method]("focus", onVisible);
    document[method]("visibilitychange", onVisible);
  };
  listen("addEventListener");

  return {
    get status() {
      return status;
    },
    get leader() {
      return channel !== null;
    },
    open: (id, sessionToken) => {
      sessionId = id;
      token = sessionToken;
      retries = 0;
      set("connecting");
      if (tabs) {
        leave = tabs.elect(() => {
          openChannel();
          set("connecting"); // told to the other tabs: this one leads now
          return () => {
            drop();
            // Another tab leads now (or none, when this one leaves): ask for the leader's connection.
            tabs.post({ t: "hi" });
          };
        });
      } else {
        openChannel();
      }
      if (typeof document !== "undefined") {
        stopActivity = watchActivity(document, o.activityInterval, o.clock, () => {
          if (status !== "connected") return false;
          if (channel) channel.activity();
          else tabs?.post({ t: "act" });
          return true;
        });
      }
    },
    close: () => {
      leave?.();
      leave = null;
      drop();
      stopActivity?.();
      stopActivity = null;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      set("idle");
    },
    destroy: () => {
      destroyed = true;
      listen("removeEventListener");
    },
    retry,
    takeBack: () => {
      if (tabs) retry();
      else set("standby");
    },
    answer: tell,
    follow: (leaders) => {
      if (leave && !channel && leaders !== "idle") set(leaders);
    },
    relay: () => {
      if (channel && status === "connected") channel.activity();
    },
  };
}
