import type { Logger } from "pino";
import { RedisStore } from "../store/redis/store.js";
import type { SessionStore } from "../store/types.js";
import { openScaleOut, type Reconcilable, type RedisCluster } from "./redis/scale-out.js";
import type { SoloIo } from "./types.js";

/** The scale-out settings of the options (the Redis adapter and reconciliation). */
interface ScaleOutOptions {
  adapter: boolean | "sharded" | "classic";
  keyPrefix: string;
  reconcileInterval: number;
}

/**
 * The scale-out a store brings (today: Redis's ends reader, adapter and reconciliation), opened
 * in the background once the store is ready, so that a server can be created synchronously:
 * `install` takes effect as soon as it is open, `close` closes it whenever it opens.
 *
 * @example
 * ```ts
 * const scaleOut = new ScaleOut(store, options.redis, logger, store.ready?.());
 * scaleOut.install(io, realtime);     // now, or once open
 * await scaleOut.ready;               // open (or nothing to open)
 * ```
 */
export class ScaleOut {
  /** Resolves once open (at once when the store needs none); rejects when it cannot be opened. */
  readonly ready: Promise<void>;
  /** True when the store shares state across nodes through Redis (the `solo_redis_up` gauge applies). */
  readonly redis: boolean;
  #cluster: RedisCluster | null = null;
  #install: { io: SoloIo; target: Reconcilable } | null = null;
  #closed = false;

  constructor(
    store: SessionStore,
    options: ScaleOutOptions,
    logger: Logger,
    after: Promise<unknown> = Promise.resolve(),
  ) {
    this.redis = store instanceof RedisStore;
    this.ready = after
      .then(() => openScaleOut(store, options, logger))
      .then(async (cluster) => {
        if (this.#closed) {
          await cluster?.close();
          return;
        }
        this.#cluster = cluster;
        if (cluster && this.#install) cluster.install(this.#install.io, this.#install.target);
      });
    this.ready.catch(() => {}); // reported through `ready` by its owner
  }

  /** Whether every connection of the scale-out is ready (false until it is open). */
  get up(): boolean {
    return this.#cluster?.up ?? false;
  }

  /** Installs the adapter and reconciliation on `io` for `target`, now or once open. */
  install(io: SoloIo, target: Reconcilable): void {
    this.#install = { io, target };
    this.#cluster?.install(io, target);
  }

  /** Closes the scale-out's connections (now, or as soon as they open). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#cluster?.close();
  }
}
