import { once } from "node:events";
import { rmSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import { Server as HttpsServer } from "node:https";
import type { AddressInfo, Server as NetServer } from "node:net";
import { type RedisOptions as ClientOptions, Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, afterEach } from "vitest";
import type { RedisOptions } from "../../server/options/types.js";
import { type Standalone, type StandaloneOverrides, startStandalone } from "../../standalone/standalone.js";
import { type ClientSocket, connect } from "./client.js";
import {
  anyUser,
  type NodeProcess,
  type StartRedisOptions,
  startNodeProcess,
  startRedis,
  type TestRedis,
} from "./redis.js";
import { startTestServer, type TestServer, type TestServerOptions, tempDir } from "./server.js";

/** Options of `nodes()`: one Redis and one key directory for every node, and any server option. */
export type NodesOptions = TestServerOptions & {
  redis: RedisOptions & { url: string; keyPrefix: string };
  /** The key directory the nodes share (they must agree on the signing keys). */
  dataDir: string;
};

/** What {@link testResources} gives a test file. */
export type TestResources = ReturnType<typeof testResources>;

/**
 * Everything a test file starts — servers, sockets, redis-servers and connections, node
 * processes, temp directories, anything with a `close()` — closed after each test, newest
 * first (so sockets before their server, servers before their Redis). Call once at the top
 * of a test file; `"all"` closes after all the tests of the file (or of the `describe` it is
 * called in) instead, for what `beforeAll` starts.
 *
 * @example
 * ```ts
 * const { server, socketFor } = testResources();
 * it("...", async () => {
 *   const srv = await server({ policy: "confirm" });
 *   const socket = await socketFor(srv.url, (await login(srv.url)).token);
 * });
 * ```
 */
export function testResources(after: "each" | "all" = "each") {
  const closers: (() => unknown)[] = [];
  (after === "all" ? afterAll : afterEach)(async () => {
    const failures: unknown[] = [];
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, "closing what the test started failed");
  });
  /** Runs `close(resource)` at the end (newest first); returns the resource. */
  const defer = <T>(resource: T, close: (resource: T) => unknown): T => {
    closers.push(() => close(resource));
    return resource;
  };
  /** Closes this socket, server or anything with `close()` at the end. */
  const track = <T extends { close(): unknown }>(resource: T): T => defer(resource, (r) => r.close());

  /** A fresh temp directory, removed at the end. */
  const dir = (prefix?: string): string => defer(tempDir(prefix), (d) => rmSync(d, { recursive: true, force: true }));
  /** A real server on a free port (see {@link startTestServer}); its temp data goes with it, a given `dataDir` stays. */
  const server = async (options: TestServerOptions = {}): Promise<TestServer> =>
    defer(await startTestServer(options), (s) => s.close({ removeData: options.dataDir === undefined }));

  return {
    defer,
    track,
    dir,
    server,
    /**
     * `n` servers sharing one Redis and one key directory, named node-1..node-n, admitting
     * any username (the cluster tests are about the store, not the password check).
     */
    async nodes(n: number, options: NodesOptions): Promise<TestServer[]> {
      const started: TestServer[] = [];
      for (let i = 1; i <= n; i++) {
        started.push(await server({ store: "redis", nodeId: `node-${i}`, authenticate: anyUser, ...options }));
      }
      return started;
    },
    /**
     * The `npm start` server on a free port, SQLite in a temp dir, silent. `env` adds variables
     * (e.g. `SOLO_IDLE_TIMEOUT`), `overrides` what the environment cannot give (a `clock`, a logger).
     */
    async standalone(env: NodeJS.ProcessEnv = {}, overrides: StandaloneOverrides = {}): Promise<Standalone> {
      const dataDir = dir();
      const started = await startStandalone(
        { PORT: "0", HOST: "127.0.0.1", SOLO_DATA_DIR: dataDir, LOG_LEVEL: "silent", ...env },
        { ...overrides, solo: { logger: pino({ level: "silent" }), ...overrides.solo } },
      );
      let closing: Promise<void> | null = null;
      const close = () => {
        closing ??= started.close();
        return closing;
      };
      return defer({ ...started, close }, close);
    },
    /** A connected `/session` socket with this token (options as for {@link connect}). */
    async socketFor(
      url: string,
      token: string | null,
      extra: Parameters<typeof connect>[2] = {},
    ): Promise<ClientSocket> {
      return track(await connect(url, token, extra));
    },
    /**
     * Listens on a free port of `host` (127.0.0.1) with a server of the test's own (http,
     * https or plain TCP); resolves with its URL and port. Open connections are cut at the end.
     */
    async listen(
      listener: HttpServer | HttpsServer | NetServer,
      host = "127.0.0.1",
    ): Promise<{ url: string; port: number }> {
      await new Promise<void>((resolve, reject) => {
        listener.once("error", reject);
        listener.listen(0, host, () => resolve());
      });
      defer(listener, (l) => {
        if ("closeAllConnections" in l) l.closeAllConnections();
        return new Promise<void>((resolve) => l.close(() => resolve()));
      });
      const { port } = listener.address() as AddressInfo;
      return { url: `${listener instanceof HttpsServer ? "https" : "http"}://${host}:${port}`, port };
    },
    /** A real redis-server on a free port (see {@link startRedis}), destroyed with its directory. */
    async redis(options: StartRedisOptions = {}): Promise<TestRedis> {
      return defer(await startRedis(options), (r) => r.destroy());
    },
    /**
     * A connection of the test's own to `redis`, once ready; errors while Redis is down are
     * ignored (it reconnects by itself).
     */
    async redisClient(redis: TestRedis, options: ClientOptions = {}): Promise<Redis> {
      const client = defer(new Redis(redis.url, options), (c) => c.disconnect());
      client.on("error", () => {});
      if (client.status !== "ready") await once(client, "ready");
      return client;
    },
    /** A cluster node in a child process (see {@link startNodeProcess}), SIGKILLed at the end. */
    async nodeProcess(options: Parameters<typeof startNodeProcess>[0]): Promise<NodeProcess> {
      return defer(await startNodeProcess(options), (p) => p.kill());
    },
  };
}
