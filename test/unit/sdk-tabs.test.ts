// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { beatElection, CLAIM_WAIT, HEARTBEAT, SILENCE } from "../../packages/client/src/heartbeat.js";
import { createSoloClient, type Revocation, type SoloClient } from "../../packages/client/src/index.js";
import type { TabMessage } from "../../packages/client/src/tab-messages.js";
import type { SessionView } from "../../protocol/index.js";
import {
  error,
  type FakeChannel,
  FakeLocks,
  FIREFOX_WINDOWS,
  fakeFetch,
  fakeTransport,
  json,
  ManualTimers,
  pass,
  passUntil,
  sessionView,
  settle,
  useElectionTimers,
} from "./sdk-fakes.js";

/** A browser tab: its client, the channels it opened, what it warned about and emitted. */
interface Tab {
  client: SoloClient;
  channels: FakeChannel[];
  warnings: Revocation[];
  revoked: Revocation[];
  connected: number;
  /** The `leader` events, in order. */
  leading: boolean[];
}

const tabs: Tab[] = [];
let locks: FakeLocks | null = null;

beforeEach(() => {
  localStorage.clear();
});
afterEach(() => {
  for (const tab of tabs.splice(0)) tab.client.destroy();
  Object.defineProperty(navigator, "locks", { value: null, configurable: true });
  locks = null;
  vi.useRealTimers();
});

/** Gives the page a Web Locks API (happy-dom has none: without it the heartbeat election runs). */
function withLocks(): FakeLocks {
  locks = new FakeLocks();
  Object.defineProperty(navigator, "locks", { value: locks, configurable: true });
  return locks;
}

/** Opens a tab whose start-up check finds `session` (or nobody). */
function openTab(session: SessionView | null, routes: Parameters<typeof fakeFetch>[0] = {}): Tab {
  const server = fakeFetch({
    "GET /auth/session": () => (session ? json(200, { session }) : error("missing_token")),
    ...routes,
  });
  const transport = fakeTransport();
  const tab: Tab = {
    client: null as unknown as SoloClient,
    channels: transport.channels,
    warnings: [],
    revoked: [],
    connected: 0,
    leading: [],
  };
  tab.client = createSoloClient({
    fetch: server.fetch,
    transport: transport.transport,
    warning: (r) => tab.warnings.push(r),
  });
  tab.client.on("revoked", (r) => tab.revoked.push(r));
  tab.client.on("connected", () => tab.connected++);
  tab.client.on("leader", (leading) => tab.leading.push(leading));
  tabs.push(tab);
  return tab;
}

/** The channels open right now, over every tab. */
const openChannels = () => tabs.flatMap((t) => t.channels.filter((c) => !c.closed));
const leaders = () => tabs.filter((t) => t.client.leader);

/** Waits until `check` passes: `vi.waitFor`, or {@link passUntil} with the election's fake timers. */
type Until = (check: () => void) => Promise<unknown>;
const waitFor: Until = (check) => vi.waitFor(check);

async function threeTabs(session = sessionView("s1"), until = waitFor): Promise<Tab[]> {
  const opened = [openTab(session), openTab(session), openTab(session)];
  await Promise.all(opened.map((t) => t.client.ready));
  await until(() => expect(openChannels()).toHaveLength(1));
  return opened;
}

function leaderOf(opened: Tab[]): { leader: Tab; channel: FakeChannel; followers: Tab[] } {
  const leader = opened.find((t) => t.client.leader);
  const channel = leader?.channels.find((c) => !c.closed);
  if (!leader || !channel) throw new Error("no leader");
  return { leader, channel, followers: opened.filter((t) => t !== leader) };
}

