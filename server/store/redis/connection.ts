/**
 * Where the Redis deployment is (one server, a Redis Cluster, or a Sentinel-managed primary),
 * and the ONE factory of every connection solo-session opens to it: the store's, the ends
 * reader's, the adapter's publisher and subscriber, the login rate limiter's. Each is an
 * ioredis `Redis` (one server; through the sentinels with Sentinel) or `Cluster`, with the same
 * fail-fast settings. Also the helpers every part uses with them: `waitReady`, `quit`,
 * `execPipeline`, `execEach` (commands that may touch several slots), `isUp`.
 *
 *
 * Longer than ~300 lines because the three deployments (one server, Sentinel, Cluster) share
 * one set of failover and slot rules: kept in one file, no part of the store opens a connection
 * any other way.
 *
 * @module
 */

import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { SoloError } from "../../errors/solo-error.js";

/**
 * A Redis Cluster node or a sentinel.
 *
 * @example
 * ```ts
 * const node: RedisNode = { host: "10.0.0.1", port: 7000 };
 * ```
 */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Which Redis deployment to use: give one of `url`, `cluster` or `sentinels` (with `name`).
 * Without any of them, `url` takes its default.
 *
 * @example
 * ```ts
 * const single: RedisConnectionOptions = { url: "redis://10.0.0.5:6379" };
 * const cluster: RedisConnectionOptions = { cluster: [{ host: "10.0.0.1", port: 7000 }] };
 * const sentinel: RedisConnectionOptions = { sentinels: [{ host: "10.0.0.1", port: 26379 }], name: "solo" };
 * ```
 */
export interface RedisConnectionOptions {
  /** One Redis server: `redis://` or `rediss://`, with password and db number if needed. @default "redis://127.0.0.1:6379" */
  url?: string;
  /** A Redis Cluster: some (or all) of its nodes; the client discovers the rest. */
  cluster?: readonly RedisNode[];
  /** A primary managed by Redis Sentinel: the sentinels to ask for it. Needs `name`. */
  sentinels?: readonly RedisNode[];
  /** With `sentinels`: the name the sentinels monitor the primary under (`sentinel monitor <name> ...`). */
  name?: string;
}

/** The deployment, resolved from {@link RedisConnectionOptions}. */
export type RedisTarget =
  | { kind: "server"; url: string }
  | { kind: "cluster"; nodes: readonly RedisNode[] }
  | { kind: "sentinel"; sentinels: readonly RedisNode[]; name: string };

/**
 * How many replicas must have a session write before it is acknowledged (`WAIT numreplicas
 * timeout` after the commit), or `false` for none. A write that fewer replicas confirm within
 * `timeout` ms fails with `store_unavailable`.
 *
 * @example
 * ```ts
 * new RedisStore({ sentinels, name: "solo", replicas: { wait: 1, timeout: 500 } });
 * ```
 */
export type ReplicasOption = { wait: number; timeout?: number } | false;

/** {@link ReplicasOption}, resolved: null when writes wait for no replica. */
export interface ReplicaAck {
  wait: number;
  timeout: number;
}

/**
 * Any client solo-session opens: one server (directly or through the sentinels), or a cluster.
 *
 * @example
 * ```ts
 * const client: RedisClient = store.client;
 * if (client instanceof Cluster) console.log(client.nodes("master").length, "primaries");
 * ```
 */
export type RedisClient = Redis | Cluster;

/** What a connection is for: it names the connection (`CLIENT LIST`) and picks its settings. */
export type ConnectionRole = "store" | "ends" | "pub" | "sub" | "ratelimit";

/** Connection names, after the key prefix. */
const ROLE_NAMES: Record<ConnectionRole, string> = {
  store: "store",
  ends: "io:ends",
  pub: "io:pub",
  sub: "io:sub",
  ratelimit: "rl",
};

/** A host name or address: no spaces, slashes or commas. */
const HOST = /^[^\s/,]+$/;
/** A Sentinel master name as `sentinel monitor` accepts it. */
const MASTER_NAME = /^[\w.:-]{1,128}$/;
/** How often a cluster client re-reads the slot map besides after MOVED (a failover seen without traffic), in ms. */
const SLOTS_REFRESH = 2000;
/** Reconnect backoff of every connection, in ms: 50, 100, ... capped at one second. */
const backoff = (times: number) => Math.min(50 * times, 1000);

