import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { freePort } from "../../scripts/lib/net.js";
import { login } from "../support/client.js";
import { testResources } from "../support/resources.js";

const resources = testResources();

/** examples/python-receiver/receiver.py on Debian's Python; resolves with its URL and the lines it prints. */
async function pythonReceiver(soloUrl: string): Promise<{ url: string; lines: Record<string, unknown>[] }> {
  const child = spawn("/usr/bin/python3", [join("examples", "python-receiver", "receiver.py")], {
    env: { ...process.env, SOLO_URL: soloUrl, AUDIENCE: "python-service", PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  resources.defer(child, async (c) => {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await exited;
  });
  const lines: Record<string, unknown>[] = [];
  let err = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      let newline = out.indexOf("\n");
      while (newline !== -1) {
        const line = JSON.parse(out.slice(0, newline)) as Record<string, unknown>;
        out = out.slice(newline + 1);
        if (typeof line.port === "number") resolve(line.port);
        else lines.push(line);
        newline = out.indexOf("\n");
      }
    });
    child.once("exit", (code) => reject(new Error(`receiver.py exited with ${code}: ${err}`)));
  });
  return { url: `http://127.0.0.1:${port}`, lines };
}

describe("a receiver in Python (examples/python-receiver)", () => {
  it("verifies the logout token against /auth/jwks.json and drops the replaced session from its own cache", async () => {
    const soloPort = await freePort();
    const python = await pythonReceiver(`http://127.0.0.1:${soloPort}`);
    const srv = await resources.server({
      port: soloPort,
      receivers: [
        { url: `${python.url}/backchannel-logout`, audience: "python-service", format: "backchannel-logout" },
      ],
      delivery: { pollInterval: 20 },
    });
    const first = await login(srv.url);
    // The service trusts alice's session (it saw her token).
    expect((await fetch(`${python.url}/sessions/${first.session.id}`, { method: "PUT" })).status).toBe(204);
    expect((await fetch(`${python.url}/sessions/${first.session.id}`)).status).toBe(200);

    await login(srv.url); // alice signs in elsewhere: the first session is replaced
    await vi.waitFor(() => expect(python.lines).toHaveLength(1), { timeout: 15_000, interval: 25 });
    expect(python.lines[0]).toMatchObject({ dropped: first.session.id, user: "alice" });
    expect((await fetch(`${python.url}/sessions/${first.session.id}`)).status).toBe(404);

    // Anything not signed by solo-session is refused with 400, and drops nothing.
    const second = await login(srv.url, { username: "bob", password: "demo" });
    await fetch(`${python.url}/sessions/${second.session.id}`, { method: "PUT" });
    for (const token of [second.token, "x.y.z", ""]) {
      const res = await fetch(`${python.url}/backchannel-logout`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ logout_token: token }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe("invalid_request");
    }
    expect((await fetch(`${python.url}/sessions/${second.session.id}`)).status).toBe(200);
    expect(python.lines).toHaveLength(1);
  });
});
