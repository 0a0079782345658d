/**
 * Reconciliation, the backstop for whatever the ends stream and the adapter miss (a reader
 * further behind than the stream's cap, an end written by something else, writes a failover
 * lost): the node re-checks its own sockets against the store after any of its Redis
 * connections comes back, when its reader fell behind or read again after failing, and every
 * `reconcileInterval` ms.
 *
 * @module
 */

import type { Logger } from "pino";
import { isCluster, type RedisClient } from "../../store/redis/connection.js";

/** After a reconnect, a failed reconcile (Redis still loading, say) is retried this often, in ms. */
const RETRY = 1000;

/** Why a pass runs (logged with it). */
export type ReconcileReason = "timer" | "reconnect" | "behind" | "manual";

/** Runs reconcile passes for one node: never two at once, on a timer and after reconnects. */
export class Reconciler {
  readonly #pass: () => Promise<number>;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;
  readonly #cleanup: (() => void)[] = [];

  /** `pass` re-checks this node's sockets against the store and returns how many it revoked. */
  constructor(pass: () => Promise<number>, logger: Logger) {
    this.#pass = pass;
    this.#logger = logger;
  }

  /** Runs a pass every `interval` ms until closed. */
  every(interval: number): void {
    this.#timer = setInterval(() => this.reconcile("timer"), interval);
    this.#timer.unref();
  }

  /**
   * Runs one pass now (passes never overlap; a request during a pass runs one more after it).
   * Resolves when done; never rejects.
   */
  reconcile(why: ReconcileReason = "manual"): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    if (this.#closed) return Promise.resolve();
    this.#running = (async () => {
      try {
        const revoked = await this.#pass();
        if (revoked > 0 || why === "reconnect") this.#logger.info({ revoked, why }, "reconciled sockets");
      } catch (error) {
        this.#logger.warn({ err: error, why }, "reconcile failed");
        if (why === "reconnect") this.#scheduleRetry();
      } finally {
        this.#running = null;
      }
      if (this.#again) {
        this.#again = false;
        await this.reconcile(why);
      }
    })();
    return this.#running;
  }

  /**
   * Logs a connection's outages once and reconciles when it is ready again. For the
   * `subscriber`, a PING answered first means the resubscriptions ioredis just sent are in
   * place: anything published from then on arrives, and the pass sees the rest.
   *
   * A cluster client stays ready while one shard is down: there, the loss of a node's
   * connection starts passes (retried every second while they fail, i.e. while some socket's
   * session is on a shard still failing over), and the subscriber's passes wait until its
   * sharded subscribers are back (`#watchNodes`).
   */
  watch(name: string, connection: RedisClient, subscriber = false): void {
    if (isCluster(connection)) this.#watchNodes(name, connection, subscriber);
    let lost = false;
    const onClose = () => {
      if (lost || this.#closed) return;
      lost = true;
      this.#logger.warn({ connection: name }, "redis connection lost; logins answer 503 until it is back");
    };
    const onReady = () => {
      if (!lost || this.#closed) return;
      lost = false;
      this.#logger.info({ connection: name }, "redis connection restored");
      const settled = subscriber ? connection.ping().then(() => undefined) : Promise.resolve();
      settled.then(
        () => this.reconcile("reconnect"),
        () => this.#scheduleRetry(),
      );
    };
    connection.on("close", onClose);
    connection.on("ready", onReady);
    this.#cleanup.push(() => {
      connection.off("close", onClose);
      connection.off("ready", onReady);
    });
  }

  /**
   * A cluster node's connection ended (the node died, or left the slot map): a pass starts at
   * once and is retried every second until one succeeds. A pass reads every socket's session
   * from its slot's primary, so it cannot succeed before the shards holding them have failed
   * over; ends announced while the ends stream's shard was down are covered by the ends
   * reader's re-check when it reads again. The subscriber waits for `subscribersReady`: its
   * resubscriptions are in place.
   */
  #watchNodes(name: string, connection: RedisClient, subscriber: boolean): void {
    let waiting = false;
    const onNodeLost = (_node: unknown, key: unknown) => {
      if (this.#closed) return;
      this.#logger.warn({ connection: name, node: key }, "redis node lost; its slots answer 503 until they fail over");
      if (subscriber) waiting = true;
      else void this.reconcile("reconnect");
    };
    const onSubscribersReady = () => {
      if (!waiting || this.#closed) return;
      waiting = false;
      void this.reconcile("reconnect");
    };
    connection.on("-node", onNodeLost);
    connection.on("subscribersReady", onSubscribersReady);
    this.#cleanup.push(() => {
      connection.off("-node", onNodeLost);
      connection.off("subscribersReady", onSubscribersReady);
    });
  }

  /** Stops the timer and the watching; resolves when a pass in flight is done. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#retry) clearTimeout(this.#retry);
    for (const undo of this.#cleanup.splice(0)) undo();
    await this.#running;
  }

  #scheduleRetry(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.reconcile("reconnect");
    }, RETRY);
    this.#retry.unref();
  }
}
