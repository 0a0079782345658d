import { writeFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import { Session } from "node:inspector/promises";
import type { AddressInfo } from "node:net";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { ParentToServer, ServerToParent } from "../lib/messages.js";

/** Sends a message to the orchestrator. */
export function send(message: ServerToParent): void {
  process.send?.(message);
}

/** Heap and RSS after two forced collections (the process runs with `--expose-gc`). */
export async function measureMemory(): Promise<ServerToParent & { type: "memory" }> {
  if (typeof globalThis.gc !== "function") throw new Error("run the bench server with --expose-gc");
  globalThis.gc();
  await nextTurn();
  globalThis.gc();
  const m = process.memoryUsage();
  return {
    type: "memory",
    id: 0,
    usage: {
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      rss: m.rss,
    },
  };
}

/**
 * Listens on 127.0.0.1:0, tells the orchestrator the port, and answers its commands:
 * `memory`, `stats` (live sockets), `claims` (the store's claim durations, our server only),
 * `profile` (V8 CPU profiler around a measured section) and `stop`.
 */
export async function serve(
  http: HttpServer,
  info: { module: string; adapter: string },
  sockets: () => number,
  close: () => Promise<void>,
  claims: () => number[] = () => [],
): Promise<void> {
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  process.on("message", (raw) => {
    const message = raw as ParentToServer;
    void answer(message).catch((error: unknown) => {
      console.error("bench server:", error);
      process.exit(1);
    });
  });
  process.on("disconnect", () => process.exit(0));
  const { port } = http.address() as AddressInfo;
  send({ type: "ready", port, ...info });

  let profiler: Session | null = null;
  async function answer(message: ParentToServer): Promise<void> {
    switch (message.cmd) {
      case "memory":
        send({ ...(await measureMemory()), id: message.id });
        return;
      case "stats":
        send({ type: "stats", id: message.id, sockets: sockets() });
        return;
      case "claims":
        send({ type: "claims", id: message.id, ms: claims() });
        return;
      case "profile":
        if (message.action === "start") {
          profiler = new Session();
          profiler.connect();
          await profiler.post("Profiler.enable");
          await profiler.post("Profiler.setSamplingInterval", { interval: 200 });
          await profiler.post("Profiler.start");
        } else if (profiler) {
          const { profile } = await profiler.post("Profiler.stop");
          writeFileSync(message.file, JSON.stringify(profile));
          profiler.disconnect();
          profiler = null;
        }
        send({ type: "profiled", id: message.id });
        return;
      case "stop":
        await close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        send({ type: "stopped", id: message.id });
        setTimeout(() => process.exit(0), 50);
        return;
    }
  }
}
