import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it, vi } from "vitest";
import type { ConnectErrorData, RevocationNotice } from "../../protocol/index.js";
import { login, UA } from "../support/client.js";
import { adminToken, endingEvent } from "../support/ops.js";
import { testResources } from "../support/resources.js";

// A client nobody here wrote: Python's python-socketio (Debian's python3-socketio, with
// python3-websocket for the WebSocket transport; `bash scripts/ensure-deps.sh` installs both
// for /usr/bin/python3). test/interop/client.py signs in over HTTP, joins /session with
// auth={"token": ...}, acknowledges session:revoked and tries to connect again; it prints one
// JSON line per step.

const PYTHON = "/usr/bin/python3";
/**
 * Upper bound on each step, for the Python client's own waits and for the test's (seconds):
 * generous, because starting Python and importing python-socketio on a busy 2-core machine can
 * take seconds; never a pause, every wait ends on the event it waits for.
 */
const STEP_SECONDS = 30;
const SCRIPT = join(import.meta.dirname, "../interop/client.py");

const { server, track } = testResources();

/** One line the Python client printed. */
type Step =
  | { event: "login"; session: string }
  | { event: "connected"; sid: string }
  | { event: "revoked"; notice: RevocationNotice }
  | { event: "disconnected" }
  | { event: "connect_error"; data: { message: string; data: ConnectErrorData } }
  | { event: "refused" | "reconnected" | "timeout" };

/** Runs the Python client; `next(event)` resolves with that step once printed, `exit` with the exit code. */
function runPython(url: string, username: string, password: string) {
  const child = spawn(PYTHON, [SCRIPT, url, username, password], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, SOLO_INTEROP_WAIT: String(STEP_SECONDS) },
  });
  track({ close: () => child.exitCode === null && child.signalCode === null && child.kill() });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const steps: Step[] = [];
  const waiting = new Map<string, (step: Step) => void>();
  createInterface({ input: child.stdout }).on("line", (line) => {
    const step = JSON.parse(line) as Step;
    steps.push(step);
    waiting.get(step.event)?.(step);
  });
  const exit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  /** The first step `event` printed (now or later); rejects if Python exits or is silent for a step's bound. */
  const next = <E extends Step["event"]>(event: E): Promise<Extract<Step, { event: E }>> =>
    new Promise((resolve, reject) => {
      const seen = steps.find((s) => s.event === event);
      if (seen) return resolve(seen as Extract<Step, { event: E }>);
      const timer = setTimeout(
        () => reject(new Error(`no "${event}" from python in ${STEP_SECONDS} s: ${JSON.stringify(steps)} ${stderr}`)),
        STEP_SECONDS * 1000,
      );
      waiting.set(event, (step) => {
        clearTimeout(timer);
        resolve(step as Extract<Step, { event: E }>);
      });
      void exit.then((code) => {
        clearTimeout(timer);
        reject(new Error(`python exited with ${code} before "${event}": ${stderr}`));
      });
    });
  return { steps, next, exit, stderr: () => stderr };
}

describe("python-socketio as the old device", () => {
  it(
    "signs in, joins /session, acknowledges session:revoked, and is refused on reconnect with session_replaced",
    async () => {
      const srv = await server();
      const admin = await adminToken(srv.url);
      const python = runPython(srv.url, "alice", "demo");
      const { session } = await python.next("login");
      await python.next("connected");

      const second = await login(srv.url, { username: "alice", password: "demo" }, { "user-agent": UA.firefoxWindows });
      const { notice } = await python.next("revoked");
      expect(notice).toMatchObject({
        reason: "replaced",
        sessionId: session,
        by: { device: { browser: "Firefox 132" } },
      });
      // python-socketio sent the ACK: the audit trail says the device acknowledged the notice.
      await vi.waitFor(
        async () => expect((await endingEvent(srv.url, admin, session))?.delivery).toBe("acknowledged"),
        { timeout: 10_000, interval: 50 },
      );

      // The non-JS view of a refused handshake: connect_error data is { message, data }.
      const { data } = await python.next("connect_error");
      expect(data).toMatchObject({
        message: "session_replaced",
        data: { code: "session_replaced", reason: "replaced", by: { device: { browser: "Firefox 132" } } },
      });
      expect(await python.exit, python.stderr()).toBe(0);
      expect(python.steps.map((s) => s.event)).toEqual([
        "login",
        "connected",
        "revoked",
        "disconnected",
        "connect_error",
        "refused",
      ]);
      // The second device's session is the live one.
      expect((await srv.solo.store.listLive("alice")).map((s) => s.id)).toEqual([second.session.id]);
    },
    4 * STEP_SECONDS * 1000,
  );
});
