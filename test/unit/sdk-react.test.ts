// @vitest-environment happy-dom
import { act, createElement, StrictMode } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createSoloClient, type SoloClient } from "../../packages/client/src/index.js";
import {
  SoloProvider,
  type SoloSession,
  type SoloSessions,
  useSoloSession,
  useSoloSessions,
} from "../../packages/client/src/react.js";
import type { TabMessage } from "../../packages/client/src/tab-messages.js";
import { error, fakeFetch, fakeTransport, json, passUntil, sessionView, useElectionTimers } from "./sdk-fakes.js";

beforeAll(() => {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
});

let roots: Root[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await act(async () => root.unmount());
  vi.useRealTimers();
});

/** What the probe saw, render after render. */
let seen: SoloSession[] = [];
function Probe() {
  seen.push(useSoloSession());
  return null;
}
function Lost() {
  useSoloSession();
  return null;
}

/** Renders `<SoloProvider client={client}>` with a probe that records every hook result. */
async function render(client: Parameters<typeof SoloProvider>[0]["client"], strict = true) {
  seen = [];
  const tree = createElement(SoloProvider, { client }, createElement(Probe));
  const root = createRoot(document.createElement("div"));
  roots.push(root);
  await act(async () => root.render(strict ? createElement(StrictMode, null, tree) : tree));
  const mine = seen;
  return { seen: mine, last: () => mine.at(-1)!, root };
}

/** A factory of clients with a fake server; records each client and the channels they open. */
function factory(routes: Parameters<typeof fakeFetch>[0]) {
  const made: SoloClient[] = [];
  const transport = fakeTransport();
  const server = fakeFetch(routes);
  const make = () => {
    const client = createSoloClient({
      fetch: server.fetch,
      transport: transport.transport,
      warning: false,
      tabs: false,
    });
    made.push(client);
    return client;
  };
  return { make, made, transport, sent: server.sent };
}

describe("SoloProvider and useSoloSession()", () => {
  it("under StrictMode the double effect leaves one live client and one channel", async () => {
    const f = factory({ "GET /auth/session": () => json(200, { session: sessionView("s1") }) });
    const view = await render(f.make);
    await act(async () => {
      await Promise.all(f.made.map((c) => c.ready));
    });
    // StrictMode mounts, unmounts and mounts again: two clients were made, the first is gone.
    expect(f.made).toHaveLength(2);
    await expect(f.made[0]!.login({})).rejects.toThrow(/destroyed/);
    expect(view.last().client).toBe(f.made[1]);
    expect(view.last().state.status).toBe("active");
    expect(view.last().session?.id).toBe("s1");
    expect(f.transport.channels.filter((c) => !c.closed)).toHaveLength(1);
  });

  it("re-renders on state and connection changes; the actions are the client's", async () => {
    const f = factory({
      "GET /auth/session": () => error("missing_token"),
      "POST /auth/login": () => json(200, { token: "t", session: sessionView("s2"), replaced: [] }),
      "POST /auth/logout": () => new Response(null, { status: 204 }),
    });
    const view = await render(f.make, false);
    // Before the effect made the client: waiting, and the actions reject.
    expect(view.seen[0]?.client).toBeNull();
    expect(view.seen[0]?.state).toEqual({ status: "signing-in", via: "restore" });
    await expect(view.seen[0]!.login({})).rejects.toThrow(/not ready/);

    await act(async () => {
      await f.made[0]!.ready;
    });
    expect(view.last().state.status).toBe("anonymous");
    const actions = view.last();
    await act(async () => {
      await view.last().login({ username: "alice", password: "demo" });
    });
    expect(view.last().session?.id).toBe("s2");
    expect(view.last().connection).toBe("connecting");
    expect(view.last().leader).toBe(true);
    // The actions keep their identity while the client is the same.
    expect(view.last().login).toBe(actions.login);
    expect(view.last().fetch).toBe(actions.fetch);
    await act(async () => f.transport.last().handlers.connected());
    expect(view.last().connection).toBe("connected");
    await act(async () => {
      await view.last().logout();
    });
    expect(view.last().state.status).toBe("anonymous");
    expect(view.last().connection).toBe("idle");
  });

  it("re-renders when this tab stops leading, though its state and connection stay the same", async () => {
    const s1 = sessionView("s1");
    const transport = fakeTransport();
    // With the tabs' election on (no Web Locks in happy-dom: heartbeats over BroadcastChannel, on fake timers).
    useElectionTimers();
    const client = createSoloClient({
      fetch: fakeFetch({ "GET /auth/session": () => json(200, { session: s1 }) }).fetch,
      transport: transport.transport,
      warning: false,
    });
    const rival = new BroadcastChannel(`solo-session ${new URL("/auth", location.href).href}`);
    try {
      const view = await render(client);
      await act(async () => {
        await passUntil(() => expect(client.leader).toBe(true), 3000);
        transport.last().handlers.connected();
      });
      expect([view.last().leader, view.last().connection]).toEqual([true, "connected"]);
      // Another tab leads too, with a higher id (ids are below 1): this one steps down.
      await act(async () => {
        rival.postMessage({ t: "hb", id: 2, lead: true } satisfies TabMessage);
        await passUntil(() => expect(client.leader).toBe(false));
      });
      expect([view.last().leader, view.last().connection, view.last().state.status]).toEqual([
        false,
        "connected",
        "active",
      ]);
    } finally {
      rival.close();
      client.destroy();
    }
  });

  it("a client passed as is belongs to the caller: used at once, not destroyed on unmount", async () => {
    const f = factory({
      "GET /auth/session": () => error("missing_token"),
      "POST /auth/logout": () => error("missing_token"),
    });
    const client = f.make();
    await client.ready;
    const view = await render(client);
    expect(view.seen.every((s) => s.client === client)).toBe(true);
    expect(view.last().state.status).toBe("anonymous");
    await act(async () => view.root.unmount());
    roots = roots.filter((r) => r !== view.root);
    expect(client.state.status).toBe("anonymous");
    await expect(client.logout()).resolves.toBeUndefined();
    client.destroy();
  });

  it("outside a provider the hook says so", async () => {
    const root = createRoot(document.createElement("div"));
    const errors: unknown[] = [];
    const onError = (event: ErrorEvent) => {
      errors.push(event.error);
      event.preventDefault();
    };
    window.addEventListener("error", onError);
    try {
      await expect(act(async () => root.render(createElement(Lost)))).rejects.toThrow(/inside <SoloProvider>/);
    } finally {
      window.removeEventListener("error", onError);
      root.unmount();
    }
  });
});

