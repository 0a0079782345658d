import type { BenchResults, KickSeries } from "./results.js";

/** One line of the chart. */
export interface ChartSeries {
  label: string;
  samples: readonly number[];
  color: string;
  dashed: boolean;
}

const W = 960;
const H = 540;
const PLOT = { left: 80, right: 650, top: 78, bottom: 470 };
/** Percentiles shown on the x axis: position is log10(1 / (1 − p)), as in HdrHistogram plots. */
const X_TICKS = [0, 0.5, 0.75, 0.9, 0.99, 0.999];
const X_MAX = 3;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (v: number) => (Number.isInteger(v) || v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2));

function xOf(p: number): number {
  const t = Math.min(X_MAX, Math.log10(1 / (1 - p)));
  return PLOT.left + (t / X_MAX) * (PLOT.right - PLOT.left);
}

/** 1-2-5 ticks covering [min, max]. */
function yTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) ticks.push(m * 10 ** e);
  }
  const lo = ticks.filter((t) => t <= min).pop() ?? ticks[0] ?? min;
  const hi = ticks.find((t) => t >= max) ?? max;
  return ticks.filter((t) => t >= lo && t <= hi);
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

/**
 * A latency-by-percentile chart (log scales): for each series, the kick latency (y, ms) below
 * which a given share of the kicks fell (x). Legend with p50 and p99 of each series.
 */
export function latencyChart(title: string, subtitle: string, series: readonly ChartSeries[]): string {
  const all = series.flatMap((s) => s.samples).filter((v) => v > 0);
  const ticks = yTicks(Math.max(0.01, Math.min(...all)), Math.max(...all));
  const yLo = Math.log10(ticks[0] ?? 0.1);
  const yHi = Math.log10(ticks[ticks.length - 1] ?? 100);
  const yOf = (v: number) =>
    PLOT.bottom - ((Math.log10(Math.max(v, 10 ** yLo)) - yLo) / (yHi - yLo || 1)) * (PLOT.bottom - PLOT.top);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${PLOT.left}" y="30" font-size="20" font-weight="bold" fill="#111">${esc(title)}</text>`,
    `<text x="${PLOT.left}" y="54" font-size="13" fill="#555">${esc(subtitle)}</text>`,
  );
  for (const t of ticks) {
    const y = yOf(t).toFixed(1);
    parts.push(
      `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`,
      `<text x="${PLOT.left - 8}" y="${y}" dy="4" font-size="12" text-anchor="end" fill="#333">${fmt(t)}</text>`,
    );
  }
  for (const p of X_TICKS) {
    const x = xOf(p).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${PLOT.top}" y2="${PLOT.bottom}" stroke="#e3e3e3"/>`,
      `<text x="${x}" y="${PLOT.bottom + 20}" font-size="12" text-anchor="middle" fill="#333">${p === 0 ? "0" : `${+(p * 100).toFixed(1)}`}%</text>`,
    );
  }
  parts.push(
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#888"/>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 46}" font-size="14" text-anchor="middle" fill="#111">percentile of kicks (log scale toward the tail)</text>`,
    `<text transform="translate(26 ${(PLOT.top + PLOT.bottom) / 2}) rotate(-90)" font-size="14" text-anchor="middle" fill="#111">kick latency, ms (log scale)</text>`,
  );
  for (const s of series) {
    const sorted = [...s.samples].sort((a, b) => a - b);
    const n = sorted.length;
    if (n === 0) continue;
    const points = sorted.map((v, i) => `${xOf((i + 0.5) / n).toFixed(1)},${yOf(v).toFixed(1)}`).join(" ");
    parts.push(
      `<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="2.2"${s.dashed ? ' stroke-dasharray="7 4"' : ""} stroke-linejoin="round"/>`,
    );
  }
  const lx = PLOT.right + 24;
  parts.push(
    `<text x="${lx}" y="${PLOT.top + 4}" font-size="13" font-weight="bold" fill="#111">series: p50 / p99 (ms)</text>`,
  );
  series.forEach((s, i) => {
    const y = PLOT.top + 32 + i * 44;
    const sorted = [...s.samples].sort((a, b) => a - b);
    parts.push(
      `<line x1="${lx}" x2="${lx + 30}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="7 4"' : ""}/>`,
      `<text x="${lx + 38}" y="${y + 4}" font-size="13" fill="#111">${esc(s.label)}</text>`,
      `<text x="${lx + 38}" y="${y + 21}" font-size="12" fill="#555">${fmt(pct(sorted, 0.5))} / ${fmt(pct(sorted, 0.99))}  (${sorted.length} kicks)</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

const PALETTE = ["#1f5fbf", "#d1495b", "#7b3fb3", "#d9822b"];

/** The README's chart: ours beside the floor at each N, and cross-node when it ran. */
export function kickChart(r: Omit<BenchResults, "files" | "targets">): string {
  const series: ChartSeries[] = [];
  r.kick.forEach((row, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    const n = row.n.toLocaleString("en-US");
    if (row.ours.status === "ok")
      series.push({ label: `ours, N=${n}`, samples: row.ours.samples, color, dashed: false });
    if (row.floor.status === "ok") {
      series.push({ label: `floor, N=${n}`, samples: row.floor.samples, color, dashed: true });
    }
  });
  for (const [label, cross, color] of [
    ["Redis", r.crossNode, "#2a9d4b"],
    ["PostgreSQL", r.crossNodePostgres, "#336791"],
  ] as const) {
    if (cross.status !== "ok") continue;
    const c: KickSeries = cross.series;
    const least = Math.min(...cross.connectedPerNode).toLocaleString("en-US");
    series.push({
      label: `cross-node, ${c.nodes} nodes, ${label}, N≥${least}/node`,
      samples: c.samples,
      color,
      dashed: false,
    });
  }
  const m = r.machine;
  return latencyChart(
    "Kick latency: new login sent → session:revoked on the old socket",
    `${r.mode} run ${r.startedAt.slice(0, 16).replace("T", " ")} UTC · ${m.cpus} × ${m.cpuModel} · Node ${m.node} · load ${m.loadAverageAtStart[0]} · dashed = bare Express + Socket.IO floor`,
    series,
  );
}