/**
 * Resolves and validates the deployment. Throws a TypeError whose message starts with `name`
 * and names the field (e.g. `createSoloServer: options.redis.cluster must be ...`).
 *
 * @example
 * ```ts
 * redisTarget({ cluster: [{ host: "10.0.0.1", port: 6379 }] }, "RedisStore: ", "redis://127.0.0.1:6379");
 * // → { kind: "cluster", nodes: [{ host: "10.0.0.1", port: 6379 }] }
 * ```
 */
export function redisTarget(given: RedisConnectionOptions, name: string, defaultUrl: string): RedisTarget {
  const chosen = (["url", "cluster", "sentinels"] as const).filter((k) => given[k] !== undefined);
  if (chosen.length > 1) {
    throw new TypeError(`${name}${chosen.join(" and ")}: give only one of url, cluster or sentinels`);
  }
  if (given.name !== undefined && given.sentinels === undefined) {
    throw new TypeError(`${name}name names the primary the sentinels watch: it needs sentinels`);
  }
  if (given.cluster !== undefined) return { kind: "cluster", nodes: nodes(given.cluster, `${name}cluster`) };
  if (given.sentinels !== undefined) {
    if (typeof given.name !== "string" || !MASTER_NAME.test(given.name)) {
      throw new TypeError(`${name}name must be the sentinels' name of the primary (letters, digits, _ . : -)`);
    }
    return { kind: "sentinel", sentinels: nodes(given.sentinels, `${name}sentinels`), name: given.name };
  }
  const url = given.url ?? defaultUrl;
  if (typeof url !== "string" || !/^rediss?:\/\/[^\s]+$/.test(url)) {
    throw new TypeError(`${name}url must be a redis:// or rediss:// URL`);
  }
  return { kind: "server", url };
}

/**
 * The options that name a resolved deployment again (`{ url }`, `{ cluster }` or
 * `{ sentinels, name }`), e.g. to open a store on it.
 *
 * @example
 * ```ts
 * new RedisStore({ ...connectionOptions(resolved.redis.target), keyPrefix: "solo" });
 * ```
 */
export function connectionOptions(target: RedisTarget): RedisConnectionOptions {
  switch (target.kind) {
    case "server":
      return { url: target.url };
    case "cluster":
      return { cluster: target.nodes };
    case "sentinel":
      return { sentinels: target.sentinels, name: target.name };
  }
}

function nodes(list: readonly RedisNode[], name: string): RedisNode[] {
  const valid =
    Array.isArray(list) &&
    list.length > 0 &&
    list.every(
      (n: unknown) =>
        typeof n === "object" &&
        n !== null &&
        typeof (n as RedisNode).host === "string" &&
        HOST.test((n as RedisNode).host) &&
        Number.isInteger((n as RedisNode).port) &&
        (n as RedisNode).port > 0 &&
        (n as RedisNode).port < 65536,
    );
  if (!valid) throw new TypeError(`${name} must be a non-empty array of { host, port }`);
  return list.map((n) => ({ host: n.host, port: n.port }));
}

/**
 * Resolves {@link ReplicasOption}: `undefined` takes `defaults` for the deployment's kind;
 * `false` or `wait: 0` waits for none. Throws a TypeError starting with `name`.
 *
 * @example
 * ```ts
 * replicaAck({ wait: 1 }, target, "RedisStore: replicas", { wait: { server: 0, cluster: 1, sentinel: 1 }, timeout: 500 });
 * // → { wait: 1, timeout: 500 }
 * ```
 */
