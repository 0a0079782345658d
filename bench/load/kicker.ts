/**
 * The kicker: holds the victims' sockets and sends the logins that kick them, so the start
 * (`t0`, just before the request is sent) and the receipt of `session:revoked` on the old
 * socket (`t1`) come from one clock. Kicks run one at a time.
 *
 * Against our server a round is: login as the victim (kicks its previous session) → notice on
 * the old socket → connect a socket with the new token. Against the floor: POST /kick for the
 * victim's room → notice → connect a new socket to the room. With several nodes, each login goes
 * to the node after the one holding the old socket.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { keepAliveAgent, loginToken, postJson } from "../lib/http.js";
import type { KickerToParent, KickRequest, KickResult } from "../lib/messages.js";
import { type BenchSocket, connectSocket } from "./sockets.js";

interface Victim {
  name: string;
  node: number;
  socket: BenchSocket;
}

function send(message: KickerToParent): void {
  process.send?.(message);
}

async function kick(req: KickRequest): Promise<KickResult> {
  const agent = keepAliveAgent(4);
  const nodes = req.nodes;
  const open = async (name: string, node: number, token: string | null): Promise<BenchSocket> => {
    const url = nodes[node] as string;
    if (req.kind === "floor") return connectSocket("floor", url, name);
    return connectSocket("solo", url, token ?? (await loginToken(agent, url, name)));
  };

  const victims: Victim[] = [];
  for (let v = 0; v < req.victims; v++) {
    const name = `${req.victimPrefix}${v}`;
    const node = v % nodes.length;
    victims.push({ name, node, socket: await open(name, node, null) });
  }

  const latencies: number[] = [];
  const responses: number[] = [];
  const errors: string[] = [];
  let lost = 0;
  const total = req.warmup + req.kicks;
  for (let round = 0; round < total; round++) {
    const victim = victims[round % victims.length] as Victim;
    const target = nodes.length > 1 ? (victim.node + 1) % nodes.length : 0;
    const old = victim.socket;
    const gone = new Promise<void>((resolve) => {
      if (old.disconnected) resolve();
      else old.once("disconnect", () => resolve());
    });
    let timer: NodeJS.Timeout | undefined;
    const received = new Promise<number | null>((resolve) => {
      timer = setTimeout(() => resolve(null), req.timeoutMs);
      old.once("session:revoked", (_notice, ack) => {
        const t1 = performance.now();
        ack();
        resolve(t1);
      });
    });

    const url = nodes[target] as string;
    const t0 = performance.now();
    const res =
      req.kind === "solo"
        ? await postJson(agent, `${url}/auth/login`, { username: victim.name })
        : await postJson(agent, `${url}/kick`, { room: victim.name });
    const tr = performance.now();
    const t1 = await received;
    clearTimeout(timer);

    let token: string | null = null;
    if (res.status !== 200) {
      if (errors.length < 10) errors.push(`round ${round}: HTTP ${res.status} ${res.body.slice(0, 120)}`);
    } else if (req.kind === "solo") {
      const body = JSON.parse(res.body) as { token: string; replaced: unknown[] };
      token = body.token;
      if (body.replaced.length !== 1 && errors.length < 10) {
        errors.push(`round ${round}: the login replaced ${body.replaced.length} sessions`);
      }
    }
    if (round >= req.warmup) {
      if (t1 === null) lost++;
      else latencies.push(t1 - t0);
      responses.push(tr - t0);
    }
    // Our server disconnects the old socket once it acknowledged; the floor leaves it to the client.
    if (req.kind === "solo" && t1 !== null) await Promise.race([gone, sleep(1000)]);
    old.close();

    victim.node = target;
    victim.socket = await open(victim.name, target, token);
    if (req.pauseMs > 0) await sleep(req.pauseMs);
    if ((round + 1) % 50 === 0) send({ type: "progress", done: round + 1, total });
  }
  for (const v of victims) v.socket.close();
  agent.destroy();
  return { type: "kicked", id: req.id, latencies, responses, lost, errors };
}

process.on("message", (raw) => {
  const req = raw as KickRequest;
  kick(req).then(send, (error: unknown) => {
    send({
      type: "kicked",
      id: req.id,
      latencies: [],
      responses: [],
      lost: 0,
      errors: [error instanceof Error ? (error.stack ?? error.message) : String(error)],
    });
  });
});
process.on("disconnect", () => process.exit(0));
