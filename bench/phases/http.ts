import { join } from "node:path";
import autocannon from "autocannon";
import { keepAliveAgent, loginToken, USER_AGENT } from "../lib/http.js";
import type { HttpRun, LoginResult, RequireSessionResult, Skipped } from "../lib/results.js";
import { skipped } from "../lib/results.js";
import { round, summarize } from "../lib/stats.js";
import type { Context } from "./context.js";
import { type BenchServer, startServer } from "./infra.js";

/** One request of an autocannon run, built afresh for every request. */
export interface CannonRequest {
  method: "GET" | "POST";
  path: string;
  /** Called for every request: its headers and body. */
  next(): { headers: Record<string, string>; body?: string };
  onResponse?(status: number, body: string): void;
}

/** One autocannon run against `url`. Latencies are whole milliseconds (autocannon's histogram). */
export async function cannon(
  ctx: Context,
  label: string,
  url: string,
  req: CannonRequest,
  seconds: number,
  amount?: number,
): Promise<HttpRun> {
  const result = await autocannon({
    url,
    connections: ctx.settings.httpConnections,
    ...(amount ? { amount } : { duration: seconds }),
    requests: [
      {
        method: req.method,
        path: req.path,
        setupRequest: (request) => {
          const next = req.next();
          return { ...request, headers: { ...request.headers, ...next.headers }, body: next.body };
        },
        ...(req.onResponse ? { onResponse: req.onResponse } : {}),
      },
    ],
  });
  const run: HttpRun = {
    label,
    rps: Math.round(result["2xx"] / result.duration),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    seconds: round(result.duration, 2),
  };
  ctx.log(`${label}: ${run.rps.toLocaleString("en-US")} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms`);
  return run;
}

/** The median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const aggregate = (runs: HttpRun[]) => ({
  rps: Math.round(mean(runs.map((r) => r.rps))),
  p50Ms: round(mean(runs.map((r) => r.p50Ms)), 2),
  p99Ms: round(mean(runs.map((r) => r.p99Ms)), 2),
});

/**
 * `requireSession()` overhead: GET /hello against GET /api/hello (behind requireSession) with a
 * live session's Bearer token, rotating over many users' tokens. Runs alternate bare and
 * protected, so drift of the machine's load hits both.
 */
export async function runRequireSession(ctx: Context): Promise<RequireSessionResult> {
  const s = ctx.settings;
  const server = await soloServer(ctx, "sqlite", null, "http");
  if ("unavailable" in server) throw new Error(server.unavailable);
  try {
    const agent = keepAliveAgent(16);
    const tokens: string[] = [];
    for (let i = 0; i < s.helloTokens; i += 16) {
      const batch = Array.from({ length: Math.min(16, s.helloTokens - i) }, (_, j) =>
        loginToken(agent, server.url, `hello-${i + j}`),
      );
      tokens.push(...(await Promise.all(batch)));
    }
    agent.destroy();
    let turn = 0;
    const request = (path: string): CannonRequest => ({
      method: "GET",
      path,
      // The same header on both routes: the bare one ignores it.
      next: () => ({
        headers: { authorization: `Bearer ${tokens[turn++ % tokens.length]}`, "user-agent": USER_AGENT },
      }),
    });
    // Warm-up: every token is verified once (then cached, as in a long-running server).
    await cannon(ctx, "warm-up /hello", server.url, request("/hello"), 0, s.helloTokens);
    await cannon(ctx, "warm-up /api/hello", server.url, request("/api/hello"), 0, 2 * s.helloTokens);
    const runs: HttpRun[] = [];
    for (let r = 0; r < s.httpRounds; r++) {
      const bare = () => cannon(ctx, "GET /hello (bare)", server.url, request("/hello"), s.httpSeconds);
      const prot = () =>
        cannon(ctx, "GET /api/hello (requireSession)", server.url, request("/api/hello"), s.httpSeconds);
      runs.push(r === 0 ? await server.profiled("hello-bare", bare) : await bare());
      runs.push(r === 0 ? await server.profiled("hello-protected", prot) : await prot());
    }
    const bareRuns = runs.filter((r) => r.label.includes("bare"));
    const protRuns = runs.filter((r) => r.label.includes("requireSession"));
    const bare = aggregate(bareRuns);
    const prot = aggregate(protRuns);
    const pairCosts = bareRuns.map((b, i) => round(1 - (protRuns[i]?.rps ?? 0) / b.rps, 3));
    const bad = runs.filter((r) => r.non2xx > 0 || r.errors > 0);
    if (bad.length > 0) ctx.log(`requireSession: ${bad.length} runs had non-2xx answers or errors`);
    return { status: "ok", bare, protected: prot, throughputCost: median(pairCosts), pairCosts, runs };
  } finally {
    await server.stop();
  }
}

/**
 * Logins per second at saturation: POST /auth/login with bodies rotating over many users, so
 * (after the warm-up pass) each login signs a token, claims the session in the store and ends
 * (kicks) the user's previous session. Authentication is trivial: no password hashing.
 */
export async function runLogins(
  ctx: Context,
  store: "sqlite" | "redis" | "postgres",
  url: string | null,
): Promise<LoginResult | Skipped> {
  const s = ctx.settings;
  const server = await soloServer(ctx, store, url, `logins-${store}`);
  if ("unavailable" in server) return skipped(`${store} store not available in this build (${server.unavailable})`);
  try {
    let turn = 0;
    let kicked = 0;
    let answered = 0;
    const request: CannonRequest = {
      method: "POST",
      path: "/auth/login",
      next: () => ({
        headers: { "content-type": "application/json", "user-agent": USER_AGENT },
        body: `{"username":"login-${turn++ % s.loginUsers}"}`,
      }),
      onResponse: (status, body) => {
        if (status !== 200) return;
        answered++;
        if (body.includes('"replaced":[{')) kicked++;
      },
    };
    // Warm-up: every user gets a first session, so that each measured login kicks one.
    await cannon(ctx, `warm-up logins (${store})`, server.url, request, 0, s.loginUsers);
    kicked = 0;
    answered = 0;
    await server.claims(); // the warm-up's claims are not measured
    const runs: HttpRun[] = [];
    for (let r = 0; r < s.httpRounds; r++) {
      const run = () => cannon(ctx, `POST /auth/login (${store})`, server.url, request, s.httpSeconds);
      runs.push(r === 0 ? await server.profiled(`logins-${store}`, run) : await run());
    }
    const all = aggregate(runs);
    const claimMs = summarize(await server.claims());
    ctx.log(`claims (${store}): p50 ${claimMs.p50} ms, p99 ${claimMs.p99} ms over ${claimMs.count}`);
    return {
      status: "ok",
      store,
      rps: all.rps,
      rpsMedian: median(runs.map((r) => r.rps)),
      p50Ms: all.p50Ms,
      p99Ms: all.p99Ms,
      kickedShare: round(kicked / Math.max(1, answered), 3),
      claimMs,
      runs,
    };
  } finally {
    await server.stop();
  }
}

function soloServer(
  ctx: Context,
  store: "sqlite" | "redis" | "postgres",
  url: string | null,
  name: string,
): Promise<BenchServer | { unavailable: string }> {
  return startServer(
    ctx,
    {
      kind: "solo",
      store,
      dataDir: join(ctx.tmp, name),
      redisUrl: store === "redis" ? url : null,
      databaseUrl: store === "postgres" ? url : null,
      nodeId: `bench-${name}`,
      serverModule: ctx.serverModule,
    },
    `solo-${name}`,
  );
}
