/**
 * Ports for the processes the tests, the benchmark and `npm run cluster` start: the one
 * `freePort` and the one "does redis-server answer" probe they share.
 *
 * @module
 */

import { createServer, Socket } from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it: listen on 0, close).
 * For a process that takes its port as an argument; a server of our own listens on 0 itself.
 *
 * @example
 * ```ts
 * const port = await freePort();
 * spawn("redis-server", ["--port", String(port)]);
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * True when something on 127.0.0.1:`port` answers a Redis `PING` with `PONG` within 500 ms;
 * false when nothing listens there, or it answers otherwise.
 *
 * @example
 * ```ts
 * if (!(await answersPing(6379))) console.error("no redis-server on 6379");
 * ```
 */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let answer = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.on("data", (chunk) => {
      answer += chunk.toString();
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"));
    });
    socket.connect(port, "127.0.0.1", () => socket.write("PING\r\n"));
  });
}
