/**
 * Racing logins across cluster nodes, whatever they share (Redis, PostgreSQL): rounds of
 * simultaneous logins of one user, each socket on another node than its login, and logins
 * racing logouts. The backends' race test files call these on their own nodes.
 */
import { io } from "socket.io-client";
import { expect, vi } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { type ClientSocket, call, login } from "./client.js";
import type { TestServer } from "./server.js";

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
async function verdicts(nodes: readonly TestServer[], token: string): Promise<string[]> {
  return Promise.all(
    nodes.map(async (n) => {
      const res = await call(n.url, "/auth/session", token);
      return res.status === 200 ? "ok" : (res.body as ErrorBody).error;
    }),
  );
}

/**
 * `rounds` rounds of `racers` simultaneous logins of one user over the nodes: one winner
 * everywhere, every loser replaced on every node, and one socket left (the winner's), including
 * losers whose handshake was in flight when they lost.
 */
export async function racingLogins(nodes: readonly TestServer[], rounds: number, racers: number): Promise<void> {
  const node = (i: number) => nodes[i % nodes.length] as TestServer;
  for (let round = 0; round < rounds; round++) {
    const user = `racer-${round % 5}`;
    const refusals: string[] = [];
    const racing = await Promise.all(
      Array.from({ length: racers }, async (_, i) => {
        const res = await login(node(i + round).url, { username: user, device: { name: `racer ${i}` } });
        // The socket goes to another node than the login, as soon as the login returns.
        const socket = await connectAcking(node(i + round + 1).url, res.token, refusals);
        return { token: res.token, sessionId: res.session.id, socket };
      }),
    );
    try {
      const answers = await Promise.all(racing.map((r) => verdicts(nodes, r.token)));
      const winners = racing.filter((_, i) => answers[i]?.every((a) => a === "ok"));
      expect(winners, `round ${round}`).toHaveLength(1);
      const winner = winners[0] as (typeof racing)[number];
      for (const [i, r] of racing.entries()) {
        if (r !== winner) expect(answers[i], `round ${round}`).toEqual(nodes.map(() => "session_replaced"));
      }
      expect(new Set(refusals), `round ${round}`).toEqual(refusals.length ? new Set(["session_replaced"]) : new Set());
      // Every loser's socket is told and disconnected, including those whose handshake was in flight.
      await vi.waitFor(
        () =>
          expect(racing.filter((r) => r.socket?.connected).length, `round ${round}: sockets left`).toBeLessThanOrEqual(
            1,
          ),
        GONE,
      );
      expect(racing.filter((r) => r.socket?.connected).map((r) => r.sessionId)).toEqual([winner.sessionId]);
    } finally {
      for (const r of racing) r.socket?.close();
    }
  }
}

/** `rounds` rounds of a login racing a logout: the logged-out session stays ended, the new one lives, sockets follow. */
export async function loginsRacingLogouts(nodes: readonly TestServer[], rounds: number): Promise<void> {
  const node = (i: number) => nodes[i % nodes.length] as TestServer;
  for (let round = 0; round < rounds; round++) {
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
      for (const verdict of await verdicts(nodes, old.token))
        expect(["session_revoked", "session_replaced"]).toContain(verdict);
      expect(await verdicts(nodes, next.token)).toEqual(nodes.map(() => "ok"));
      await vi.waitFor(() => expect(oldSocket?.connected, `round ${round}: old socket connected`).toBe(false), GONE);
      expect(next.socket?.connected).toBe(true);
    } finally {
      oldSocket?.close();
      next.socket?.close();
    }
  }
}
