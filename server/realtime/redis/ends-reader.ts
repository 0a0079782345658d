/**
 * The ends reader: every node follows the store's ends stream (`XREAD BLOCK` from the last id
 * it read, on a connection of its own) and tells its sockets of every session that ended
 * anywhere. The stream is written by the commit itself, so a notice survives a lost publish
 * and the ending node dying right after its commit; after a reconnect the reader resumes from
 * its last id, so nothing written meanwhile is missed (within the stream's length cap).
 *
 * After a failover of the stream's primary (Sentinel, or the `{g}` shard of a cluster), the new
 * primary may lack the newest entries this reader saw (replication is asynchronous), and its
 * clock may be behind: the reader then resumes from the new primary's newest entry instead, and
 * asks for a re-check of this node's sockets, which covers whatever that failover lost.
 *
 * @module
 */

import type { Logger } from "pino";
import { type EndEntry, parseEndEntry } from "../../store/redis/codec.js";
import { type RedisClient, type RedisConnections, waitReady } from "../../store/redis/connection.js";

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
  /**
   * This node may have missed ends: the stream's cap trimmed entries it never read, or it read
   * again after failing (an outage, a failover that may have lost entries). Its sockets need a
   * re-check.
   */
  behind(why: "trimmed" | "resumed"): void;
}

/** Follows the ends stream on a connection of its own. */
export class EndsReader {
  /** The reader's connection. */
  readonly connection: RedisClient;
  readonly #endsKey: string;
  /** Id of the last ends-stream entry read. */
  #lastId: string;
  #following: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #closed = false;

  private constructor(connection: RedisClient, endsKey: string, lastId: string) {
    this.connection = connection;
    this.#endsKey = endsKey;
    this.#lastId = lastId;
  }

  /**
   * Opens the reader's connection and starts after the newest entry: this node has no sockets
   * yet, nothing older concerns it. Rejects with `store_unavailable` if Redis cannot be reached
   * in 10 s.
   */
  static async open(connections: RedisConnections, endsKey: string): Promise<EndsReader> {
    const connection = connections.open("ends", { commandTimeout: READ_BLOCK + connections.commandTimeout });
    connection.on("error", () => {});
    try {
      await waitReady(connection, 10_000);
      return new EndsReader(connection, endsKey, (await newestId(connection, endsKey)) ?? "0-0");
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
    let failed = false;
    while (!this.#closed) {
      if (reader.status !== "ready") {
        failed = true;
        await this.#pause();
        continue;
      }
      let reply: [string, [string, string[]][]][] | null;
      try {
        if (failed) await this.#resume(listener);
        failed = false;
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
        failed = true;
        if (reader.status === "ready" && /timed out/i.test((error as Error).message)) {
          // No answer in time on a connection that looks fine (a dead peer?): start over on a
          // fresh connection.
          logger.warn({ err: error }, "ends stream read timed out; reconnecting the reader");
          reader.disconnect(true);
        } else {
          logger.debug({ err: error }, "ends stream read failed; trying again");
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
      if (entries.length >= READ_COUNT && (await this.#lostSome())) listener.behind("trimmed");
    }
  }

  /**
   * Before the first read after a failure: if the stream's newest entry is older than the last
   * one read (a failover lost the newest entries, or the new primary's clock is behind), goes
   * back to it, so that nothing appended from now on has an id this reader would skip. Then
   * asks for a re-check of the sockets, for the ends written while it could not read.
   */
  async #resume(listener: EndsListener): Promise<void> {
    const newest = await newestId(this.connection, this.#endsKey);
    if (newest === null || compareIds(newest, this.#lastId) < 0) this.#lastId = newest ?? "0-0";
    listener.behind("resumed");
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

/** The id of the stream's newest entry, null when it is empty. */
async function newestId(connection: RedisClient, key: string): Promise<string | null> {
  const newest = await connection.xrevrange(key, "+", "-", "COUNT", 1);
  return newest[0]?.[0] ?? null;
}

/** Orders two stream ids (`<ms>-<seq>`). */
function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am - bm || as - bs;
}
