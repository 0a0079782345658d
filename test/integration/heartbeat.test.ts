import { createServer, type Socket as NetSocket, connect as netConnect } from "node:net";
import { describe, expect, it } from "vitest";
import { login } from "../support/client.js";
import { testResources } from "../support/resources.js";

// A browser that vanishes without closing its connection (its network gone, a tab closed in
// the middle of a connection) leaves a ghost socket on the server until the Socket.IO
// heartbeat gives up: at most pingInterval + pingTimeout.

const { standalone, track, listen, socketFor } = testResources();

/**
 * A TCP proxy to `port`. `cut()` drops the client side and stops forwarding, but keeps the
 * server side open and silent: what the server sees of a network that vanished.
 */
async function vanishingLink(port: number): Promise<{ url: string; cut(): void }> {
  const pairs: [NetSocket, NetSocket][] = [];
  const proxy = createServer((client) => {
    const upstream = netConnect(port, "127.0.0.1");
    for (const s of [client, upstream]) s.on("error", () => {});
    client.pipe(upstream);
    upstream.pipe(client);
    pairs.push([client, upstream]);
  });
  const { url } = await listen(proxy);
  // Closed before the proxy (newest first): the proxy's close waits for its connections.
  track({
    close() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
    },
  });
  return {
    url,
    cut() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        upstream.pause();
        client.destroy();
      }
    },
  };
}

describe("the Socket.IO heartbeat (pingInterval, pingTimeout)", () => {
  it("is 10 s + 5 s by default on the server attach() creates", async () => {
    const server = await standalone();
    expect([server.io.engine.opts.pingInterval, server.io.engine.opts.pingTimeout]).toEqual([10_000, 5000]);
  });

  it("drops a session socket whose client vanished within pingInterval + pingTimeout", async () => {
    const pingInterval = 300;
    const pingTimeout = 300;
    const server = await standalone({}, { solo: { pingInterval, pingTimeout } });
    const link = await vanishingLink(Number(new URL(server.url).port));
    const { token, session } = await login(server.url);
    const gone = new Promise<{ reason: string; at: number }>((resolve) => {
      server.io.of("/session").on("connection", (socket) => {
        if (socket.data.sessionId !== session.id) return;
        socket.on("disconnect", (reason) => resolve({ reason, at: Date.now() }));
      });
    });
    await socketFor(link.url, token);
    const cutAt = Date.now();
    link.cut();
    const { reason, at } = await gone;
    expect(reason).toBe("ping timeout");
    console.info(`client vanished → its socket dropped by the server: ${at - cutAt} ms`);
    // At most one interval until the next ping, then the wait for its answer (slack for a busy machine).
    expect(at - cutAt).toBeLessThan(pingInterval + pingTimeout + 1000);
  });
});
