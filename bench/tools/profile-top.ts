/**
 * Top self-time functions of a V8 CPU profile (`.cpuprofile`, from `--cpu-prof` or the bench's
 * `--profile`): `node --import tsx bench/tools/profile-top.ts FILE [COUNT]`. Also sums self time
 * by package (node_modules/<name>), our server code (dist/server or server/) and Node internals.
 * `... FILE --callers NAME [DEPTH]`: where the self time of function NAME comes from (call chains).
 */
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time per function and per area, in ms, with the busy (non-idle) total. */
export function topSelf(profile: Profile, count: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === "(idle)") {
      idle += us;
      continue;
    }
    busy += us;
    const file = frame.url.replace(/^file:\/\//, "");
    const short = file.replace(/^.*node_modules\//, "").replace(/^.*\/(dist\/server|server|bench)\//, "$1/");
    const key = `${frame.functionName || "(anonymous)"}  ${short}${short ? `:${frame.lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byArea.set(area(file, frame.functionName), (byArea.get(area(file, frame.functionName)) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    wallMs: (profile.endTime - profile.startTime) / 1000,
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    functions: sorted(byFunction)
      .slice(0, count)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / busy })),
    areas: sorted(byArea).map(([name, us]) => ({ name, ms: us / 1000, share: us / busy })),
  };
}

function area(file: string, fn: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg) return pkg[1] as string;
  if (/\/dist\/server\/|\/server\//.test(file)) return "our server code";
  if (/\/bench\//.test(file)) return "bench server";
  if (file.startsWith("node:") || file === "") return fn.startsWith("(") ? fn : "node internals / native";
  return file;
}

/** Self time of the function `name`, by its chain of `depth` callers. */
export function callers(profile: Profile, name: string, depth: number): { chain: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const chains = new Map<string, number>();
  for (const [id, us] of self) {
    if (byId.get(id)?.callFrame.functionName !== name) continue;
    const chain: string[] = [];
    for (let cur = parent.get(id); cur !== undefined && chain.length < depth; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      if (!f) break;
      const where = f.url.replace(/^.*node_modules\//, "").replace(/^.*\/(dist\/server|server|bench)\//, "$1/");
      chain.push(`${f.functionName || "(anonymous)"} ${where}:${f.lineNumber + 1}`);
    }
    const key = chain.join(" < ");
    chains.set(key, (chains.get(key) ?? 0) + us);
  }
  return [...chains.entries()].sort((a, b) => b[1] - a[1]).map(([chain, us]) => ({ chain, ms: us / 1000 }));
}

const file = process.argv[2];
if (file && import.meta.url === `file://${process.argv[1]}` && process.argv[3] === "--callers") {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  for (const c of callers(profile, process.argv[4] ?? "", Number(process.argv[5] ?? 3)).slice(0, 15)) {
    console.log(`${c.ms.toFixed(1).padStart(9)} ms  ${c.chain}`);
  }
} else if (file && import.meta.url === `file://${process.argv[1]}`) {
  const result = topSelf(JSON.parse(readFileSync(file, "utf8")) as Profile, Number(process.argv[3] ?? 25));
  console.log(
    `${file}: wall ${result.wallMs.toFixed(0)} ms, busy ${result.busyMs.toFixed(0)} ms, idle ${result.idleMs.toFixed(0)} ms`,
  );
  console.log("\nself time by area:");
  for (const a of result.areas.slice(0, 15))
    console.log(`${(a.share * 100).toFixed(1).padStart(6)}%  ${a.ms.toFixed(1).padStart(9)} ms  ${a.name}`);
  console.log("\ntop functions by self time:");
  for (const f of result.functions)
    console.log(`${(f.share * 100).toFixed(1).padStart(6)}%  ${f.ms.toFixed(1).padStart(9)} ms  ${f.name}`);
}
