import type { RequestHandler } from "express";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { DELIVERY_STATUSES, type ErrorCode, REVOCATION_REASONS } from "../../protocol/index.js";
import type { EventDeliverer } from "../events/deliverer.js";
import type { SessionService } from "../sessions/service.js";
import type { DeliveryStatus } from "../store/types.js";
import { DISPUTE_OUTCOMES, type DisputeOutcome } from "./dispute-outcome.js";
import { LOGIN_OUTCOMES, type LoginOutcome } from "./login-outcome.js";

/** Where the gauges read their values at scrape time. */
export interface MetricsSources {
  /** Live sessions in the store (all nodes). */
  sessionsLive: () => Promise<number>;
  /** Sockets connected to this node's session channel. */
  socketsConnected: () => number;
  /**
   * With the Redis store: whether every Redis connection this node needs is ready, read at
   * each scrape (`solo_redis_up`). Absent: the series is not exported.
   */
  redisUp?: () => boolean;
  /**
   * With the PostgreSQL store: whether this node hears every end (its listening connection,
   * its reads of the ends table, the adapter's connections), read at each scrape
   * (`solo_postgres_up`). Absent: the series is not exported.
   */
  postgresUp?: () => boolean;
  /** Told when a source fails during a scrape (the gauge keeps its last value). */
  onError: (error: unknown) => void;
}

/** The statuses a notice reaches after it was sent (`pending` is where every notice starts). */
const NOTICE_STATUSES = DELIVERY_STATUSES.filter((s): s is Exclude<DeliveryStatus, "pending"> => s !== "pending");

