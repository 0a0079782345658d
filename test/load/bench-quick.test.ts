import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { BenchResults, KickSeries, Skipped } from "../../bench/lib/results.js";
import type { Summary } from "../../bench/lib/stats.js";
import { testResources } from "../support/resources.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const out = testResources("all").dir("solo-bench-test-");

/** Runs the quick benchmark end to end; resolves with its exit code and output. */
function runQuick(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "bench/run.ts", "--quick", "--out", out],
      { cwd: ROOT, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function expectSaneSummary(s: Summary, count: number): void {
  expect(s.count).toBe(count);
  expect(s.min).toBeGreaterThan(0);
  expect(s.min).toBeLessThanOrEqual(s.p50);
  expect(s.p50).toBeLessThanOrEqual(s.p90);
  expect(s.p90).toBeLessThanOrEqual(s.p99);
  expect(s.p99).toBeLessThanOrEqual(s.max);
  expect(s.mean).toBeGreaterThanOrEqual(s.min);
  expect(s.mean).toBeLessThanOrEqual(s.max);
}

function expectSaneSeries(s: KickSeries | Skipped, kicks: number, idle: number): asserts s is KickSeries {
  expect(s.status).toBe("ok");
  const series = s as KickSeries;
  expect(series.errors).toEqual([]);
  expect(series.lost).toBe(0);
  expect(series.kicks).toBe(kicks);
  expect(series.idle).toBe(idle);
  expect(series.samples).toHaveLength(kicks);
  expectSaneSummary(series.latencyMs, kicks);
  expectSaneSummary(series.responseMs, kicks);
}

/** Every phase runs: redis-server is installed by the test command. */
function expectOkOrRedisUnavailable(phase: { status: string; reason?: string }): boolean {
  expect(phase.reason).toBeUndefined();
  expect(phase.status).toBe("ok");
  return true;
}

describe("npm run bench -- --quick", () => {
  it("measures every phase in one run and writes the table, the JSON and the SVG chart", async () => {
    const { code, stdout, stderr } = await runQuick();
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/phase single/);
    expect(stdout).toMatch(/Kick latency/);
    expect(stdout).toMatch(/JSON: .*latest\.json/);
    expect(stdout).toMatch(/SVG: .*kick-latency\.svg/);

    const results = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as BenchResults;
    expect(results.schema).toBe(1);
    expect(results.mode).toBe("quick");
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
    expect(results.machine.loadAverageAtStart).toHaveLength(3);
    expect(results.settings.sizes).toEqual([200]);

    // 1 and 2: kick latency, ours and the floor, at the same N.
    expect(results.kick).toHaveLength(1);
    const row = results.kick[0];
    expect(row?.n).toBe(200);
    expectSaneSeries(row?.ours as KickSeries, results.settings.kicks, 200);
    expectSaneSeries(row?.floor as KickSeries, results.settings.kicks, 200);
    expect(row?.ratio?.p50).toBeGreaterThan(0);
    expect(row?.ratio?.p99).toBeGreaterThan(0);

    // 3: cross-node kicks on three nodes.
    if (expectOkOrRedisUnavailable(results.crossNode) && results.crossNode.status === "ok") {
      expect(results.crossNode.connectedPerNode).toEqual([100, 100, 100]);
      expectSaneSeries(results.crossNode.series, results.settings.clusterKicks, 300);
    }

    // 4: logins per second, SQLite and Redis, and scrypt alone.
    const sqlite = results.logins.sqlite;
    expect(sqlite.status).toBe("ok");
    if (sqlite.status === "ok") {
      expect(sqlite.rps).toBeGreaterThan(0);
      expect(sqlite.p50Ms).toBeLessThanOrEqual(sqlite.p99Ms);
      expect(sqlite.kickedShare).toBeGreaterThan(0.5);
      expect(sqlite.runs.every((r) => r.non2xx === 0 && r.errors === 0)).toBe(true);
    }
    if (expectOkOrRedisUnavailable(results.logins.redis) && results.logins.redis.status === "ok") {
      expect(results.logins.redis.rps).toBeGreaterThan(0);
    }
    const scrypt = results.logins.scrypt;
    expect(scrypt.status).toBe("ok");
    if (scrypt.status === "ok") {
      expect(scrypt.msPerCall).toBeGreaterThan(0);
      expect(scrypt.perCorePerSecond).toBeGreaterThan(0);
    }

    // 5: requireSession() against the bare route.
    const rs = results.requireSession;
    expect(rs.status).toBe("ok");
    if (rs.status === "ok") {
      expect(rs.bare.rps).toBeGreaterThan(0);
      expect(rs.protected.rps).toBeGreaterThan(0);
      expect(rs.bare.p50Ms).toBeLessThanOrEqual(rs.bare.p99Ms);
      expect(rs.protected.p50Ms).toBeLessThanOrEqual(rs.protected.p99Ms);
      expect(rs.throughputCost).toBeLessThan(1);
      expect(rs.runs.every((r) => r.non2xx === 0 && r.errors === 0)).toBe(true);
    }

    // 6: memory per idle session.
    const memory = results.memory;
    expect(memory.status).toBe("ok");
    if (memory.status === "ok") {
      expect(memory.n).toBe(200);
      expect(memory.perSession.heapBytes).toBeGreaterThan(0);
      expect(memory.baseline.heapUsed).toBeGreaterThan(0);
      expect(memory.floorPerSocket?.heapBytes).toBeGreaterThan(0);
    }

    // Every target is evaluated (met, not met, or n/a when its phase was skipped); none is asserted.
    expect(results.targets).toHaveLength(7);
    for (const t of results.targets) expect([true, false, null]).toContain(t.met);

    const svgPath = join(out, "kick-latency.svg");
    expect(existsSync(svgPath)).toBe(true);
    const svg = readFileSync(svgPath, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("ours, N=200");
    expect(svg).toContain("floor, N=200");
    expect(svg.match(/<polyline /g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });
});
