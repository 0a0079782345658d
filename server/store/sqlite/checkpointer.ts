/**
 * The SQLite checkpointer: its own connection in a worker thread, so that the checkpoint's
 * writes and fsync never stall a commit on the event loop (they put 10 ms on the p99 of a
 * claim).
 *
 * @module
 */

import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

const WORKER = `
const { workerData, parentPort } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma("busy_timeout = 1000");
const checkpoint = (mode) => { try { db.pragma("wal_checkpoint(" + mode + ")"); } catch {} };
const timer = setInterval(() => checkpoint("PASSIVE"), workerData.interval);
parentPort.on("message", () => { clearInterval(timer); checkpoint("PASSIVE"); db.close(); parentPort.close(); });
`;

/**
 * The WAL size (pages, about 200 MB) at which the committing thread checkpoints anyway: a
 * backstop if the worker is gone or cannot keep up. Below it, commits never checkpoint.
 */
const BACKSTOP_PAGES = 50_000;
/** How long `stop()` waits for the worker's last checkpoint before terminating it, in ms. */
const STOP_WAIT = 2000;

/** A running checkpointer. */
export interface Checkpointer {
  /** Makes a last checkpoint and ends the worker (call after closing the store's connection). */
  stop(): Promise<void>;
}

/**
 * Starts checkpointing `filename` every `interval` ms on a worker thread, and moves the
 * store's own connection's automatic checkpoint to the backstop size.
 */
export function startCheckpointer(
  db: { pragma(source: string): unknown },
  filename: string,
  interval: number,
): Checkpointer {
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER, { eval: true, workerData: { driver, filename, interval } });
  worker.unref();
  return {
    async stop() {
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      worker.postMessage("close");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, STOP_WAIT).unref())]);
      await worker.terminate();
    },
  };
}