describe("useSoloSessions()", () => {
  let lists: SoloSessions[] = [];
  function Devices() {
    lists.push(useSoloSessions());
    return null;
  }
  const own = (id: string, current = false) => ({ ...sessionView(id), current });

  it("loads the user's sessions once signed in, ends one or the others and reloads, and is null when signed out", async () => {
    const f = factory({
      "GET /auth/session": () => json(200, { session: sessionView("s1") }),
      "GET /auth/sessions": [
        () => json(200, { sessions: [own("s3"), own("s2"), own("s1", true)] }),
        () => json(200, { sessions: [own("s3"), own("s1", true)] }),
        () => json(200, { sessions: [own("s1", true)] }),
      ],
      "DELETE /auth/sessions/s2": () => new Response(null, { status: 204 }),
      "DELETE /auth/sessions/gone": () => error("not_found"),
      "POST /auth/logout": () => new Response(null, { status: 204 }),
    });
    const client = f.make();
    lists = [];
    const root = createRoot(document.createElement("div"));
    roots.push(root);
    await act(async () => root.render(createElement(SoloProvider, { client }, createElement(Devices))));
    const last = () => lists.at(-1)!;
    await act(async () => {
      await client.ready;
    });
    await vi.waitFor(() => expect(last().sessions?.map((s) => s.id)).toEqual(["s3", "s2", "s1"]));
    expect(last().loading).toBe(false);
    expect(last().sessions?.find((s) => s.current)?.id).toBe("s1");

    await act(async () => last().end("s2"));
    expect(last().sessions?.map((s) => s.id)).toEqual(["s3", "s1"]);
    await act(async () => {
      await expect(last().end("gone")).rejects.toMatchObject({ code: "not_found" });
    });
    expect(last().error).toMatchObject({ code: "not_found" });
    await act(async () => last().endOthers());
    expect(last().sessions?.map((s) => s.id)).toEqual(["s1"]);
    expect(last().error).toBeNull();
    expect(f.sent.map((s) => `${s.method} ${s.path}`)).toContain("POST /auth/logout?scope=others");

    await act(async () => client.logout());
    expect(last().sessions).toBeNull();
  });
});