export function replicaAck(
  given: ReplicasOption | undefined,
  target: RedisTarget,
  name: string,
  defaults: { wait: Readonly<Record<RedisTarget["kind"], number>>; timeout: number },
): ReplicaAck | null {
  if (given === false) return null;
  const options = given ?? { wait: defaults.wait[target.kind] };
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${name} must be false or { wait, timeout }`);
  }
  const { wait, timeout = defaults.timeout } = options;
  if (!Number.isInteger(wait) || wait < 0 || wait > 16) {
    throw new TypeError(`${name}.wait must be an integer from 0 to 16, got ${String(wait)}`);
  }
  // WAIT with a timeout of 0 blocks for ever: never that.
  if (!Number.isInteger(timeout) || timeout < 1) {
    throw new TypeError(`${name}.timeout must be a whole number of ms >= 1, got ${String(timeout)}`);
  }
  return wait === 0 ? null : { wait, timeout };
}

/**
 * Reads a list of nodes as `host:port,host:port` (IPv6 as `[::1]:6379`), e.g. from
 * `REDIS_CLUSTER_NODES` or `REDIS_SENTINELS`. Throws a TypeError naming `name`.
 *
 * @example
 * ```ts
 * parseRedisNodes("10.0.0.1:7000,10.0.0.2:7000", "REDIS_CLUSTER_NODES");
 * ```
 */
export function parseRedisNodes(text: string, name: string): RedisNode[] {
  const out = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^\[([^\]]+)\]:(\d+)$/.exec(entry) ?? /^([^:\s]+):(\d+)$/.exec(entry);
      const port = Number(match?.[2]);
      if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new TypeError(`${name} must be host:port,host:port (got "${entry}")`);
      }
      return { host: match[1], port };
    });
  if (out.length === 0) throw new TypeError(`${name} must be host:port,host:port`);
  return out;
}

/**
 * ioredis settings shared by every command connection: fail fast, reconnect forever.
 *
 * @example
 * ```ts
 * const client = new Redis(url, { ...clientOptions(2000), connectionName: "solo:store" });
 * ```
 */
export function clientOptions(commandTimeout: number) {
  return {
    // A command while disconnected fails at once instead of waiting in a queue...
    enableOfflineQueue: false,
    // ...and a command in flight when the connection drops fails instead of being resent
    // (resending a claim whose answer was lost could apply it twice).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout,
    retryStrategy: backoff,
    lazyConnect: false,
  } satisfies RedisOptions;
}

/**
 * The subscriber's settings: it keeps an offline queue and no command timeout, so a SUBSCRIBE
 * issued during an outage waits for the connection instead of being dropped, and ioredis
 * resubscribes everything on reconnect.
 */
function subscriberOptions() {
  return {
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: true,
    retryStrategy: backoff,
    lazyConnect: false,
  } satisfies RedisOptions;
}

/**
 * Opens every connection to one deployment, with the right client for it: `Redis` for one
 * server, `Redis` through the sentinels (it asks them for the primary and follows a failover)
 * for Sentinel, `Cluster` for Redis Cluster (it routes each command to its slot's primary and
 * follows `MOVED` after a failover; the subscriber runs sharded subscribers, one per primary).
 *
 * @example
 * ```ts
 * const connections = new RedisConnections({ kind: "sentinel", sentinels, name: "solo" }, { commandTimeout: 2000, prefix: "solo" });
 * const store = connections.open("store");
 * ```
 */
export class RedisConnections {
  readonly target: RedisTarget;
  readonly #commandTimeout: number;
  readonly #prefix: string;

  constructor(target: RedisTarget, settings: { commandTimeout: number; prefix: string }) {
    this.target = target;
    this.#commandTimeout = settings.commandTimeout;
    this.#prefix = settings.prefix;
  }

  /** The command timeout of the connections, in ms. */
  get commandTimeout(): number {
    return this.#commandTimeout;
  }

  /**
   * True on Redis Cluster: commands go to several servers, so neither a pipeline nor the order
   * of commands on different slots spans them.
   */
  get clustered(): boolean {
    return this.target.kind === "cluster";
  }

  /** Opens a connection for `role` (named `<prefix>:<role>`); `commandTimeout` overrides the store's. */
  open(role: ConnectionRole, overrides: { commandTimeout?: number } = {}): RedisClient {
    const connectionName = `${this.#prefix}:${ROLE_NAMES[role]}`;
    const subscriber = role === "sub";
    const base = subscriber ? subscriberOptions() : clientOptions(overrides.commandTimeout ?? this.#commandTimeout);
    const target = this.target;
    switch (target.kind) {
      case "server":
        return new Redis(target.url, { ...base, connectionName });
      case "sentinel":
        return new Redis({
          ...base,
          connectionName,
          sentinels: target.sentinels.map((n) => ({ ...n })),
          name: target.name,
          role: "master",
          sentinelRetryStrategy: backoff,
          // A primary that died is left at once (the connection drops) and the sentinels are
          // asked again. One that was demoted while reachable answers writes with READONLY:
          // reconnect then, without resending. (ioredis's `failoverDetector` is left off: it
          // reconnects on every +switch-master, a second outage right after the failover.)
          reconnectOnError: (error) => (error.message.startsWith("READONLY") ? 1 : false),
        });
      case "cluster":
        return new Cluster(
          target.nodes.map((n) => ({ ...n })),
          {
            redisOptions: { ...base, connectionName },
            enableOfflineQueue: base.enableOfflineQueue,
            clusterRetryStrategy: backoff,
            // A command whose connection dropped may have run: it fails instead of being resent
            // elsewhere (ioredis resends after `retryDelayOnFailover` otherwise). CLUSTERDOWN
            // fails at once too: the login answers 503 rather than waiting in a retry loop.
            retryDelayOnFailover: 0,
            retryDelayOnClusterDown: 0,
            slotsRefreshInterval: SLOTS_REFRESH,
            scaleReads: "master",
            shardedSubscribers: subscriber,
          } satisfies ClusterOptions,
        );
    }
  }
}

/** True for a Redis Cluster client. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * True when the client can serve every key now: ready, and on a cluster, every slot's primary
 * has a connection that is not lost (a lost one is dropped until the slot map names its
 * successor).
 */
export function isUp(client: RedisClient): boolean {
  if (client.status !== "ready") return false;
  if (!isCluster(client)) return true;
  const usable = new Set(
    client
      .nodes("master")
      .filter((n) => !["end", "close", "reconnecting"].includes(n.status))
      .map((n) => `${n.options.host}:${n.options.port}`),
  );
  for (const key of new Set(client.slots.map((s) => s?.[0]))) {
    if (key === undefined || !usable.has(key)) return false;
  }
  return true;
}

/**
 * Resolves when the client is ready (on a cluster: when its connection to every primary is,
 * since a command to a primary whose connection is still being made fails at once); rejects
 * with `store_unavailable` after `timeout` ms.
 *
 * @example
 * ```ts
 * await waitReady(client, 10_000);
 * ```
 */
export async function waitReady(client: RedisClient, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  await readyWithin(client, timeout);
  if (isCluster(client)) {
    await Promise.all(client.nodes("master").map((node) => readyWithin(node, Math.max(0, deadline - Date.now()))));
  }
}

/** Resolves once `client` emits `ready` (at once if it is); rejects with `store_unavailable` after `timeout` ms. */
function readyWithin(client: RedisClient, timeout: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      reject(new SoloError("store_unavailable", {}, `Redis is not reachable (waited ${timeout} ms).`));
    }, timeout);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("ready", onReady);
  });
}

