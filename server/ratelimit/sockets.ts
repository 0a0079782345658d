import { type RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import { SoloError } from "../errors/solo-error.js";
import { createLimiter, type LimiterBackend, refuseIfLimited, retryAfterSeconds } from "./backend.js";
import { addressKey } from "./keys.js";
import type { ResolvedRateLimits } from "./limits.js";

/**
 * Limits Socket.IO handshakes per client address and per session, on this node. Each check
 * resolves to null (go ahead) or the error to refuse with.
 */
export class HandshakeLimiter {
  readonly #perIp: RateLimiterAbstract | null;
  readonly #perSession: RateLimiterAbstract | null;

  constructor(limits: Pick<ResolvedRateLimits, "handshakePerIp" | "handshakePerSession">) {
    const memory: LimiterBackend = { kind: "memory" };
    this.#perIp = limits.handshakePerIp ? createLimiter(memory, "handshake-ip", limits.handshakePerIp) : null;
    this.#perSession = limits.handshakePerSession
      ? createLimiter(memory, "handshake-session", limits.handshakePerSession)
      : null;
  }

  /** One handshake from `address`: null, or `rate_limited`. */
  async byAddress(address: string): Promise<SoloError | null> {
    if (!this.#perIp) return null;
    try {
      refuseIfLimited(await Promise.allSettled([this.#perIp.consume(addressKey(address))]));
      return null;
    } catch (error) {
      if (error instanceof SoloError) return error;
      throw error;
    }
  }

  /** One handshake of session `sessionId`: null, or `too_many_connections`. */
  async bySession(sessionId: string): Promise<SoloError | null> {
    if (!this.#perSession) return null;
    try {
      await this.#perSession.consume(sessionId);
      return null;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      return new SoloError("too_many_connections", { retryAfter: retryAfterSeconds(error.msBeforeNext) });
    }
  }
}

/**
 * Counts the open Socket.IO connections of each client address on this node and refuses a
 * new one past the cap. A connection is reserved when its handshake is admitted and counted
 * once it opens; a reservation whose handshake failed before the connection opened is
 * released after the current turn of the event loop (admitting a handshake and opening its
 * connection happen in one turn).
 *
 * @example
 * ```ts
 * const connections = new ConnectionLimiter(100);
 * if (!connections.reserve(address)) refuse("too_many_connections");
 * engine.on("connection", (conn) => conn.once("close", connections.opened(address)));
 * ```
 */
export class ConnectionLimiter {
  readonly #cap: number | false;
  readonly #open = new Map<string, number>();

  constructor(cap: number | false) {
    this.#cap = cap;
  }

  /** Holds a place for a connection from `address`; false when the address is at the cap. */
  reserve(address: string): boolean {
    if (this.#cap === false) return true;
    const key = addressKey(address);
    const count = this.#open.get(key) ?? 0;
    if (count >= this.#cap) return false;
    this.#open.set(key, count + 1);
    setImmediate(() => this.#release(key));
    return true;
  }

  /** A connection from `address` opened; call the returned function once when it closes. */
  opened(address: string): () => void {
    if (this.#cap === false) return () => {};
    const key = addressKey(address);
    this.#open.set(key, (this.#open.get(key) ?? 0) + 1);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.#release(key);
    };
  }

  /** Open connections (and reservations) of `address` on this node. */
  count(address: string): number {
    return this.#open.get(addressKey(address)) ?? 0;
  }

  #release(key: string): void {
    const count = (this.#open.get(key) ?? 0) - 1;
    if (count > 0) this.#open.set(key, count);
    else this.#open.delete(key);
  }
}
