/**
 * Idle-session holder: a separate process that logs in users and keeps their sockets
 * connected and idle (up to ~9,000 per process, under the 20,000 open-files limit).
 * Acknowledges a `session:revoked` like the SDK would (an idle session should get none).
 */

import { keepAliveAgent, loginToken } from "../lib/http.js";
import type { HolderToParent, ParentToHolder } from "../lib/messages.js";
import { type BenchSocket, connectSocket } from "./sockets.js";

const sockets: BenchSocket[] = [];
let dropped: Record<string, number> = {};
/** Stop a batch after this many failures: the machine (or server) refuses more. */
const MAX_FAILURES = 100;

function send(message: HolderToParent): void {
  process.send?.(message);
}

async function connectMany(m: ParentToHolder & { cmd: "connect" }): Promise<void> {
  const agent = keepAliveAgent(m.concurrency);
  let next = 0;
  let connected = 0;
  let failed = 0;
  const errors: string[] = [];
  const progress = setInterval(() => send({ type: "progress", connected, failed }), 500);
  const worker = async () => {
    while (next < m.count && failed < MAX_FAILURES) {
      const name = `${m.prefix}${next++}`;
      try {
        const credential = m.kind === "solo" ? await loginToken(agent, m.url, name) : name;
        const socket = await connectSocket(m.kind, m.url, credential);
        socket.on("session:revoked", (_notice, ack) => ack());
        socket.on("disconnect", (reason) => {
          if (reason !== "io client disconnect") dropped[reason] = (dropped[reason] ?? 0) + 1;
        });
        sockets.push(socket);
        connected++;
      } catch (error) {
        failed++;
        if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: m.concurrency }, worker));
  clearInterval(progress);
  agent.destroy();
  send({ type: "connected", id: m.id, connected, failed, errors, dropped });
}

process.on("message", (raw) => {
  const m = raw as ParentToHolder;
  if (m.cmd === "connect") {
    void connectMany(m);
  } else if (m.cmd === "close") {
    for (const s of sockets.splice(0)) s.close();
    dropped = {};
    send({ type: "closed", id: m.id });
  }
});
process.on("disconnect", () => process.exit(0));
