import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { call, login } from "../support/client.js";
import { startReceiver } from "../support/receiver.js";
import { testResources } from "../support/resources.js";

const resources = testResources();

/** `npm start`'s server (from source) in a child process; resolves with its URL once it listens. */
async function standaloneProcess(env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", join("standalone", "main.ts")], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  resources.defer(child, async (c) => {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await exited;
  });
  let out = "";
  let err = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /open (http:\/\/\S+) in two browsers/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}: ${err}`)));
  });
  return { url, child };
}

describe("session events survive a killed server", () => {
  it("events pending when the server is SIGKILLed (its receiver failing, an attempt likely in flight) are delivered, in order, after it restarts", async () => {
    const receiver = await startReceiver(resources, "/backchannel-logout");
    const dataDir = resources.dir("solo-receivers-");
    const env = {
      SOLO_DATA_DIR: dataDir,
      SOLO_RECEIVERS: JSON.stringify([{ url: receiver.url, audience: "notes", format: "backchannel-logout" }]),
      SOLO_DELIVERY: JSON.stringify({ timeout: 300, leaseTime: 1000, pollInterval: 50, retryBase: 50 }),
    };
    receiver.answer = "hang"; // the first attempt is in flight when the server dies
    const first = await standaloneProcess(env);
    const sessions: string[] = [];
    for (const user of ["alice", "bob", "carol"]) {
      const { session, token } = await login(first.url, { username: user, password: "demo" });
      sessions.push(session.id);
      expect((await call(first.url, "/auth/logout", token, { method: "POST" })).status).toBe(204);
    }
    await vi.waitFor(() => expect(receiver.received.length).toBeGreaterThanOrEqual(1), {
      timeout: 10_000,
      interval: 20,
    });
    const killed = new Promise((resolve) => first.child.once("exit", resolve));
    first.child.kill("SIGKILL");
    await killed;

    receiver.answer = 200;
    await standaloneProcess(env);
    await vi.waitFor(() => expect(receiver.accepted().length).toBe(3), { timeout: 15_000, interval: 20 });
    expect(receiver.accepted().map((r) => r.claims.sid)).toEqual(sessions);
    // The event in flight at the kill was sent again (at least once), always with the same jti;
    // the others waited behind it.
    const firstEvent = receiver.received.filter((r) => r.claims.sid === sessions[0]);
    expect(firstEvent.length).toBeGreaterThanOrEqual(2);
    expect(new Set(firstEvent.map((r) => r.claims.jti)).size).toBe(1);
    for (const sid of sessions.slice(1)) expect(receiver.received.filter((r) => r.claims.sid === sid)).toHaveLength(1);
  });
});
