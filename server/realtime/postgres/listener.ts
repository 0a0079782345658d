/**
 * The listening connection: one dedicated PostgreSQL connection per node that `LISTEN`s on the
 * store's ends channel, and reconnects (and listens again) whenever it is lost. Notifications
 * carry nothing: each one only says "read the ends table now".
 *
 * @module
 */

import pg from "pg";
import type { Logger } from "pino";

/** First pause before reconnecting, in ms; it doubles up to {@link MAX_PAUSE}. */
const FIRST_PAUSE = 100;
/** Longest pause between two reconnection attempts, in ms. */
const MAX_PAUSE = 1000;
/** How long one connection attempt may take, in ms. */
const CONNECT_TIMEOUT = 5000;

/** What the listener reports. */
export interface ListenerEvents {
  /** A notification arrived on the channel. */
  notified(): void;
  /**
   * The connection listens (again): anything committed from now on is notified. Called after
   * every reconnect, not after the first connection.
   */
  restored(): void;
  /** The connection was lost; it is being re-established. */
  lost(): void;
}

/** One `LISTEN` connection that keeps itself connected until closed. */
export class EndsListener {
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  readonly #logger: Logger;
  #events: ListenerEvents | null = null;
  #client: pg.Client | null = null;
  #listening = false;
  #pause = FIRST_PAUSE;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(config: pg.ClientConfig, channel: string, logger: Logger) {
    this.#config = config;
    this.#channel = channel;
    this.#logger = logger;
  }

  /**
   * Connects and listens on `channel`, with the store's connection settings and an
   * `application_name` of its own (so operators can tell it in `pg_stat_activity`). Rejects if
   * the first connection fails.
   */
  static async open(
    config: pg.ClientConfig,
    channel: string,
    applicationName: string,
    logger: Logger,
  ): Promise<EndsListener> {
    const listener = new EndsListener(
      {
        ...config,
        application_name: applicationName.slice(0, 63),
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        connectionTimeoutMillis: CONNECT_TIMEOUT,
        // LISTEN waits on nothing: a statement timeout would only cut the connection.
        statement_timeout: false,
      },
      channel,
      logger,
    );
    try {
      await listener.#connect();
    } catch (error) {
      await listener.close();
      throw error;
    }
    return listener;
  }

  /** True while the connection listens. */
  get up(): boolean {
    return this.#listening;
  }

  /** Starts reporting notifications and reconnections to `events`. */
  start(events: ListenerEvents): void {
    this.#events = events;
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const client = this.#client;
    this.#client = null;
    this.#listening = false;
    await client?.end().catch(() => undefined);
  }

  /** One connection: connect, LISTEN, then watch it until it ends. */
  async #connect(): Promise<void> {
    const client = new pg.Client(this.#config);
    let dropped = false;
    const drop = (error?: Error) => {
      if (dropped) return;
      dropped = true;
      if (this.#client === client) this.#client = null;
      const was = this.#listening;
      this.#listening = false;
      client.end().catch(() => undefined);
      if (this.#closed) return;
      if (was) {
        this.#logger.warn(
          { err: error },
          "postgres listening connection lost; reading the ends table on the timer meanwhile",
        );
        this.#events?.lost();
      }
      this.#schedule();
    };
    client.on("error", (error) => drop(error));
    client.on("end", () => drop());
    client.on("notification", (message) => {
      if (message.channel === this.#channel) this.#events?.notified();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.#channel)}`);
    } catch (error) {
      drop(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    if (dropped || this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#listening = true;
    this.#pause = FIRST_PAUSE;
  }

  /** Tries again after a pause that doubles up to a second. */
  #schedule(): void {
    if (this.#timer || this.#closed) return;
    const pause = this.#pause;
    this.#pause = Math.min(MAX_PAUSE, pause * 2);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#connect().then(
        () => {
          if (this.#listening) {
            this.#logger.info("postgres listening connection restored");
            this.#events?.restored();
          }
        },
        () => undefined, // #connect scheduled the next attempt
      );
    }, pause);
    this.#timer.unref();
  }
}
