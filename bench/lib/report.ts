import type { BenchResults, ClusterResult, KickSeries, LoginResult, RaceResult, Skipped, Target } from "./results.js";

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "-");
const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;

/** A table row, or a first cell followed by free text that spans the other columns. */
type Row = string[] | { first: string; span: string };

/** Left-aligned first column, right-aligned others. */
function table(rows: Row[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    const cells = Array.isArray(row) ? row : [row.first];
    cells.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      Array.isArray(row)
        ? row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ")
        : `${row.first.padEnd(widths[0] ?? 0)}  ${row.span}`,
    )
    .join("\n");
}

function kickRow(label: string, s: KickSeries | Skipped, ratio: string): Row {
  if (s.status === "skipped") return { first: label, span: `skipped: ${s.reason}` };
  const l = s.latencyMs;
  return [label, int(s.idle), int(s.kicks), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.max), `${s.lost}`, ratio];
}

/** The targets of the issue, checked against the measurements. */
export function evaluateTargets(r: Omit<BenchResults, "targets" | "files">): Target[] {
  const targets: Target[] = [];
  const big = r.kick[r.kick.length - 1];
  if (big && big.ours.status === "ok") {
    targets.push({
      name: `kick p50, one node, N=${int(big.n)}`,
      target: "<= 2 ms",
      measured: `${ms(big.ours.latencyMs.p50)} ms`,
      met: big.ours.latencyMs.p50 <= 2,
    });
    if (big.ratio) {
      targets.push({
        name: `kick p99 / floor p99, N=${int(big.n)}`,
        target: "<= 1.3x",
        measured: `${big.ratio.p99.toFixed(2)}x (${ms(big.ours.latencyMs.p99)} vs ${ms((big.floor as KickSeries).latencyMs.p99)} ms)`,
        met: big.ratio.p99 <= 1.3,
      });
    }
  }
  for (const [label, cross] of [
    ["Redis", r.crossNode],
    ["PostgreSQL", r.crossNodePostgres],
  ] as const) {
    if (cross.status === "ok") {
      const c = cross.series;
      targets.push({
        name: `cross-node kick p99, no lost notice (${label})`,
        target: "<= 25 ms, 0 lost",
        measured: `${ms(c.latencyMs.p99)} ms, ${c.lost} lost`,
        met: c.latencyMs.p99 <= 25 && c.lost === 0,
      });
    } else {
      targets.push({
        name: `cross-node kick p99 (${label})`,
        target: "<= 25 ms, 0 lost",
        measured: "skipped",
        met: null,
      });
    }
  }
  for (const [label, race] of [
    ["Redis", r.race.redis],
    ["PostgreSQL", r.race.postgres],
  ] as const) {
    targets.push({
      name: `racing logins leave one live session (${label})`,
      target: "every round, 0 losing sockets",
      measured:
        race.status === "ok"
          ? `${race.roundsWithOneWinner}/${race.rounds} rounds, ${race.losingSocketsConnected} losing sockets`
          : "skipped",
      met:
        race.status === "ok"
          ? race.roundsWithOneWinner === race.rounds && race.losingSocketsConnected === 0 && race.errors.length === 0
          : null,
    });
  }
  for (const store of ["sqlite", "redis", "postgres"] as const) {
    const l = r.logins[store];
    targets.push({
      name: `logins/s (${store}), no hashing`,
      target: ">= 5,000/s",
      measured: l.status === "ok" ? `${int(l.rps)}/s` : "skipped",
      met: l.status === "ok" ? l.rps >= 5000 : null,
    });
  }
  const rs = r.requireSession;
  targets.push({
    name: "requireSession() throughput cost",
    target: "<= 10%",
    measured: rs.status === "ok" ? `${(rs.throughputCost * 100).toFixed(1)}%` : "skipped",
    met: rs.status === "ok" ? rs.throughputCost <= 0.1 : null,
  });
  const m = r.memory;
  targets.push({
    name: `heap per idle session${m.status === "ok" ? `, N=${int(m.n)}` : ""}`,
    target: "<= 6 KB",
    measured: m.status === "ok" ? kb(m.perSession.heapBytes) : "skipped",
    met: m.status === "ok" ? m.perSession.heapBytes <= 6 * 1024 : null,
  });
  return targets;
}

