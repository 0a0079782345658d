import { afterEach } from "vitest";
import { type ClientSocket, connect } from "./client.js";
import { startTestServer, type TestServer } from "./server.js";

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
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    for (const s of servers.splice(0)) await s.close({ removeData: true });
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
    /** A connected `/session` socket with this token. */
    async socketFor(url: string, token: string): Promise<ClientSocket> {
      return track(await connect(url, token));
    },
  };
}
