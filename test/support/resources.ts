import { rmSync } from "node:fs";
import { pino } from "pino";
import { afterEach } from "vitest";
import { type Standalone, startStandalone } from "../../server/standalone.js";
import { type ClientSocket, connect } from "./client.js";
import { startTestServer, type TestServer, tempDir } from "./server.js";

/**
 * The servers and sockets a test file starts, closed after each test (servers with their
 * temp data). Call once at the top of a test file.
 *
 * @example
 * ```ts
 * const { server, socketFor } = testResources();
 * it("...", async () => { const srv = await server({ policy: "confirm" }); ... });
 * ```
 */
export function testResources() {
  const servers: TestServer[] = [];
  const sockets: { close(): unknown }[] = [];
  const standalones: { server: Standalone; dir: string }[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    for (const s of servers.splice(0)) await s.close({ removeData: true });
    for (const { server, dir } of standalones.splice(0)) {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  /** Closes this socket (or anything with `close()`) after the test. */
  const track = <T extends { close(): unknown }>(socket: T): T => {
    sockets.push(socket);
    return socket;
  };
  return {
    track,
    /** A real server on a free port (see {@link startTestServer}). */
    async server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
      const s = await startTestServer(options);
      servers.push(s);
      return s;
    },
    /**
     * The `npm start` server on a free port, SQLite in a temp dir, silent. `env` adds variables
     * (e.g. `SOLO_IDLE_TIMEOUT`), `solo` options the environment cannot give (e.g. a `clock`).
     */
    async standalone(
      env: NodeJS.ProcessEnv = {},
      solo: NonNullable<Parameters<typeof startStandalone>[1]>["solo"] = {},
    ): Promise<Standalone> {
      const dir = tempDir();
      const server = await startStandalone(
        { PORT: "0", HOST: "127.0.0.1", SOLO_DATA_DIR: dir, LOG_LEVEL: "silent", ...env },
        { solo: { logger: pino({ level: "silent" }), ...solo } },
      );
      standalones.push({ server, dir });
      return server;
    },
    /** A connected `/session` socket with this token. */
    async socketFor(url: string, token: string): Promise<ClientSocket> {
      return track(await connect(url, token));
    },
  };
}
