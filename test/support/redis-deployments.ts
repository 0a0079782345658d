import { Cluster, Redis } from "ioredis";
import { beforeAll } from "vitest";
import {
  type RedisProcess,
  redisCli,
  startRedisCluster,
  startRedisSentinel,
  type TestRedisCluster,
  type TestRedisSentinel,
} from "../../scripts/lib/redis-topology.js";
import type { RedisClient, RedisConnectionOptions } from "../../server/store/redis/connection.js";
import { startRedis, type TestRedis } from "./redis.js";
import { testResources } from "./resources.js";

/** The three Redis deployments the store supports; the scale-out tests run on each. */
export const DEPLOYMENTS = ["single", "cluster", "sentinel"] as const;
export type DeploymentKind = (typeof DEPLOYMENTS)[number];

/** A running deployment, as the tests use it. */
export interface RedisDeployment {
  kind: DeploymentKind;
  /** What a node's `redis` option (and a `RedisStore`) names: `{ url }`, `{ cluster }` or `{ sentinels, name }`. */
  connection: RedisConnectionOptions;
  /** The single server (kind "single"). */
  single: TestRedis | null;
  cluster: TestRedisCluster | null;
  sentinel: TestRedisSentinel | null;
  /** A client of the test's own (a cluster client on a cluster), closed with the deployment. */
  admin(): RedisClient;
  /** The server that is primary for `key` now (on one server: it). */
  primaryFor(key: string): Promise<{ port: number; process: RedisProcess | null }>;
  /** Every running primary's port (one on a single server and on Sentinel). */
  primaries(): Promise<number[]>;
  /** Resolves once the deployment serves every key again (after a failover, a restart). */
  healthy(): Promise<void>;
  destroy(): Promise<void>;
}

/** Options of {@link startDeployment}. */
export interface DeploymentOptions {
  /** Replicas of each primary (cluster and Sentinel). @default 1 */
  replicas?: number;
}

/**
 * Starts a deployment of `kind` on free ports: one redis-server; a Redis Cluster of three
 * primaries; or Sentinel (a primary and three sentinels), with `replicas` replicas each.
 *
 * @example
 * ```ts
 * const deployment = await startDeployment("sentinel", { replicas: 2 });
 * const nodes = await resources.nodes(3, { redis: { ...deployment.connection, keyPrefix }, dataDir });
 * ```
 */
export async function startDeployment(kind: DeploymentKind, options: DeploymentOptions = {}): Promise<RedisDeployment> {
  const admins: RedisClient[] = [];
  const own = (client: RedisClient): RedisClient => {
    client.on("error", () => {}); // refused while a server is down; it reconnects by itself
    admins.push(client);
    return client;
  };
  const closeAdmins = () => {
    for (const a of admins.splice(0)) a.disconnect();
  };
  if (kind === "single") {
    const single = await startRedis();
    return {
      kind,
      connection: { url: single.url },
      single,
      cluster: null,
      sentinel: null,
      admin: () => own(new Redis(single.url)),
      primaryFor: async () => ({ port: single.port, process: null }),
      primaries: async () => [single.port],
      healthy: async () => {},
      async destroy() {
        closeAdmins();
        await single.destroy();
      },
    };
  }
  if (kind === "cluster") {
    const cluster = await startRedisCluster({ replicas: options.replicas ?? 1 });
    return {
      kind,
      connection: { cluster: cluster.seeds },
      single: null,
      cluster,
      sentinel: null,
      admin: () => own(new Cluster(cluster.seeds.map((s) => ({ ...s })))),
      async primaryFor(key) {
        const process = await cluster.primaryFor(key);
        return { port: process.port, process };
      },
      async primaries() {
        const out: number[] = [];
        for (const n of cluster.nodes) {
          if (n.running && (await redisCli(n.port, "ROLE").catch(() => "")).startsWith("master")) out.push(n.port);
        }
        return out;
      },
      healthy: () => cluster.healthy(),
      async destroy() {
        closeAdmins();
        await cluster.destroy();
      },
    };
  }
  const sentinel = await startRedisSentinel({ replicas: options.replicas ?? 1 });
  const connection = { sentinels: sentinel.sentinelAddresses, name: sentinel.name };
  return {
    kind,
    connection,
    single: null,
    cluster: null,
    sentinel,
    admin: () => own(new Redis({ sentinels: connection.sentinels.map((s) => ({ ...s })), name: connection.name })),
    async primaryFor() {
      const process = await sentinel.primary();
      return { port: process.port, process };
    },
    primaries: async () => [(await sentinel.primary()).port],
    healthy: () => sentinel.healthy(),
    async destroy() {
      closeAdmins();
      await sentinel.destroy();
    },
  };
}

/**
 * Starts a deployment of `kind` before the tests of the file (or of the `describe` it is called
 * in), once, and destroys it after them (through {@link testResources}); the returned function
 * gives it to the tests.
 *
 * @example
 * ```ts
 * describe.each(DEPLOYMENTS)("on %s", (kind) => {
 *   const deployment = useDeployment(kind);
 *   it("...", async () => {
 *     const nodes = await resources.nodes(3, { redis: { ...deployment().connection, keyPrefix }, dataDir });
 *   });
 * });
 * ```
 */
export function useDeployment(kind: DeploymentKind, options: DeploymentOptions = {}): () => RedisDeployment {
  const shared = testResources("all");
  let deployment: RedisDeployment | null = null;
  beforeAll(async () => {
    deployment = shared.defer(await startDeployment(kind, options), (d) => d.destroy());
  });
  return () => {
    if (!deployment) throw new Error(`the ${kind} deployment is not running`);
    return deployment;
  };
}
