import { vi } from "vitest";
import type { Channel, ChannelFactory, ChannelHandlers, ChannelOptions } from "../../client-sdk/channel.js";
import type { Timers } from "../../client-sdk/heartbeat.js";
import type { ErrorBody, ErrorCode, SessionView } from "../../protocol/index.js";
import { ERROR_STATUS } from "../../protocol/index.js";

/** A session as the server would show it. */
export function sessionView(id = "s1", userId = "alice"): SessionView {
  return {
    id,
    userId,
    createdAt: "2025-01-01T10:42:00.000Z",
    lastSeenAt: "2025-01-01T10:42:00.000Z",
    expiresAt: "2025-01-02T10:42:00.000Z",
    device: { name: null, browser: "Chrome 131", os: "Mac OS 10.15.7", ip: "10.0.0.1" },
  };
}

export const FIREFOX_WINDOWS = { name: null, browser: "Firefox 132", os: "Windows 10", ip: "10.0.0.2" };

/** A JSON answer. */
export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** An error answer with the code's status. */
export function error(code: ErrorCode, details: Partial<ErrorBody> = {}): Response {
  return json(ERROR_STATUS[code], { error: code, message: "text for people", ...details });
}

type Route = (request: { url: string; init: RequestInit }) => Response | Promise<Response>;

/** A recorded request. */
export interface Sent {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
}

/**
 * A fetch that answers from a table of routes ("GET /auth/session": handler) and records
 * every request. A route may be a list: each call takes the next answer.
 */
export function fakeFetch(routes: Record<string, Route | Route[]>): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(
      typeof input === "string" ? input : input instanceof URL ? input.href : input.url,
      location.href,
    );
    const method = (init.method ?? "GET").toUpperCase();
    const key = `${method} ${url.pathname}`;
    sent.push({
      method,
      path: url.pathname + url.search,
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? JSON.parse(init.body) : null,
    });
    const route = routes[key];
    const handler = Array.isArray(route) ? route.shift() : route;
    if (!handler) throw new TypeError(`fetch failed: no route for ${key}`);
    return handler({ url: url.href, init });
  };
  return { fetch: fetchImpl as typeof fetch, sent };
}

/** A fake session channel: the test plays the server. */
export interface FakeChannel {
  options: ChannelOptions;
  handlers: ChannelHandlers;
  calls: string[];
  closed: boolean;
}

/** A transport that records the channels the client opens. */
export function fakeTransport(): { transport: ChannelFactory; channels: FakeChannel[]; last(): FakeChannel } {
  const channels: FakeChannel[] = [];
  const transport: ChannelFactory = (options, handlers) => {
    const fake: FakeChannel = { options, handlers, calls: [], closed: false };
    channels.push(fake);
    const channel: Channel = {
      activity: () => fake.calls.push("activity"),
      reconnect: () => fake.calls.push("reconnect"),
      pause: () => fake.calls.push("pause"),
      close: () => {
        fake.calls.push("close");
        fake.closed = true;
      },
    };
    return channel;
  };
  return {
    transport,
    channels,
    last() {
      const channel = channels.at(-1);
      if (!channel) throw new Error("no channel was opened");
      return channel;
    },
  };
}

/** Lets pending promise callbacks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * An in-memory Web Locks `LockManager` (exclusive locks, FIFO, `signal` aborts a waiting
 * request): happy-dom has none. Real Chromium runs the same code in the e2e tests.
 */
export class FakeLocks {
  readonly #waiting = new Map<string, { run: () => void; abort: () => void }[]>();
  readonly #held = new Set<string>();

  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: (lock: { name: string; mode: "exclusive" }) => unknown,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const queue = this.#waiting.get(name) ?? [];
      this.#waiting.set(name, queue);
      const entry = {
        run: () => {
          this.#held.add(name);
          Promise.resolve()
            .then(() => callback({ name, mode: "exclusive" }))
            .then(resolve, reject)
            .finally(() => {
              this.#held.delete(name);
              this.#next(name);
            });
        },
        abort: () => reject(new DOMException("The request was aborted.", "AbortError")),
      };
      options.signal?.addEventListener("abort", () => {
        const at = queue.indexOf(entry);
        if (at === -1) return;
        queue.splice(at, 1);
        entry.abort();
      });
      queue.push(entry);
      this.#next(name);
    });
  }

  /** Whether a lock of that name is held. */
  held(name: string): boolean {
    return this.#held.has(name);
  }

  #next(name: string): void {
    if (this.#held.has(name)) return;
    this.#waiting.get(name)?.shift()?.run();
  }
}

/**
 * The heartbeat election's clock and timers, injected: time moves only by {@link advance},
 * which runs every timer due on the way, in order (timers set meanwhile included).
 */
export class ManualTimers implements Timers {
  #now = 0;
  #made = 0;
  readonly #timers = new Set<{ at: number; period: number; order: number; run: () => void }>();

  now(): number {
    return this.#now;
  }

  after(ms: number, run: () => void): () => void {
    return this.#add(ms, 0, run);
  }

  every(ms: number, run: () => void): () => void {
    if (ms <= 0) throw new RangeError("every(): the period must be above 0");
    return this.#add(ms, ms, run);
  }

  /** Moves the clock `ms` ahead. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: { at: number; period: number; order: number; run: () => void } | undefined;
      for (const timer of this.#timers) {
        if (timer.at <= end && (!next || timer.at < next.at || (timer.at === next.at && timer.order < next.order))) {
          next = timer;
        }
      }
      if (!next) break;
      this.#now = next.at;
      if (next.period > 0) next.at += next.period;
      else this.#timers.delete(next);
      next.run();
    }
    this.#now = end;
  }

  #add(ms: number, period: number, run: () => void): () => void {
    const timer = { at: this.#now + ms, period, order: this.#made++, run };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }
}

/**
 * Fake timers for the tests of tabs without Web Locks through the real client: the
 * election's timers and `Date` are fake; the tabs' messages (Node's BroadcastChannel),
 * `setImmediate` and promises stay real. Undo with `vi.useRealTimers()`.
 */
export function useElectionTimers(): void {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
}

/** One turn of the real event loop: the tabs' messages posted so far are delivered. */
async function turn(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * With {@link useElectionTimers}: moves the fake clock `ms` ahead, `step` ms at a time, and
 * lets the tabs' messages through between steps.
 */
export async function pass(ms: number, step = 10): Promise<void> {
  for (let passed = 0; passed < ms; passed += step) {
    await vi.advanceTimersByTimeAsync(Math.min(step, ms - passed));
    await turn();
  }
}

/**
 * With {@link useElectionTimers}: moves the fake clock ahead, as {@link pass} does, until
 * `check` passes; throws `check`'s error once `limit` ms of fake time went by.
 */
export async function passUntil(check: () => void, limit = 5000, step = 10): Promise<void> {
  for (let passed = 0; ; passed += step) {
    await turn();
    try {
      check();
      return;
    } catch (error) {
      if (passed >= limit) throw error;
    }
    await vi.advanceTimersByTimeAsync(step);
  }
}