/**
 * Closes a client politely if connected, at once otherwise.
 *
 * @example
 * ```ts
 * await quit(client);
 * ```
 */
export async function quit(client: RedisClient): Promise<void> {
  if (client.status === "ready") {
    try {
      await client.quit();
      return;
    } catch {
      // fall through
    }
  }
  client.disconnect(false);
}

/** A pipeline or transaction of a connection. */
export type Pipeline = ReturnType<Redis["pipeline"]>;

/** Runs a pipeline or transaction; throws the first command error. */
export async function execPipeline(pipeline: Pipeline): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (results === null) throw new Error("RedisStore: transaction aborted");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** One command as a pipeline takes it: the command's (or a defined script's) name, then its arguments. */
export type Command = readonly [name: string, ...args: (string | number)[]];

/**
 * Runs commands that may touch different slots and need no order among them: one pipeline on
 * one server; on a cluster, each command alone (ioredis sends each to its slot's primary), all
 * at once. Resolves with the replies in order; throws the first command error.
 *
 * @example
 * ```ts
 * const hashes = await execEach(client, ids.map((id) => ["hgetall", keys.record(userId, id)]));
 * ```
 */
export async function execEach(client: RedisClient, commands: readonly Command[]): Promise<unknown[]> {
  if (commands.length === 0) return [];
  if (!isCluster(client)) return execPipeline(client.pipeline(commands.map((c) => [...c])));
  return Promise.all(commands.map(async (command) => (await execPipeline(client.pipeline([[...command]])))[0]));
}
