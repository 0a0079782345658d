/**
 * The defaults of `createSoloServer`, in one place (`DEFAULTS satisfies Partial<ResolvedOptions>`),
 * with the stores' own beside them.
 *
 * @module
 */

import { STORE_DEFAULTS } from "../store/defaults.js";
import type { ResolvedOptions } from "./types.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The stores' own defaults (Redis command timeout, SQLite checkpoint interval, audit cap...). */
export { STORE_DEFAULTS } from "../store/defaults.js";

/** The defaults, in one place (the stores' own in {@link STORE_DEFAULTS}). */
export const DEFAULTS = {
  store: "sqlite",
  dataDir: "./data",
  redis: {
    target: { kind: "server", url: STORE_DEFAULTS.redis.url },
    replicas: null,
    keyPrefix: STORE_DEFAULTS.redis.keyPrefix,
    adapter: true,
    reconcileInterval: 30_000,
  },
  postgres: {
    url: null,
    pool: STORE_DEFAULTS.postgres.pool,
    schema: STORE_DEFAULTS.postgres.schema,
    tablePrefix: STORE_DEFAULTS.postgres.tablePrefix,
    adapter: "postgres",
    reconcileInterval: 30_000,
    endsPollInterval: 1000,
  },
  policy: "newest-wins",
  abandonGrace: MINUTE,
  issuer: "solo-session",
  audience: "solo-session",
  maxAge: 8 * HOUR,
  idleTimeout: 30 * MINUTE,
  /** The longest default touch interval; shorter idle timeouts get a quarter of theirs ({@link defaultTouchInterval}). */
  touchInterval: MINUTE,
  sessionCacheTtl: 1000,
  sweepInterval: 15_000,
  clockTolerance: 5,
  ackTimeout: 3000,
  allowedOrigins: [],
  transports: ["websocket"],
  cookie: { name: "solo_session", secure: "auto", sameSite: "lax" },
  token: { schemes: ["Bearer"] as readonly string[], cookie: true, read: null },
  trustProxy: false,
  handshakeTimeout: 10_000,
  pingInterval: 10_000,
  pingTimeout: 5000,
  keyReloadInterval: 2000,
  tombstoneRetention: STORE_DEFAULTS.tombstoneRetention,
  auditRetention: STORE_DEFAULTS.auditRetention,
  dispute: { ttl: 10 * MINUTE, ends: "all" },
} as const satisfies Partial<ResolvedOptions>;

/**
 * The touch interval used when none is given: a quarter of the idle timeout, at most
 * `DEFAULTS.touchInterval` (60 s), so that the idle deadline is exact to within a quarter of it
 * and a short idle timeout (45 s, 60 s) works without setting it.
 *
 * @example
 * ```ts
 * defaultTouchInterval(45_000);    // → 11_250
 * defaultTouchInterval(1_800_000); // → 60_000
 * ```
 */
export function defaultTouchInterval(idleTimeout: number): number {
  return Math.min(DEFAULTS.touchInterval, Math.floor(idleTimeout / 4));
}