/** Default process metrics (CPU, memory, event loop, GC) are process-wide: one set per process. */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * The Prometheus metrics of one solo-session server. Its `solo_*` series live in their own
 * registry (not prom-client's global one), so several servers in one process do not collide;
 * the default process metrics are added when scraped through {@link Metrics.handler}.
 *
 * @example
 * ```ts
 * const metrics = new Metrics({ sessionsLive: () => store.countLive(), socketsConnected: () => 0, onError: console.warn });
 * metrics.observe(service);
 * app.get("/metrics", metrics.handler());
 * ```
 */
export class Metrics {
  /** The `solo_*` series only; merge it into your own registry if you already export process metrics. */
  readonly registry = new Registry();
  readonly #logins: Counter<"outcome">;
  readonly #kicks: Counter<"reason">;
  readonly #notices: Counter<"status">;
  readonly #deliverySeconds: Histogram;
  readonly #storeSeconds: Histogram<"op">;
  readonly #rejected: Counter<"code">;
  readonly #disputes: Counter<"outcome">;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    new Gauge({
      name: "solo_sessions_live",
      help: "Live sessions in the store (all nodes).",
      registers,
      async collect() {
        try {
          this.set(await sources.sessionsLive());
        } catch (error) {
          sources.onError(error);
        }
      },
    });
    new Gauge({
      name: "solo_sockets_connected",
      help: "Sockets connected to this node's /session channel.",
      registers,
      collect() {
        this.set(sources.socketsConnected());
      },
    });
    this.#logins = new Counter({
      name: "solo_logins_total",
      help: "Login attempts by outcome.",
      labelNames: ["outcome"],
      registers,
    });
    for (const outcome of LOGIN_OUTCOMES) this.#logins.inc({ outcome }, 0);
    this.#kicks = new Counter({
      name: "solo_kicks_total",
      help: "Sessions ended, by reason (logout is the user's own; the others are kicks).",
      labelNames: ["reason"],
      registers,
    });
    for (const reason of REVOCATION_REASONS) this.#kicks.inc({ reason }, 0);
    this.#notices = new Counter({
      name: "solo_revocation_notices_total",
      help: "session:revoked notices by how far they got: delivered (sent to a live socket or shown on next contact), acknowledged.",
      labelNames: ["status"],
      registers,
    });
    for (const status of NOTICE_STATUSES) this.#notices.inc({ status }, 0);
    this.#deliverySeconds = new Histogram({
      name: "solo_kick_delivery_seconds",
      help: "Time from emitting session:revoked to the device's acknowledgement.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#storeSeconds = new Histogram({
      name: "solo_store_operation_seconds",
      help: "Duration of session store operations.",
      labelNames: ["op"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    const redisUp = sources.redisUp;
    if (redisUp) {
      new Gauge({
        name: "solo_redis_up",
        help: "1 when every Redis connection of this node (store, ends reader, publisher, subscriber) is ready, 0 otherwise.",
        registers,
        collect() {
          this.set(redisUp() ? 1 : 0);
        },
      });
    }
    const postgresUp = sources.postgresUp;
    if (postgresUp) {
      new Gauge({
        name: "solo_postgres_up",
        help: "1 when this node hears every end: its listening connection listens, its last read of the ends table succeeded, and the adapter's connections are up; 0 otherwise.",
        registers,
        collect() {
          this.set(postgresUp() ? 1 : 0);
        },
      });
    }
    this.#rejected = new Counter({
      name: "solo_requests_rejected_total",
      help: "Requests and handshakes refused by the session check, by error code.",
      labelNames: ["code"],
      registers,
    });
    this.#disputes = new Counter({
      name: "solo_disputes_total",
      help: 'Disputes of a replacement ("This wasn\'t me", POST /auth/dispute) by outcome: accepted, invalid, refused, rate_limited, error.',
      labelNames: ["outcome"],
      registers,
    });
    for (const outcome of DISPUTE_OUTCOMES) this.#disputes.inc({ outcome }, 0);
  }

  /** Counts what the session service reports: ended sessions, notice delivery, refused checks. */
  observe(service: SessionService): void {
    service.on("ended", (session) => {
      if (session.ended) this.#kicks.inc({ reason: session.ended.reason });
    });
    service.on("delivery", (_sessionId, status, seconds) => {
      if (status === "pending") return;
      this.#notices.inc({ status });
      if (status === "acknowledged" && seconds !== null) this.#deliverySeconds.observe(seconds);
    });
    service.on("rejected", (code: ErrorCode) => this.#rejected.inc({ code }));
  }

  /**
   * Counts the session events told to receivers (`solo_receiver_deliveries_total{receiver,
   * outcome}`), times them from the session's end to the receiver's answer
   * (`solo_receiver_delivery_seconds{receiver}`), and reads the outbox depth at scrape time
   * (`solo_outbox_depth`).
   */
  observeDeliveries(deliverer: EventDeliverer, depth: () => Promise<number>, onError: (error: unknown) => void): void {
    const registers = [this.registry];
    const deliveries = new Counter({
      name: "solo_receiver_deliveries_total",
      help: "Attempts at telling a receiver of an ended session, by outcome: delivered, retry, dead (given up), skipped (a reason it does not want).",
      labelNames: ["receiver", "outcome"],
      registers,
    });
    const seconds = new Histogram({
      name: "solo_receiver_delivery_seconds",
      help: "Time from a session's end to its receiver accepting the event.",
      labelNames: ["receiver"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    new Gauge({
      name: "solo_outbox_depth",
      help: "Session events waiting to be delivered to receivers (all nodes).",
      registers,
      async collect() {
        try {
          this.set(await depth());
        } catch (error) {
          onError(error);
        }
      },
    });
    deliverer.on("attempt", (receiver, outcome, latency) => {
      deliveries.inc({ receiver, outcome });
      if (outcome === "delivered") seconds.observe({ receiver }, latency);
    });
  }

  /** Counts a login attempt. */
  login(outcome: LoginOutcome): void {
    this.#logins.inc({ outcome });
  }

  /** Counts an answered dispute. */
  dispute(outcome: DisputeOutcome): void {
    this.#disputes.inc({ outcome });
  }

  /** Starts timing a store operation; call the result when it settles. */
  storeOperation(op: string): () => void {
    const end = this.#storeSeconds.startTimer({ op });
    return () => {
      end();
    };
  }

  /** The exposition text: default process metrics, then the `solo_*` series. */
  async render(): Promise<string> {
    return (await processMetrics().metrics()) + (await this.registry.metrics());
  }

  /** The `GET /metrics` handler (Prometheus text format). */
  handler(): RequestHandler {
    return async (_req, res) => {
      const body = await this.render();
      res.set("Content-Type", this.registry.contentType);
      res.set("Cache-Control", "no-store");
      res.send(body);
    };
  }
}
