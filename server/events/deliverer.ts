/**
 * Delivers the store's outbox of session events to the receivers: at least once, each
 * receiver's events in order, retried with exponential backoff and jitter, dead-lettered after
 * the last attempt. Runs beside the request path: nothing a receiver does delays a login or a kick.
 *
 * @module
 */

import { EventEmitter } from "node:events";
import type { JWTPayload } from "jose";
import type { EventOutbox, OutboxEvent } from "../store/types.js";
import { eventClaims } from "./event-tokens.js";
import type { DeliveryOptions, Receiver } from "./receivers.js";

/** What became of one attempt. `skipped`: the receiver does not want this reason. */
export type DeliveryOutcome = "delivered" | "retry" | "dead" | "skipped";

/** Events of the {@link EventDeliverer}, for metrics and logs. */
export interface DelivererEvents {
  /** One attempt; `seconds` from the session's end to now (for `delivered`, the delivery latency). */
  attempt: [receiver: string, outcome: DeliveryOutcome, seconds: number, event: OutboxEvent, error: string | null];
  /** A pass failed (the store could not be reached); the next pass tries again. */
  error: [error: unknown];
}

/** What the deliverer needs. */
export interface DelivererOptions extends Required<DeliveryOptions> {
  issuer: string;
  /** This node's id: the owner of its leases. */
  node: string;
  clock: () => number;
  /** Signs claims under a `typ` with the server's current key. */
  sign: (claims: JWTPayload, typ: string) => Promise<string>;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** A number in [0, 1) for the jitter. @default Math.random */
  random?: () => number;
}

/**
 * The delivery worker of one node. {@link wake} after an end on this node; it also looks for
 * due events every `pollInterval` (retries, and ends committed by other nodes).
 */
export class EventDeliverer extends EventEmitter<DelivererEvents> {
  readonly #outbox: EventOutbox;
  readonly #receivers: ReadonlyMap<string, Receiver>;
  readonly #options: DelivererOptions;
  readonly #fetch: typeof fetch;
  readonly #random: () => number;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  readonly #inflight = new Set<Promise<void>>();
  #again = false;
  #closed = false;

  constructor(outbox: EventOutbox, receivers: readonly Receiver[], options: DelivererOptions) {
    super();
    this.#outbox = outbox;
    this.#receivers = new Map(receivers.map((r) => [r.id, r]));
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#random = options.random ?? Math.random;
  }

  /** Starts polling (and delivers what is due now). */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => this.wake(), this.#options.pollInterval);
    this.#timer.unref();
    this.wake();
  }

  /** Runs a pass soon; a pass already running runs once more after it. */
  wake(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#drain())
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Resolves when no pass and no attempt is running (including the ones they started). */
  async idle(): Promise<void> {
    while (this.#running || this.#inflight.size > 0) {
      await Promise.all([this.#running, ...this.#inflight]);
    }
  }

  /**
   * One pass: leases each receiver's next due event and starts sending it. A receiver's next
   * event is leased when its current one is done (each attempt wakes the deliverer again), so a
   * slow receiver holds up only its own line. Returns the attempts started. Call it directly in
   * tests with an injected clock, then {@link idle}.
   */
  async pass(): Promise<number> {
    if (this.#closed) return 0;
    const now = this.#options.clock();
    const leased = await this.#outbox.lease(this.#options.node, now, now + this.#options.leaseTime);
    for (const event of leased) {
      const attempt: Promise<void> = this.#attempt(event)
        .catch((error: unknown) => {
          if (!this.#closed) this.emit("error", error);
        })
        .finally(() => {
          this.#inflight.delete(attempt);
          this.wake();
        });
      this.#inflight.add(attempt);
    }
    return leased.length;
  }

  /** Stops polling and abandons attempts in flight (their leases run out; another node or a restart retries them). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#abort.abort();
    await Promise.all([this.#running, ...this.#inflight]);
  }

  async #drain(): Promise<void> {
    try {
      await this.pass();
    } catch (error) {
      if (!this.#closed) this.emit("error", error);
    }
  }

  async #attempt(event: OutboxEvent): Promise<void> {
    const receiver = this.#receivers.get(event.receiver);
    const owner = this.#options.node;
    if (!receiver) return; // a receiver no longer configured: its events stay for the admin API
    if (!receiver.events.has(event.end.reason)) {
      await this.#outbox.delivered(event.id, owner);
      this.#report(receiver, "skipped", event, null);
      return;
    }
    const error = await this.#send(receiver, event);
    if (this.#closed) return;
    if (error === null) {
      await this.#outbox.delivered(event.id, owner);
      this.#report(receiver, "delivered", event, null);
      return;
    }
    const attempts = event.attempts + 1;
    const dead = attempts >= this.#options.maxAttempts || isPermanent(error);
    const nextAt = this.#options.clock() + this.#backoff(attempts);
    await this.#outbox.failed(event.id, owner, { nextAt, dead, error });
    this.#report(receiver, dead ? "dead" : "retry", event, error);
  }

  /** Sends one event; null when the receiver took it, else what went wrong. */
  async #send(receiver: Receiver, event: OutboxEvent): Promise<string | null> {
    const { typ, claims } = eventClaims(receiver.format, event, {
      issuer: this.#options.issuer,
      audience: receiver.audience,
      now: this.#options.clock(),
    });
    const token = await this.#options.sign(claims as unknown as JWTPayload, typ);
    const request: RequestInit =
      receiver.format === "backchannel-logout"
        ? {
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ logout_token: token }).toString(),
          }
        : { headers: { "content-type": "application/secevent+jwt", accept: "application/json" }, body: token };
    try {
      const response = await this.#fetch(receiver.url, {
        ...request,
        method: "POST",
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(this.#options.timeout), this.#abort.signal]),
      });
      await response.body?.cancel().catch(() => {});
      return response.status >= 200 && response.status < 300 ? null : `http_${response.status}`;
    } catch (error) {
      return error instanceof Error && error.name === "TimeoutError" ? "timeout" : "network";
    }
  }

  /** The delay before attempt `attempts + 1`: doubling from `retryBase`, capped, with equal jitter. */
  #backoff(attempts: number): number {
    const { retryBase, retryMax } = this.#options;
    const ceiling = Math.min(retryMax, retryBase * 2 ** Math.min(attempts - 1, 30));
    return Math.round(ceiling / 2 + (ceiling / 2) * this.#random());
  }

  #report(receiver: Receiver, outcome: DeliveryOutcome, event: OutboxEvent, error: string | null): void {
    const seconds = Math.max(0, this.#options.clock() - event.end.at) / 1000;
    this.emit("attempt", receiver.id, outcome, seconds, event, error);
  }
}

/**
 * A refusal that retrying will not change: a 4xx other than 408 (timeout), 425 (too early) and
 * 429 (too many requests). RFC 8935 receivers answer 400 with an error code for a SET they reject.
 */
function isPermanent(error: string): boolean {
  const status = Number(error.startsWith("http_") ? error.slice(5) : Number.NaN);
  return status >= 400 && status < 500 && status !== 408 && status !== 425 && status !== 429;
}
