import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type {
  HolderToParent,
  KickerToParent,
  KickRequest,
  KickResult,
  MemorySnapshot,
  ParentToHolder,
  ParentToServer,
  ServerConfig,
  ServerKind,
  ServerToParent,
} from "../lib/messages.js";
import { type Child, forkTs } from "../lib/proc.js";
import type { Context } from "./context.js";

/** A bench server process (ours or the floor). */
export interface BenchServer {
  url: string;
  label: string;
  adapter: string;
  memory(): Promise<MemorySnapshot>;
  sockets(): Promise<number>;
  /** The durations of the store's claims since the last call, ms (our server only). */
  claims(): Promise<number[]>;
  /** Runs `body` under the server's CPU profiler when profiling (`--profile`); writes `<label>-<name>.cpuprofile`. */
  profiled<T>(name: string, body: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts a bench server in its own process, with `--expose-gc` (for the memory measurements).
 * Resolves with `{ unavailable }` when the server says its store is not available in this build.
 */
export async function startServer(
  ctx: Context,
  config: ServerConfig,
  label: string,
): Promise<BenchServer | { unavailable: string }> {
  const flags = ["--expose-gc"];
  const file = config.kind === "solo" ? "servers/solo.ts" : "servers/floor.ts";
  const child = forkTs<ParentToServer, ServerToParent>(file, {
    label,
    nodeFlags: flags,
    env: { BENCH_SERVER: JSON.stringify(config) },
  });
  const first = await child.waitFor(
    (m): m is ServerToParent & { type: "ready" | "unavailable" } => m.type === "ready" || m.type === "unavailable",
    60_000,
  );
  if (first.type === "unavailable") {
    await child.exited();
    return { unavailable: first.reason };
  }
  return {
    url: `http://127.0.0.1:${first.port}`,
    label,
    adapter: first.adapter,
    async memory() {
      const answer = await child.request<ServerToParent & { type: "memory" }>({ cmd: "memory" });
      return answer.usage;
    },
    async sockets() {
      const answer = await child.request<ServerToParent & { type: "stats" }>({ cmd: "stats" });
      return answer.sockets;
    },
    async claims() {
      const answer = await child.request<ServerToParent & { type: "claims" }>({ cmd: "claims" });
      return answer.ms;
    },
    async profiled(name, body) {
      const dir = ctx.profileDir;
      if (!dir) return body();
      mkdirSync(dir, { recursive: true });
      await child.request({ cmd: "profile", action: "start" });
      try {
        return await body();
      } finally {
        const file = join(dir, `${label}-${name}.cpuprofile`);
        await child.request({ cmd: "profile", action: "stop", file });
        ctx.log(`profile written: ${file}`);
      }
    },
    async stop() {
      await child.request({ cmd: "stop" }).catch(() => undefined);
      await child.exited();
    },
  };
}

/** Load-generator processes that hold idle sessions. */
export class HolderPool {
  readonly #ctx: Context;
  readonly #holders: Child<ParentToHolder, HolderToParent>[] = [];

  constructor(ctx: Context, count: number) {
    this.#ctx = ctx;
    for (let i = 0; i < count; i++) {
      this.#holders.push(forkTs<ParentToHolder, HolderToParent>("load/holder.ts", { label: `holder ${i}` }));
    }
  }

  get size(): number {
    return this.#holders.length;
  }

  /**
   * Opens and connects idle sessions: `assignments[i]` goes to holder i. Logs progress every
   * two seconds. Resolves with how many connected and failed in all.
   */
  async connect(
    kind: ServerKind,
    assignments: readonly { url: string; count: number }[],
    prefix: string,
    label: string,
  ): Promise<{
    connected: number;
    failed: number;
    errors: string[];
    perAssignment: number[];
    dropped: Record<string, number>;
  }> {
    const total = assignments.reduce((a, b) => a + b.count, 0);
    const progress = assignments.map(() => ({ connected: 0, failed: 0 }));
    const offs = assignments.map((_, i) =>
      this.#holder(i).on((m) => {
        if (m.type === "progress") progress[i] = { connected: m.connected, failed: m.failed };
      }),
    );
    const started = performance.now();
    let ticks = 0;
    const ticker = setInterval(() => {
      if (++ticks % 3 !== 0) return;
      const connected = progress.reduce((a, b) => a + b.connected, 0);
      const failed = progress.reduce((a, b) => a + b.failed, 0);
      const secs = ((performance.now() - started) / 1000).toFixed(0);
      this.#ctx.log(
        `${label}: ${connected.toLocaleString("en-US")}/${total.toLocaleString("en-US")} connected, ${failed} failed (${secs} s)`,
      );
    }, 2000);
    try {
      const answers = await Promise.all(
        assignments.map((a, i) =>
          this.#holder(i).request<HolderToParent & { type: "connected" }>({
            cmd: "connect",
            kind,
            url: a.url,
            count: a.count,
            prefix: `${prefix}h${i}-`,
            concurrency: this.#ctx.settings.connectConcurrency,
          }),
        ),
      );
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      const connected = answers.reduce((a, b) => a + b.connected, 0);
      const failed = answers.reduce((a, b) => a + b.failed, 0);
      const dropped: Record<string, number> = {};
      for (const a of answers) {
        for (const [reason, count] of Object.entries(a.dropped)) dropped[reason] = (dropped[reason] ?? 0) + count;
      }
      const drops = Object.entries(dropped).map(([reason, count]) => `${count} ${reason}`);
      this.#ctx.log(
        `${label}: ${connected.toLocaleString("en-US")} connected, ${failed} failed in ${secs} s` +
          (drops.length ? `; dropped since connecting: ${drops.join(", ")}` : ""),
      );
      return {
        connected,
        failed,
        errors: answers.flatMap((a) => a.errors).slice(0, 10),
        perAssignment: answers.map((a) => a.connected),
        dropped,
      };
    } finally {
      clearInterval(ticker);
      for (const off of offs) off();
    }
  }

  /** Closes every held socket (the processes stay). */
  async closeSockets(): Promise<void> {
    await Promise.all(this.#holders.map((h) => h.request({ cmd: "close" })));
  }

  /** Ends the processes. */
  async stop(): Promise<void> {
    for (const h of this.#holders) h.process.disconnect();
    await Promise.all(this.#holders.map((h) => h.exited()));
  }

  #holder(i: number): Child<ParentToHolder, HolderToParent> {
    const h = this.#holders[i];
    if (!h) throw new Error(`no holder ${i}`);
    return h;
  }
}

/** How many holder processes `sessions` idle sockets need. */
export function holdersFor(ctx: Context, sessions: number): number {
  return Math.max(1, Math.ceil(sessions / ctx.settings.socketsPerHolder));
}

/** Splits `total` into `parts` near-equal counts. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** Runs one kick series in a fresh kicker process, with progress on stderr. */
export async function runKicks(
  ctx: Context,
  request: Omit<KickRequest, "id" | "cmd">,
  label: string,
): Promise<KickResult> {
  const kicker = forkTs<KickRequest, KickerToParent>("load/kicker.ts", { label: "kicker" });
  kicker.on((m) => {
    if (m.type === "progress") ctx.log(`${label}: ${m.done}/${m.total} kicks`);
  });
  try {
    return await kicker.request<KickResult>({ cmd: "kick", ...request });
  } finally {
    kicker.process.disconnect();
    await kicker.exited();
  }
}