describe("tabs with Web Locks", () => {
  beforeEach(() => {
    withLocks();
  });

  it("three tabs: one leader holds the only channel; the others show its connection", async () => {
    const opened = await threeTabs();
    expect(leaders()).toHaveLength(1);
    const { channel, followers } = leaderOf(opened);
    expect(followers.every((t) => t.channels.length === 0)).toBe(true);
    channel.handlers.connected();
    await vi.waitFor(() =>
      expect(opened.map((t) => t.client.connection)).toEqual(["connected", "connected", "connected"]),
    );
    expect(opened.map((t) => t.connected)).toEqual([1, 1, 1]);
    await settle();
    expect(openChannels()).toHaveLength(1);
  });

  it("a tab opened later asks and learns the leader's connection", async () => {
    const opened = await threeTabs();
    leaderOf(opened).channel.handlers.connected();
    const late = openTab(sessionView("s1"));
    await late.client.ready;
    await vi.waitFor(() => expect(late.client.connection).toBe("connected"));
    expect(late.client.leader).toBe(false);
    expect(openChannels()).toHaveLength(1);
  });

  it("when the leader tab goes, another takes the channel at once", async () => {
    const opened = await threeTabs();
    const { leader, channel } = leaderOf(opened);
    channel.handlers.connected();
    leader.client.destroy(); // the tab closes: its lock is released
    expect(channel.closed).toBe(true);
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    const next = leaderOf(opened.filter((t) => t !== leader));
    expect(next.leader.client.connection).toBe("connecting");
    next.channel.handlers.connected();
    const other = opened.find((t) => t !== leader && t !== next.leader);
    await vi.waitFor(() => expect(other?.client.connection).toBe("connected"));
  });

  it("emits leader: true in the tab elected, then in the next one when it goes; false on sign-out", async () => {
    const s1 = sessionView("s1");
    const logout = { "POST /auth/logout": () => new Response(null, { status: 204 }) };
    const opened = [openTab(s1, logout), openTab(s1, logout), openTab(s1, logout)];
    await Promise.all(opened.map((t) => t.client.ready));
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    const { leader } = leaderOf(opened);
    expect(opened.map((t) => t.leading)).toEqual(opened.map((t) => (t === leader ? [true] : [])));
    leader.client.destroy(); // the tab closes: a destroyed client tells nothing more
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    const next = leaderOf(opened.filter((t) => t !== leader)).leader;
    expect(leader.leading).toEqual([true]);
    expect(next.leading).toEqual([true]);
    await opened.find((t) => t !== leader && t !== next)?.client.logout();
    await vi.waitFor(() => expect(next.leading).toEqual([true, false]));
    expect(next.client.leader).toBe(false);
    expect(opened.filter((t) => t !== leader && t !== next).map((t) => t.leading)).toEqual([[]]);
  });

  it("a follower's activity is reported by the leader's channel", async () => {
    const opened = await threeTabs();
    const { channel } = leaderOf(opened);
    channel.handlers.connected();
    await vi.waitFor(() => expect(opened.every((t) => t.client.connection === "connected")).toBe(true));
    document.dispatchEvent(new Event("keydown")); // every tab's client hears it here: one per tab
    await vi.waitFor(() => expect(channel.calls.filter((c) => c === "activity")).toHaveLength(3));
  });

  it("a kick pushed to the leader warns every tab (clears, emits revoked) and closes the channel", async () => {
    const opened = await threeTabs();
    const { channel } = leaderOf(opened);
    channel.handlers.connected();
    localStorage.setItem("draft", "x");
    channel.handlers.revoked({
      reason: "replaced",
      sessionId: "s1",
      at: "2025-01-01T11:00:00.000Z",
      by: { device: FIREFOX_WINDOWS, at: "2025-01-01T11:00:00.000Z" },
    });
    await vi.waitFor(() => expect(opened.map((t) => t.warnings.length)).toEqual([1, 1, 1]));
    for (const tab of opened) {
      expect(tab.client.state.status).toBe("revoked");
      expect(tab.revoked.map((r) => [r.code, r.by?.device.browser])).toEqual([["session_replaced", "Firefox 132"]]);
    }
    expect(localStorage.getItem("draft")).toBeNull();
    expect(openChannels()).toHaveLength(0);
  });

  it("a disputable kick is disputable in every tab; the capability goes to the server from the tab that asks", async () => {
    const sent: { tab: number; body: unknown }[] = [];
    const dispute = (tab: number) => ({
      "POST /auth/dispute": ({ init }: { init: RequestInit }) => {
        sent.push({ tab, body: JSON.parse(String(init.body)) });
        return json(200, { disputed: sessionView("s2"), ended: [sessionView("s2")] });
      },
    });
    const session = sessionView("s1");
    const opened = [openTab(session, dispute(0)), openTab(session, dispute(1)), openTab(session, dispute(2))];
    await Promise.all(opened.map((t) => t.client.ready));
    await waitFor(() => expect(openChannels()).toHaveLength(1));
    const { channel } = leaderOf(opened);
    channel.handlers.connected();
    channel.handlers.revoked({ reason: "replaced", sessionId: "s1", at: "2025-01-01T11:00:00.000Z", dispute: "cap-1" });
    await vi.waitFor(() => expect(opened.map((t) => t.revoked.length)).toEqual([1, 1, 1]));
    for (const tab of opened) {
      expect(tab.revoked[0]?.disputable).toBe(true);
      expect(JSON.stringify(tab.revoked[0])).not.toContain("cap-1");
    }
    const follower = opened.findIndex((t) => !t.client.leader);
    await opened[follower]?.client.dispute();
    expect(sent).toEqual([{ tab: follower, body: { capability: "cap-1" } }]);
  });

  it("a revocation found over HTTP in a follower reaches every tab", async () => {
    const s1 = sessionView("s1");
    const follower = openTab(s1, { "GET /api/notes": () => error("session_revoked", { reason: "revoked" }) });
    const others = [openTab(s1), openTab(s1)];
    await Promise.all([follower, ...others].map((t) => t.client.ready));
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    await follower.client.fetch("/api/notes");
    await vi.waitFor(() =>
      expect(tabs.map((t) => t.revoked.map((r) => r.code))).toEqual([
        ["session_revoked"],
        ["session_revoked"],
        ["session_revoked"],
      ]),
    );
    expect(tabs.every((t) => t.warnings.length === 1)).toBe(true);
  });

  it("a sign-out in one tab signs every tab out, without a warning, even when the push comes first", async () => {
    const s1 = sessionView("s1");
    let answer: (res: Response) => void = () => {};
    const out = openTab(s1, {
      "POST /auth/logout": () =>
        new Promise<Response>((resolve) => {
          answer = resolve;
        }),
    });
    const others = [openTab(s1), openTab(s1)];
    await Promise.all(tabs.map((t) => t.client.ready));
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    const logout = out.client.logout();
    // The server ends s1 and pushes "logout" to the channel before the tab that signed out hears back.
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    leaderOf(others).channel.handlers.revoked({ reason: "logout", sessionId: "s1", at: "2025-01-01T11:00:00.000Z" });
    await settle();
    answer(new Response(null, { status: 204 }));
    await logout;
    await vi.waitFor(() => expect(others.map((t) => t.client.state.status)).toEqual(["anonymous", "anonymous"]));
    expect(tabs.every((t) => t.warnings.length === 0 && t.revoked.length === 0)).toBe(true);
    expect(openChannels()).toHaveLength(0);
  });

  it("a sign-out whose server notice outruns the tab's own message still ends signed out everywhere", async () => {
    const s1 = sessionView("s1");
    const others = [openTab(s1), openTab(s1)];
    await Promise.all(others.map((t) => t.client.ready));
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    // The tab that signs out is not the leader: the leader holds the channel the notice comes on.
    const out = openTab(s1, { "POST /auth/logout": () => new Response(null, { status: 204 }) });
    await out.client.ready;
    const { channel } = leaderOf(others);
    const logout = out.client.logout();
    // Pushed in the same tick: before the other tabs hear "pending". The leader warns at first.
    channel.handlers.revoked({ reason: "logout", sessionId: "s1", at: "2025-01-01T11:00:00.000Z" });
    await vi.waitFor(() => expect(tabs.some((t) => t.client.state.status === "revoked")).toBe(true));
    await logout;
    await vi.waitFor(() =>
      expect(tabs.map((t) => t.client.state.status)).toEqual(["anonymous", "anonymous", "anonymous"]),
    );
    expect(others.every((t) => t.client.connection === "idle")).toBe(true);
  });

  it("a sign-in in one tab signs in the others (they use the cookie)", async () => {
    const s2 = sessionView("s2");
    const signing = openTab(null, {
      "POST /auth/login": () => json(200, { token: "tok-2", session: s2, replaced: [] }),
    });
    const others = [openTab(null), openTab(null)];
    await Promise.all(tabs.map((t) => t.client.ready));
    expect(tabs.every((t) => t.client.state.status === "anonymous")).toBe(true);
    await signing.client.login({ username: "alice", password: "demo" });
    await vi.waitFor(() => expect(others.map((t) => t.client.session?.id)).toEqual(["s2", "s2"]));
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    // Only the tab that signed in has the token; the others go on the cookie.
    const channel = openChannels()[0];
    expect(channel?.options.token).toBe(signing.client.leader ? "tok-2" : null);
  });

  it("a tab still checking its session at start adopts a sign-in made meanwhile in another tab", async () => {
    const s2 = sessionView("s2");
    let answer: (res: Response) => void = () => {};
    const late = openTab(null, {
      "GET /auth/session": () =>
        new Promise<Response>((resolve) => {
          answer = resolve;
        }),
    });
    const signing = openTab(null, { "POST /auth/login": () => json(200, { token: "t", session: s2, replaced: [] }) });
    await signing.client.ready;
    expect(late.client.state.status).toBe("signing-in");
    await signing.client.login({ username: "alice", password: "demo" });
    await vi.waitFor(() => expect(late.client.session?.id).toBe("s2"));
    answer(error("missing_token")); // its start-up check, sent before the sign-in, answers late
    await settle();
    expect(late.client.session?.id).toBe("s2");
  });

  it("a re-login in one tab is not a kick for the others: they adopt the new session silently", async () => {
    const s1 = sessionView("s1");
    const s2 = sessionView("s2");
    let answer: (res: Response) => void = () => {};
    const relogging = openTab(s1, {
      "POST /auth/login": () =>
        new Promise<Response>((resolve) => {
          answer = resolve;
        }),
    });
    const others = [openTab(s1), openTab(s1)];
    await Promise.all(tabs.map((t) => t.client.ready));
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    localStorage.setItem("draft", "kept");

    const login = relogging.client.login({ username: "alice", password: "demo" });
    await settle();
    // The server ends s1 and pushes it to whichever tab holds the channel now, before the
    // login's answer reaches the tab that signed in.
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    const { channel } = leaderOf(others);
    channel.handlers.revoked({
      reason: "replaced",
      sessionId: "s1",
      at: "2025-01-01T11:00:00.000Z",
      by: { device: FIREFOX_WINDOWS, at: "2025-01-01T11:00:00.000Z" },
    });
    await settle();
    answer(json(200, { token: "tok-2", session: s2, replaced: [s1] }));
    await login;

    await vi.waitFor(() => expect(tabs.map((t) => t.client.session?.id)).toEqual(["s2", "s2", "s2"]));
    expect(tabs.flatMap((t) => [...t.warnings, ...t.revoked])).toEqual([]);
    expect(localStorage.getItem("draft")).toBe("kept");
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
  });

  it("a kick while another tab's sign-in fails is still a kick", async () => {
    const s1 = sessionView("s1");
    let answer: (res: Response) => void = () => {};
    const signing = openTab(s1, {
      "POST /auth/login": () =>
        new Promise<Response>((resolve) => {
          answer = resolve;
        }),
    });
    const others = [openTab(s1), openTab(s1)];
    await Promise.all(tabs.map((t) => t.client.ready));
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    const login = signing.client.login({ username: "alice", password: "wrong" }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(openChannels()).toHaveLength(1));
    const { channel } = leaderOf(others);
    channel.handlers.revoked({
      reason: "replaced",
      sessionId: "s1",
      at: "2025-01-01T11:00:00.000Z",
      by: { device: FIREFOX_WINDOWS, at: "2025-01-01T11:00:00.000Z" },
    });
    await settle();
    expect(others.every((t) => t.warnings.length === 0)).toBe(true); // held while the sign-in runs
    answer(error("invalid_credentials"));
    await login;
    await vi.waitFor(() =>
      expect(others.map((t) => t.revoked.map((r) => r.code))).toEqual([["session_replaced"], ["session_replaced"]]),
    );
  });

  it("tabs: false keeps a page to itself: its own channel, deaf to the others", async () => {
    const s1 = sessionView("s1");
    const shared = await threeTabs(s1);
    const transport = fakeTransport();
    const alone = createSoloClient({
      fetch: fakeFetch({ "GET /auth/session": () => json(200, { session: s1 }) }).fetch,
      transport: transport.transport,
      warning: false,
      tabs: false,
    });
    await alone.ready;
    expect(transport.channels).toHaveLength(1);
    expect(alone.leader).toBe(true);
    leaderOf(shared).channel.handlers.revoked({ reason: "revoked", sessionId: "s1", at: "2025-01-01T11:00:00.000Z" });
    await vi.waitFor(() => expect(shared.every((t) => t.client.state.status === "revoked")).toBe(true));
    expect(alone.state.status).toBe("active");
    alone.destroy();
  });
});

