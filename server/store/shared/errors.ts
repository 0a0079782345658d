/**
 * One error mapping for every store: a backend failure that means "not available right now"
 * (Redis unreachable, loading or read-only; SQLite busy or locked past its busy timeout;
 * PostgreSQL unreachable, shutting down, starting up, out of connections, or too slow)
 * becomes `SoloError("store_unavailable")`, answered as 503; and a call on a closed store
 * fails the same way on every backend ({@link storeClosed}). Anything else (a bug, a full
 * disk) passes through unchanged and is answered as 500.
 *
 * @module
 */

import { SoloError } from "../../errors/solo-error.js";

/**
 * Redis error replies that mean "not available right now" rather than "wrong command" (with
 * Redis Cluster: a slot moving or failing over, a redirection not followed).
 */
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|NOREPLICAS|MISCONF|MOVED|ASK)\b/;
/** ioredis client-side failures of a command that never got (or lost) its answer (one server, a cluster, Sentinel). */
const TRANSIENT_CLIENT =
  /Connection is closed|Stream isn't writeable|Command timed out|Command aborted|max retries|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|Cluster isn't ready|Too many Cluster redirections|None of startup nodes|Failed to refresh slots cache|All sentinels are unreachable/i;
/** ioredis error classes that mean the command was given up. */
const TRANSIENT_NAMES = new Set(["MaxRetriesPerRequestError", "AbortError", "ClusterAllFailedError"]);
/** SQLite result codes (with their extended forms) of a lock held by another connection. */
const SQLITE_TRANSIENT = /^SQLITE_(BUSY|LOCKED)(_|$)/;
/**
 * PostgreSQL SQLSTATEs of a server that cannot serve right now: connection exceptions (class
 * 08), too many connections (53300), admin or crash shutdown and "cannot connect now" (the
 * server starting or stopping: 57P01-57P03), a statement cancelled by `statement_timeout`
 * (57014), a connection ended by the server's idle timeouts (25P03, 57P05), and a deadlock the
 * server broke (40P01: nothing was written; the next call goes through).
 */
const PG_TRANSIENT_SQLSTATE = /^(08...|53300|57P0[1235]|57014|25P03|40P01)$/;
/** node-postgres client-side failures: the connection dropped, never came, or a reply timed out. */
const PG_TRANSIENT_CLIENT =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Connection ended|Client has encountered a connection error/i;

/**
 * The error of any call on a closed store, the same on every backend:
 * `SoloError("store_unavailable")` (503: the node is shutting down; another may answer).
 *
 * @example
 * ```ts
 * if (this.#closed) throw storeClosed();
 * ```
 */
export function storeClosed(): SoloError {
  return new SoloError("store_unavailable", {}, "The session store is closed.");
}

/** True for an error reply of a PostgreSQL server (node-postgres `DatabaseError`: a SQLSTATE and a severity). */
function isPgServerError(error: Error): error is Error & { code: string } {
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && typeof severity === "string";
}

/** A Redis transaction that did not run (EXECABORT) because its commands met transient errors only. */
function abortedForTransient(error: Error): boolean {
  const previous = (error as { previousErrors?: unknown }).previousErrors;
  return (
    error.message.startsWith("EXECABORT") &&
    Array.isArray(previous) &&
    previous.length > 0 &&
    previous.every((e) => e instanceof Error && TRANSIENT_REPLY.test(e.message))
  );
}

/**
 * Maps a backend failure to the error the API answers with: transient Redis, SQLite and
 * PostgreSQL failures become `SoloError("store_unavailable")`; everything else is returned as is.
 *
 * @example
 * ```ts
 * try { return await operation() } catch (error) { throw toStoreError(error) }
 * ```
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof SoloError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const transient =
    error.name === "ReplyError"
      ? TRANSIENT_REPLY.test(error.message) || abortedForTransient(error)
      : error.name === "SqliteError"
        ? typeof code === "string" && SQLITE_TRANSIENT.test(code)
        : isPgServerError(error)
          ? PG_TRANSIENT_SQLSTATE.test(error.code)
          : TRANSIENT_NAMES.has(error.name) ||
            TRANSIENT_CLIENT.test(error.message) ||
            PG_TRANSIENT_CLIENT.test(error.message);
  return transient ? new SoloError("store_unavailable") : error;
}