/** The table printed on stdout. */
export function formatReport(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    `solo-session benchmark (${r.mode}), ${r.startedAt}`,
    `machine: ${m.cpus} x ${m.cpuModel}, ${m.totalMemoryGiB} GiB, ${m.os}, Node ${m.node}; load average ${m.loadAverageAtStart.join(" ")} at start, ${r.loadAverageAtEnd.join(" ")} at end`,
    `server code: ${r.settings.serverCode}; ${r.seconds.toFixed(0)} s`,
    "",
    "Kick latency: login request sent -> session:revoked received on the old socket (ms)",
  );
  const rows: Row[] = [["", "idle", "kicks", "p50", "p90", "p99", "max", "lost", "ours/floor p50, p99"]];
  for (const row of r.kick) {
    const ratio = row.ratio ? `${row.ratio.p50.toFixed(2)}x, ${row.ratio.p99.toFixed(2)}x` : "";
    rows.push(kickRow(`ours, 1 node, SQLite, N=${int(row.n)}`, row.ours, ratio));
    rows.push(kickRow(`floor (Express + Socket.IO), N=${int(row.n)}`, row.floor, ""));
  }
  const redisCross = r.crossNode;
  const pgCross = r.crossNodePostgres;
  if (redisCross.status === "ok") {
    const store = redisCross.series.store === "redis" ? "Redis" : "shared SQLite + Redis adapter";
    rows.push(kickRow(`cross-node, ${redisCross.nodes} nodes, ${store}`, redisCross.series, ""));
  } else {
    rows.push({ first: "cross-node, 3 nodes, Redis", span: `skipped: ${redisCross.reason}` });
  }
  if (pgCross.status === "ok") {
    const ratio =
      redisCross.status === "ok"
        ? `${(pgCross.series.latencyMs.p50 / redisCross.series.latencyMs.p50).toFixed(2)}x, ${(pgCross.series.latencyMs.p99 / redisCross.series.latencyMs.p99).toFixed(2)}x of Redis`
        : "";
    rows.push(kickRow(`cross-node, ${pgCross.nodes} nodes, PostgreSQL`, pgCross.series, ratio));
  } else {
    rows.push({ first: "cross-node, 3 nodes, PostgreSQL", span: `skipped: ${pgCross.reason}` });
  }
  out.push(table(rows));
  for (const [label, c] of [
    ["Redis", redisCross],
    ["PostgreSQL", pgCross],
  ] as const) {
    if (c.status !== "ok") continue;
    out.push(idleLine(label, c));
    out.push(
      `  the store's claim during these kicks (${label}, one login at a time): p50 ${ms(c.claimMs.p50)} ms, p99 ${ms(c.claimMs.p99)} ms, max ${ms(c.claimMs.max)} ms`,
    );
  }

  out.push(
    "",
    "Racing logins: each round, simultaneous logins of one user over the nodes, each socket on another node",
  );
  const race: Row[] = [["", "rounds", "racers", "one winner", "losing sockets left", "settle p50 ms", "settle max ms"]];
  for (const [label, rr] of [
    ["Redis", r.race.redis],
    ["PostgreSQL", r.race.postgres],
  ] as const) {
    race.push(raceRow(`3 nodes, ${label}`, rr));
  }
  out.push(table(race));

  out.push("", "HTTP at saturation (autocannon, whole-ms latencies)");
  const http: Row[] = [["", "req/s", "p50 ms", "p99 ms", "note"]];
  for (const store of ["sqlite", "redis", "postgres"] as const) {
    const l = r.logins[store];
    if (l.status === "ok") {
      http.push([
        `POST /auth/login, ${store}${store === "redis" && r.settings.redisAof !== "off" ? ` (AOF ${r.settings.redisAof})` : ""}${store === "postgres" ? ` (synchronous_commit ${r.settings.postgresSync})` : ""}`,
        int(l.rps),
        ms(l.p50Ms),
        ms(l.p99Ms),
        `${(l.kickedShare * 100).toFixed(0)}% kicked a session`,
      ]);
    } else http.push({ first: `POST /auth/login, ${store}`, span: `skipped: ${l.reason}` });
  }
  for (const w of r.replicaWait ?? []) {
    if (w.status === "ok") {
      http.push([
        `POST /auth/login, ${w.deployment}, no WAIT (baseline)`,
        int(w.noWaitRps),
        ms(w.noWaitP50Ms),
        "",
        "median of the runs",
      ]);
      http.push([
        `POST /auth/login, ${w.deployment}, WAIT 1 replica`,
        int(w.waitRps),
        ms(w.waitP50Ms),
        "",
        `${w.ratio.toFixed(2)}x the baseline (same run, alternating)`,
      ]);
    } else http.push({ first: "POST /auth/login, WAIT 1 replica", span: `skipped: ${w.reason}` });
  }
  const sc = r.logins.scrypt;
  if (sc.status === "ok") {
    http.push([
      "scrypt password check (standalone)",
      int(sc.concurrentPerSecond),
      ms(sc.msPerCall),
      "-",
      `${sc.concurrency} in flight; one at a time: ${int(sc.perCorePerSecond)}/s per core`,
    ]);
  } else http.push({ first: "scrypt password check (standalone)", span: `skipped: ${sc.reason}` });
  const rs = r.requireSession;
  if (rs.status === "ok") {
    http.push(["GET /hello (bare)", int(rs.bare.rps), ms(rs.bare.p50Ms), ms(rs.bare.p99Ms), ""]);
    http.push([
      "GET /api/hello (requireSession)",
      int(rs.protected.rps),
      ms(rs.protected.p50Ms),
      ms(rs.protected.p99Ms),
      `costs ${(rs.throughputCost * 100).toFixed(1)}% of the bare throughput (median of ${rs.pairCosts.length} pairs)`,
    ]);
  } else http.push({ first: "requireSession()", span: `skipped: ${rs.reason}` });
  out.push(table(http));

  out.push(
    "",
    "Logins by store: median req/s of the runs, the store's claim timed inside the server (ms), ratio to SQLite",
  );
  const claims: Row[] = [["", "median req/s", "claim p50", "claim p99", "claim max", "claims", "req/s vs SQLite"]];
  const sqliteLogins = r.logins.sqlite;
  for (const store of ["sqlite", "redis", "postgres"] as const)
    claims.push(claimRow(store, r.logins[store], sqliteLogins));
  out.push(table(claims));

  out.push("", "Session events for other services (SQLite; a receiver on this machine, CAEP)");
  const rc = r.receivers;
  if (rc.status === "ok") {
    const rrows: Row[] = [["", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"]];
    const summary = (label: string, x: typeof rc.latency): Row => [
      label,
      int(x.count),
      ms(x.p50),
      ms(x.p90),
      ms(x.p99),
      ms(x.max),
    ];
    rrows.push(summary("session end -> receiver has the event", rc.latency));
    rrows.push(summary("login, server with a receiver", rc.loginWith));
    rrows.push(summary("login, server without (alternating)", rc.loginWithout));
    out.push(table(rrows));
  } else out.push(`skipped: ${rc.reason}`);

  out.push("", "Memory of our server per idle authenticated session (after gc)");
  if (r.memory.status === "ok") {
    const mem = r.memory;
    const mrows: Row[] = [["", "heap", "RSS"]];
    mrows.push([
      `per session, N=${int(mem.n)} (from an empty server)`,
      kb(mem.perSession.heapBytes),
      kb(mem.perSession.rssBytes),
    ]);
    if (mem.marginal)
      mrows.push(["per added session (first N to last N)", kb(mem.marginal.heapBytes), kb(mem.marginal.rssBytes)]);
    if (mem.floorPerSocket)
      mrows.push(["floor, per idle socket", kb(mem.floorPerSocket.heapBytes), kb(mem.floorPerSocket.rssBytes)]);
    out.push(table(mrows));
  } else out.push(`skipped: ${r.memory.reason}`);

  out.push("", "Targets");
  out.push(
    table([
      ["", "target", "measured", ""],
      ...r.targets.map((t) => [t.name, t.target, t.measured, t.met === null ? "n/a" : t.met ? "met" : "NOT met"]),
    ]),
  );
  out.push("", `JSON: ${r.files.json}`, `SVG:  ${r.files.svg}`);
  return out.join("\n");
}

function idleLine(label: string, c: ClusterResult): string {
  return (
    `  cross-node idle sessions per node (${label}): ${c.connectedPerNode.map(int).join(", ")} of ${int(c.targetPerNode)} targeted` +
    (c.connectFailures ? ` (${c.connectFailures} failed: ${c.connectErrors[0] ?? ""})` : "")
  );
}

function raceRow(label: string, r: RaceResult | Skipped): Row {
  if (r.status === "skipped") return { first: label, span: `skipped: ${r.reason}` };
  return [
    label,
    int(r.rounds),
    int(r.racers),
    `${r.roundsWithOneWinner}/${r.rounds}`,
    int(r.losingSocketsConnected),
    ms(r.settleMs.p50),
    ms(r.settleMs.max),
  ];
}

function claimRow(store: string, l: LoginResult | Skipped, base: LoginResult | Skipped): Row {
  if (l.status === "skipped") return { first: store, span: `skipped: ${l.reason}` };
  const c = l.claimMs;
  const ratio = base.status === "ok" ? `${(l.rpsMedian / base.rpsMedian).toFixed(2)}x` : "-";
  return [store, int(l.rpsMedian), ms(c.p50), ms(c.p99), ms(c.max), int(c.count), ratio];
}