/** The tabs' BroadcastChannel, as another tab of this page would open it. */
const tabsChannel = () => new BroadcastChannel(`solo-session ${new URL("/auth", location.href).href}`);

/** Counts the heartbeats of a leader sent over the tabs' channel from now on. */
function leaderHeartbeats(): { count: number; close(): void } {
  const bus = tabsChannel();
  const heard = { count: 0, close: () => bus.close() };
  bus.onmessage = (event: MessageEvent<TabMessage>) => {
    if (event.data.t === "hb" && event.data.lead) heard.count++;
  };
  return heard;
}

// The heartbeat election through the real client, on fake timers (the tabs' messages stay real).
describe("tabs without Web Locks (heartbeats over BroadcastChannel)", () => {
  beforeEach(() => {
    useElectionTimers();
  });

  it("elect one leader, and another within a second of the leader leaving", async () => {
    const opened = await threeTabs(sessionView("s1"), passUntil);
    await pass(SILENCE); // a whole silence: no second leader rises
    expect(openChannels()).toHaveLength(1);
    const { leader, channel } = leaderOf(opened);
    channel.handlers.connected();
    const gone = Date.now();
    leader.client.destroy(); // as on pagehide: the leader says goodbye
    await passUntil(() => expect(openChannels()).toHaveLength(1), 1000);
    expect(Date.now() - gone).toBeLessThan(1000);
    // And it stays one, over the new leader's next three heartbeats.
    const heartbeats = leaderHeartbeats();
    try {
      await passUntil(() => expect(heartbeats.count).toBeGreaterThanOrEqual(3));
    } finally {
      heartbeats.close();
    }
    expect(openChannels()).toHaveLength(1);
  });
});

