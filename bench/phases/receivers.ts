import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { keepAliveAgent, postJson } from "../lib/http.js";
import type { ReceiversResult } from "../lib/results.js";
import { summarize } from "../lib/stats.js";
import type { Context } from "./context.js";
import { startServer } from "./infra.js";

const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

/**
 * Session events for other services: a receiver on this machine (in the orchestrator) is told
 * of every ended session by a server with `receivers` (CAEP format). Measures the delivery
 * latency, from the session's end (the SET's `event_timestamp`, to the millisecond) to the
 * receiver having the request, and the login latency of that server beside one without
 * receivers, their logins alternating (each login replaces the previous one: one end each).
 */
export async function runReceivers(ctx: Context): Promise<ReceiversResult> {
  const latencies: number[] = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      const arrived = Date.now();
      const payload = JSON.parse(Buffer.from(body.split(".")[1] ?? "", "base64url").toString("utf8")) as {
        events?: Record<string, { event_timestamp?: number }>;
      };
      const endedAt = payload.events?.[SESSION_REVOKED]?.event_timestamp;
      if (typeof endedAt === "number") latencies.push(arrived - endedAt * 1000);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", () => resolve()));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/caep`;
  const common = {
    kind: "solo",
    store: "sqlite",
    redisUrl: null,
    databaseUrl: null,
    serverModule: ctx.serverModule,
  } as const;
  const withReceiver = await startServer(
    ctx,
    {
      ...common,
      dataDir: `${ctx.tmp}/receivers-with`,
      nodeId: "with",
      receivers: [{ url, audience: "bench", format: "caep" }],
    },
    "receivers-with",
  );
  const without = await startServer(
    ctx,
    { ...common, dataDir: `${ctx.tmp}/receivers-without`, nodeId: "without" },
    "receivers-without",
  );
  try {
    if ("unavailable" in withReceiver || "unavailable" in without) throw new Error("a bench server is unavailable");
    const agent = keepAliveAgent(2);
    const loginWith: number[] = [];
    const loginWithout: number[] = [];
    const ends = ctx.settings.receiverEnds;
    for (let i = 0; i <= ends; i++) {
      // Alternate which server goes first, so neither always meets the other's leftovers.
      const order = i % 2 === 0 ? [withReceiver, without] : [without, withReceiver];
      for (const server of order) {
        const t0 = performance.now();
        const res = await postJson(agent, `${server.url}/auth/login`, { username: "receiver-bench" });
        if (res.status !== 200) throw new Error(`login ${res.status}: ${res.body.slice(0, 200)}`);
        if (i > 0) (server === withReceiver ? loginWith : loginWithout).push(performance.now() - t0);
      }
    }
    const deadline = Date.now() + 30_000;
    while (latencies.length < ends && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20)); // polling the count, not timing
    agent.destroy();
    if (latencies.length < ends) throw new Error(`only ${latencies.length} of ${ends} events arrived within 30 s`);
    const result: ReceiversResult = {
      status: "ok",
      delivered: latencies.length,
      latency: summarize(latencies),
      loginWith: summarize(loginWith),
      loginWithout: summarize(loginWithout),
    };
    ctx.log(
      `receivers: ${result.delivered} events, end → receiver p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ` +
        `login p50 ${result.loginWith.p50} ms with a receiver, ${result.loginWithout.p50} ms without`,
    );
    return result;
  } finally {
    if (!("unavailable" in withReceiver)) await withReceiver.stop();
    if (!("unavailable" in without)) await without.stop();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}
