/**
 * The `receivers` option: the services told when a session ends, and how their deliveries are
 * retried. Validated at construction (a TypeError naming the option).
 *
 * @module
 */

import {
  RECEIVER_FORMATS,
  REVOCATION_REASONS,
  type ReceiverFormat,
  type RevocationReason,
} from "../../protocol/index.js";
import type { EventOutbox, SessionStore } from "../store/types.js";

/** A service told when a session ends. */
export interface ReceiverOption {
  /** Where the events are POSTed (http or https). */
  url: string;
  /** The token's `aud`: how the receiver knows the event is for it. */
  audience: string;
  /** `"backchannel-logout"`: an OpenID `logout_token` as a form field; `"caep"`: a `session-revoked` SET (RFC 8935 push). */
  format: ReceiverFormat;
  /** The ends it is told of. @default every reason */
  events?: readonly RevocationReason[];
  /** Names it in the outbox, the metrics and the admin API; keep it when the URL changes. @default the URL */
  id?: string;
}

/** How deliveries are made and retried (every receiver). Durations in milliseconds. */
export interface DeliveryOptions {
  /** An attempt that takes longer is abandoned and retried. @default 5000 */
  timeout?: number;
  /** Attempts before an event is dead-lettered. @default 12 */
  maxAttempts?: number;
  /** The first retry's delay; each next one doubles, with jitter. @default 1000 */
  retryBase?: number;
  /** The longest delay between attempts. @default 300_000 */
  retryMax?: number;
  /** How often a node looks for due events (ends on this node wake it at once). @default 1000 */
  pollInterval?: number;
  /**
   * How long a node holds an event it is delivering; a node killed mid-delivery gives it up
   * after this. Longer than `timeout`, so no two attempts at one event overlap. @default 30_000
   */
  leaseTime?: number;
}

/** A receiver after validation. */
export interface Receiver {
  id: string;
  url: string;
  audience: string;
  format: ReceiverFormat;
  events: ReadonlySet<RevocationReason>;
}

/** The defaults of {@link DeliveryOptions}. */
export const DELIVERY_DEFAULTS = {
  timeout: 5000,
  maxAttempts: 12,
  retryBase: 1000,
  retryMax: 300_000,
  pollInterval: 1000,
  leaseTime: 30_000,
} as const satisfies Required<DeliveryOptions>;

const where = "createSoloServer: options.receivers";

/** Validates the receivers; ids must be unique. */
export function resolveReceivers(given: readonly ReceiverOption[] | undefined): readonly Receiver[] {
  if (given === undefined) return [];
  if (!Array.isArray(given)) throw new TypeError(`${where} must be an array`);
  const ids = new Set<string>();
  return given.map((r, i) => {
    const at = `${where}[${i}]`;
    if (typeof r !== "object" || r === null) throw new TypeError(`${at} must be an object`);
    let url: URL;
    try {
      url = new URL(r.url);
    } catch {
      throw new TypeError(`${at}.url must be an http(s) URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`${at}.url must be an http(s) URL`);
    if (typeof r.audience !== "string" || r.audience === "")
      throw new TypeError(`${at}.audience must be a non-empty string`);
    if (!(RECEIVER_FORMATS as readonly string[]).includes(r.format)) {
      throw new TypeError(`${at}.format must be one of ${RECEIVER_FORMATS.join(", ")}`);
    }
    const events = r.events ?? REVOCATION_REASONS;
    if (!Array.isArray(events) || events.some((e) => !(REVOCATION_REASONS as readonly string[]).includes(e))) {
      throw new TypeError(`${at}.events must list reasons among ${REVOCATION_REASONS.join(", ")}`);
    }
    const id = r.id ?? url.href;
    if (typeof id !== "string" || id === "" || id.length > 200)
      throw new TypeError(`${at}.id must be 1-200 characters`);
    if (ids.has(id)) throw new TypeError(`${at}: two receivers share the id ${id}`);
    ids.add(id);
    return { id, url: url.href, audience: r.audience, format: r.format, events: new Set(events) };
  });
}

/** Validates the delivery settings and fills in the defaults. */
export function resolveDelivery(given: DeliveryOptions | undefined): Required<DeliveryOptions> {
  const out: Required<DeliveryOptions> = { ...DELIVERY_DEFAULTS };
  for (const [name, min] of [
    ["timeout", 1],
    ["maxAttempts", 1],
    ["retryBase", 1],
    ["retryMax", 1],
    ["pollInterval", 10],
    ["leaseTime", 100],
  ] as const) {
    const value = given?.[name];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
      throw new TypeError(
        `createSoloServer: options.delivery.${name} must be a number >= ${min}, got ${String(value)}`,
      );
    }
    out[name] = value;
  }
  if (out.leaseTime <= out.timeout) {
    throw new TypeError("createSoloServer: options.delivery.leaseTime must be longer than options.delivery.timeout");
  }
  return out;
}

/**
 * The store's outbox when receivers are configured: null without receivers; a TypeError when
 * the store keeps none (Redis and an app's own store without `outbox`, today).
 */
export function outboxFor(store: SessionStore, receivers: readonly Receiver[]): EventOutbox | null {
  if (receivers.length === 0) return null;
  if (!store.outbox) {
    throw new TypeError(
      "createSoloServer: options.receivers needs a store with an outbox (memory or SQLite); this store keeps none",
    );
  }
  return store.outbox;
}
