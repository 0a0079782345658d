/**
 * The ends reader: every node follows the store's ends stream (`XREAD BLOCK` from the last id
 * it read, on a connection of its own) and tells its sockets of every session that ended
 * anywhere. The stream is written by the commit itself, so a notice survives a lost publish
 * and the ending node dying right after its commit; after a reconnect the reader resumes from
 * its last id, so nothing written meanwhile is missed (within the stream's length cap).
 *
 * @module
 */

import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { type EndEntry, parseEndEntry } from "../../store/redis/codec.js";
import { waitReady } from "../../store/redis/connection.js";

/** The reader waits this long for new entries per XREAD (ms); an answer is due this much plus the command timeout later. */
const READ_BLOCK = 5000;
/** Entries read per XREAD; a full batch means this node is behind, and it checks that it lost none. */
const READ_COUNT = 500;
/** While the connection is down, the reader looks again this often (or as soon as it is ready), in ms. */
const PAUSE = 1000;

/** What the reader does with what it reads. */
export interface EndsListener {
  /** A session ended somewhere (this node's own ends included: a repeat is harmless). */
  ended(entry: EndEntry): void;
  /** The stream's cap trimmed entries this node never read: its sockets need a re-check. */
  behind(): void;
}

/** Follows the ends stream on a connection of its own. */
export class EndsReader {
  /** The reader's connection. */
  readonly connection: Redis;
  readonly #endsKey: string;
  /** Id of the last ends-stream entry read. */
  #lastId: string;
  #following: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #closed = false;

  private constructor(connection: Redis, endsKey: string, lastId: string) {
    this.connection = connection;
    this.#endsKey = endsKey;
    this.#lastId = lastId;
  }

  /**
   * Opens the reader's connection as a copy of `client` and starts after the newest entry:
   * this node has no sockets yet, nothing older concerns it. Rejects with `store_unavailable`
   * if Redis cannot be reached in 10 s.
   */
  static async open(client: Redis, endsKey: string, channelPrefix: string): Promise<EndsReader> {
    const connection = client.duplicate({
      connectionName: `${channelPrefix}:ends`,
      commandTimeout: READ_BLOCK + (client.options.commandTimeout ?? 0),
    });
    connection.on("error", () => {});
    try {
      await waitReady(connection, 10_000);
      const newest = await connection.xrevrange(endsKey, "+", "-", "COUNT", 1);
      return new EndsReader(connection, endsKey, newest[0]?.[0] ?? "0-0");
    } catch (error) {
      connection.disconnect(false);
      throw error;
    }
  }

  /** Starts following the stream until {@link EndsReader.close}. */
  start(listener: EndsListener, logger: Logger): void {
    this.#following ??= this.#follow(listener, logger);
  }

  /** Stops following and cuts the connection (a blocked XREAD would hold a polite QUIT for up to READ_BLOCK). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    this.connection.disconnect(false);
    await this.#following;
  }

  /** Reads until closed; resumes from the last id after any failure or reconnect. */
  async #follow(listener: EndsListener, logger: Logger): Promise<void> {
    const reader = this.connection;
    while (!this.#closed) {
      if (reader.status !== "ready") {
        await this.#pause();
        continue;
      }
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await reader.xread(
          "COUNT",
          READ_COUNT,
          "BLOCK",
          READ_BLOCK,
          "STREAMS",
          this.#endsKey,
          this.#lastId,
        )) as [string, [string, string[]][]][] | null;
      } catch (error) {
        if (this.#closed) return;
        if (reader.status === "ready") {
          // No answer in time on a connection that looks fine (a dead peer?), or an error reply:
          // start over on a fresh connection rather than spin.
          logger.warn({ err: error }, "ends stream read failed; reconnecting the reader");
          reader.disconnect(true);
        }
        await this.#pause();
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      for (const [id, fields] of entries) {
        this.#lastId = id;
        const entry = parseEndEntry(id, fields);
        if (!entry) continue;
        try {
          listener.ended(entry);
        } catch (error) {
          logger.error({ err: error }, "applying an ended session failed");
        }
      }
      if (entries.length >= READ_COUNT && (await this.#lostSome())) listener.behind();
    }
  }

  /**
   * After a full batch: true if the oldest entry left in the stream is newer than the last one
   * read, i.e. the cap trimmed entries this node never read.
   */
  async #lostSome(): Promise<boolean> {
    try {
      const oldest = await this.connection.xrange(this.#endsKey, "-", "+", "COUNT", 1);
      const first = oldest[0]?.[0];
      return first !== undefined && compareIds(first, this.#lastId) > 0;
    } catch {
      // The next read fails the same way and is handled there.
      return false;
    }
  }

  /** Waits until the connection is ready again (or a second, or close). */
  #pause(): Promise<void> {
    const connection = this.connection;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        connection.off("ready", done);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, PAUSE);
      connection.once("ready", done);
      this.#wake = done;
    });
  }
}

/** Orders two stream ids (`<ms>-<seq>`). */
function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am - bm || as - bs;
}
