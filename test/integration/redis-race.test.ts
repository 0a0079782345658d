import { io } from "socket.io-client";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { type ClientSocket, call, login } from "../support/client.js";
import { uniquePrefix } from "../support/redis.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

const ROUNDS = 50;
const RACERS = 20;

const shared = testResources("all");
let nodes: TestServer[] = [];
beforeAll(async () => {
  const redis = await shared.redis();
  // 20 simultaneous logins of one user would (rightly) trip the per-name login limit;
  // this test is about the claim, so the limits are out of the way.
  nodes = await shared.nodes(3, {
    redis: { url: redis.url, keyPrefix: uniquePrefix("race") },
    dataDir: shared.dir("solo-race-"),
    rateLimit: false,
  });
});

const node = (i: number) => nodes[i % nodes.length] as TestServer;

/**
 * Connects like the SDK does: the `session:revoked` listener (acknowledging) is registered
 * before connecting, since the notice can arrive together with the CONNECT. Null when the
 * handshake is refused, with its code.
 */
async function connectAcking(url: string, token: string, refusals: string[]): Promise<ClientSocket | null> {
  const socket: ClientSocket = io(`${url}/session`, {
    auth: { token },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
  });
  socket.on("session:revoked", (_notice, ack) => ack());
  return new Promise((resolve) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      socket.close();
      refusals.push(error.message);
      resolve(null);
    });
  });
}

/**
 * How long a told socket may take to be gone: 1 s, well under `ackTimeout` (3 s), so a socket
 * revoked in its own handshake's re-check is not left waiting for an ack.
 */
const GONE = { timeout: 1000, interval: 10 };

/** How each node answers GET /auth/session for a token: the codes, "ok" for 200. */
async function verdicts(token: string): Promise<string[]> {
  return Promise.all(
    nodes.map(async (n) => {
      const res = await call(n.url, "/auth/session", token);
      return res.status === 200 ? "ok" : (res.body as ErrorBody).error;
    }),
  );
}

describe("racing logins across three nodes", () => {
  it(`${ROUNDS} rounds of ${RACERS} simultaneous logins: one winner everywhere, every loser replaced, one socket left`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const user = `racer-${round % 5}`;
      const refusals: string[] = [];
      const racers = await Promise.all(
        Array.from({ length: RACERS }, async (_, i) => {
          const res = await login(node(i + round).url, { username: user, device: { name: `racer ${i}` } });
          // The socket goes to another node than the login, as soon as the login returns.
          const socket = await connectAcking(node(i + round + 1).url, res.token, refusals);
          return { token: res.token, sessionId: res.session.id, socket };
        }),
      );
      try {
        const answers = await Promise.all(racers.map((r) => verdicts(r.token)));
        const winners = racers.filter((_, i) => answers[i]?.every((a) => a === "ok"));
        expect(winners, `round ${round}`).toHaveLength(1);
        const winner = winners[0] as (typeof racers)[number];
        for (const [i, r] of racers.entries()) {
          if (r !== winner)
            expect(answers[i], `round ${round}`).toEqual(["session_replaced", "session_replaced", "session_replaced"]);
        }
        expect(new Set(refusals), `round ${round}`).toEqual(
          refusals.length ? new Set(["session_replaced"]) : new Set(),
        );
        // Every loser's socket is told and disconnected, including those whose handshake was in flight.
        await vi.waitFor(
          () =>
            expect(
              racers.filter((r) => r.socket?.connected).length,
              `round ${round}: sockets left`,
            ).toBeLessThanOrEqual(1),
          GONE,
        );
        expect(racers.filter((r) => r.socket?.connected).map((r) => r.sessionId)).toEqual([winner.sessionId]);
      } finally {
        for (const r of racers) r.socket?.close();
      }
    }
  }, 120_000);

  it("a login racing a logout: the logged-out session stays ended, the new one lives, sockets follow", async () => {
    for (let round = 0; round < 20; round++) {
      const user = `leaver-${round % 3}`;
      const refusals: string[] = [];
      const old = await login(node(round).url, { username: user });
      const oldSocket = await connectAcking(node(round + 1).url, old.token, refusals);
      expect(oldSocket?.connected).toBe(true);
      const [out, next] = await Promise.all([
        call(node(round + 2).url, "/auth/logout", old.token, { method: "POST" }),
        login(node(round).url, { username: user }).then(async (res) => ({
          ...res,
          socket: await connectAcking(node(round + 1).url, res.token, refusals),
        })),
      ]);
      try {
        expect(out.status).toBe(204);
        expect(refusals).toEqual([]);
        for (const verdict of await verdicts(old.token))
          expect(["session_revoked", "session_replaced"]).toContain(verdict);
        expect(await verdicts(next.token)).toEqual(["ok", "ok", "ok"]);
        await vi.waitFor(() => expect(oldSocket?.connected, `round ${round}: old socket connected`).toBe(false), GONE);
        expect(next.socket?.connected).toBe(true);
      } finally {
        oldSocket?.close();
        next.socket?.close();
      }
    }
  }, 60_000);
});