describe("a leader that meets a rival leader (no Web Locks)", () => {
  beforeEach(() => {
    useElectionTimers();
  });

  it("steps down: emits leader: false, closes its channel, and shows the new leader's connection", async () => {
    // The leader's own check of its session, after the server dropped its socket, answers only when told.
    let hold = false;
    let answer: () => void = () => {};
    const s1 = sessionView("s1");
    const route = () =>
      hold
        ? new Promise<Response>((resolve) => (answer = () => resolve(json(200, { session: s1 }))))
        : json(200, { session: s1 });
    const opened = [
      openTab(s1, { "GET /auth/session": route }),
      openTab(s1, { "GET /auth/session": route }),
      openTab(s1, { "GET /auth/session": route }),
    ];
    await Promise.all(opened.map((t) => t.client.ready));
    await passUntil(() => expect(openChannels()).toHaveLength(1), 3000);
    const { leader, channel, followers } = leaderOf(opened);
    channel.handlers.connected();
    await passUntil(() => expect(opened.every((t) => t.client.connection === "connected")).toBe(true));

    // Another tab leads too (this one was frozen meanwhile): the server dropped this tab's socket
    // for the other's, and the other's heartbeat arrives while this tab asks the server.
    const rival = tabsChannel();
    const asked: TabMessage[] = [];
    rival.onmessage = (event: MessageEvent<TabMessage>) => {
      asked.push(event.data);
      if (event.data.t === "hi") rival.postMessage({ t: "conn", s: "connected" } satisfies TabMessage);
    };
    try {
      hold = true;
      channel.handlers.disconnected("server");
      rival.postMessage({ t: "hb", id: 2, lead: true } satisfies TabMessage); // ids are below 1: the rival's is higher
      await passUntil(() => expect(leader.leading).toEqual([true, false]));
      expect(leader.client.leader).toBe(false);
      expect(channel.closed).toBe(true);
      answer(); // the server says the session is live: the tab that no longer leads does not reconnect
      await passUntil(() => expect(asked.some((m) => m.t === "hi")).toBe(true));
      await passUntil(() => expect(leader.client.connection).toBe("connected"));
      // Longer than the first backoff (1 s, up to 1.5 s with jitter), shorter than the rival's silence.
      await pass(1600);
      expect(leader.client.connection).toBe("connected");
      expect(channel.calls).not.toContain("reconnect");
      expect(openChannels()).toHaveLength(0); // the rival (another tab) holds the one channel
      expect(followers.map((t) => [t.client.leader, t.leading])).toEqual([
        [false, []],
        [false, []],
      ]);
    } finally {
      rival.close();
    }
  });
});

