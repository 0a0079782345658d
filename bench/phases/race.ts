import { type Agent, request } from "node:http";
import { keepAliveAgent, postJson } from "../lib/http.js";
import type { RaceResult } from "../lib/results.js";
import { summarize } from "../lib/stats.js";
import { type BenchSocket, connectSocket } from "../load/sockets.js";
import type { Context } from "./context.js";

/** How long a round may take to settle (every losing socket told or refused) before it counts what is left. */
const SETTLE_MS = 5000;

/** GET `path` with a Bearer token; the status. */
function getStatus(agent: Agent, url: string, token: string): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        hostname: target.hostname,
        port: target.port,
        path: target.pathname,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

interface Racer {
  token: string;
  socket: BenchSocket | null;
}

/**
 * Racing logins over a cluster: `raceRounds` rounds, each of `racers` simultaneous logins of a
 * fresh user spread over the nodes, each followed at once by a socket on the next node (acking
 * `session:revoked` as the SDK does). After each round: how many of the round's tokens every
 * node accepts (the user's live sessions: exactly one is the promise), and how many sockets of
 * the losing sessions are still connected once the round settled (none is).
 */
export async function runRace(ctx: Context, store: RaceResult["store"], nodes: readonly string[]): Promise<RaceResult> {
  const s = ctx.settings;
  const agent = keepAliveAgent(4 * s.racers);
  const errors: string[] = [];
  const liveAfter: number[] = [];
  const settle: number[] = [];
  let oneWinner = 0;
  let losingConnected = 0;
  const node = (i: number) => nodes[i % nodes.length] as string;
  try {
    for (let round = 0; round < s.raceRounds; round++) {
      const user = `race-${store}-${round}`;
      const t0 = performance.now();
      const racers = await Promise.all(
        Array.from({ length: s.racers }, async (_, i): Promise<Racer | null> => {
          const res = await postJson(agent, `${node(i + round)}/auth/login`, { username: user });
          if (res.status !== 200) {
            if (errors.length < 10) errors.push(`round ${round}: login HTTP ${res.status} ${res.body.slice(0, 120)}`);
            return null;
          }
          const token = (JSON.parse(res.body) as { token: string }).token;
          // Refused (the session lost before its handshake): null, which is what should happen to a loser.
          const socket = await connectSocket("solo", node(i + round + 1), token).catch(() => null);
          socket?.on("session:revoked", (_notice, ack) => ack());
          return { token, socket };
        }),
      );
      const admitted = racers.filter((r): r is Racer => r !== null);
      const accepted = await Promise.all(
        admitted.map(async (r) => {
          const codes = await Promise.all(nodes.map((n) => getStatus(agent, `${n}/auth/session`, r.token)));
          return codes.every((c) => c === 200) ? "live" : codes.every((c) => c === 401) ? "ended" : "split";
        }),
      );
      const live = accepted.filter((a) => a === "live").length;
      liveAfter.push(live);
      if (live === 1 && accepted.every((a) => a !== "split")) oneWinner++;
      const losers = admitted.filter((_, i) => accepted[i] !== "live");
      // Every loser's socket is told and disconnected by the server; wait for that, boundedly.
      await Promise.all(
        losers.map(
          (r) =>
            new Promise<void>((resolve) => {
              const socket = r.socket;
              if (!socket || socket.disconnected) return resolve();
              const timer = setTimeout(resolve, SETTLE_MS);
              socket.once("disconnect", () => {
                clearTimeout(timer);
                resolve();
              });
            }),
        ),
      );
      settle.push(performance.now() - t0);
      losingConnected += losers.filter((r) => r.socket?.connected).length;
      for (const r of admitted) r.socket?.close();
    }
  } finally {
    agent.destroy();
  }
  const result: RaceResult = {
    status: "ok",
    store,
    nodes: nodes.length,
    rounds: s.raceRounds,
    racers: s.racers,
    roundsWithOneWinner: oneWinner,
    liveAfter,
    losingSocketsConnected: losingConnected,
    settleMs: summarize(settle),
    errors,
  };
  ctx.log(
    `race (${store}): ${oneWinner}/${s.raceRounds} rounds with one winner, ${losingConnected} losing sockets connected, settled in p50 ${result.settleMs.p50} ms`,
  );
  return result;
}