/** Tabs joined to a message bus (delivery is synchronous, as if instant), each in the heartbeat election. */
function heartbeatBus(timers: ManualTimers) {
  interface Member {
    leading: boolean;
    /** Cut off: it hears nothing and nobody hears it (a crashed tab, or a partition). */
    cut: boolean;
    hear: (m: TabMessage) => void;
    leave: () => void;
  }
  const members: Member[] = [];
  const join = () => {
    const member: Member = { leading: false, cut: false, hear: () => {}, leave: () => {} };
    const election = beatElection(
      (m) => {
        if (member.cut) return;
        for (const other of members) if (other !== member && !other.cut) other.hear(m);
      },
      () => {
        member.leading = true;
        return () => {
          member.leading = false;
        };
      },
      timers,
    );
    member.hear = election.hear;
    member.leave = election.leave;
    members.push(member);
    return member;
  };
  return { members, join, leaders: () => members.filter((m) => m.leading && !m.cut) };
}

// The election alone, on its injected clock and timers.
describe("the heartbeat election", () => {
  let timers: ManualTimers;
  beforeEach(() => {
    timers = new ManualTimers();
  });

  it("tabs that join together end with exactly one leader", () => {
    const bus = heartbeatBus(timers);
    bus.join();
    bus.join();
    bus.join();
    timers.advance(SILENCE);
    expect(bus.leaders()).toHaveLength(1);
    timers.advance(10 * SILENCE);
    expect(bus.leaders()).toHaveLength(1);
    for (const m of bus.members) m.leave();
  });

  it("a new tab never unseats the leader", () => {
    const bus = heartbeatBus(timers);
    const first = bus.join();
    timers.advance(SILENCE);
    expect(first.leading).toBe(true);
    for (let i = 0; i < 5; i++) {
      bus.join();
      timers.advance(SILENCE);
      expect(bus.leaders()).toEqual([first]);
    }
    for (const m of bus.members) m.leave();
  });

  it("a leader that leaves hands over at once; one that crashes, after the silence", () => {
    const bus = heartbeatBus(timers);
    const first = bus.join();
    timers.advance(SILENCE);
    bus.join();
    bus.join();
    timers.advance(SILENCE);
    expect(bus.leaders()).toEqual([first]);

    first.leave(); // pagehide: goodbye
    first.cut = true;
    timers.advance(CLAIM_WAIT + 1);
    expect(bus.leaders()).toHaveLength(1);

    const second = bus.leaders()[0]!;
    second.cut = true; // crashed: no goodbye, its heartbeats stop
    timers.advance(SILENCE + HEARTBEAT + CLAIM_WAIT);
    expect(bus.leaders()).toHaveLength(1);
    expect(bus.leaders()[0]).not.toBe(second);
    for (const m of bus.members) m.leave();
  });

  it("two leaders that meet (a partition heals) keep one", () => {
    const bus = heartbeatBus(timers);
    const a = bus.join();
    timers.advance(SILENCE);
    // b joins cut off: it hears nobody and leads too.
    const b = bus.join();
    b.cut = true;
    timers.advance(SILENCE + HEARTBEAT + CLAIM_WAIT);
    expect(a.leading && b.leading).toBe(true);
    b.cut = false;
    timers.advance(2 * HEARTBEAT);
    expect(bus.members.filter((m) => m.leading)).toHaveLength(1);
    for (const m of bus.members) m.leave();
  });
});
