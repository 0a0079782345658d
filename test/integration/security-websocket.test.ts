import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { io, Manager } from "socket.io-client";
import { describe, expect, it, vi } from "vitest";
import { MAX_CLIENT_MESSAGE } from "../../server/realtime/io-server.js";
import { type ClientSocket, call, connect, handshakeError, login, nextDisconnect } from "../support/client.js";
import { engineRequest, engineUpgrade } from "../support/raw-http.js";
import { testResources } from "../support/resources.js";

// The session channel under hostile clients: oversized packets, handshake floods from one
// address and for one session, extra namespace handshakes over one connection, connections that
// never finish their handshake. Each is refused or cut off, and the server keeps serving.

const { server, track, socketFor } = testResources();

const generous = { points: 10_000, duration: 60_000 };

/** The V8 collector, exposed for this test process only. */
function collector(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

describe("oversized packets", () => {
  it("disconnect the sender, again and again, without growing the server's memory", async () => {
    const srv = await server({ rateLimit: { handshakePerIp: generous, handshakePerSession: generous } });
    const { token } = await login(srv.url);
    const gc = collector();
    const oversized = "x".repeat(1024 * 1024);

    const sockets: ClientSocket[] = []; // closed and dropped between measurements, so the GC can take them
    const round = async () => {
      const socket = await connect(srv.url, token);
      sockets.push(socket);
      const gone = nextDisconnect(socket);
      (socket as unknown as { emit(event: string, payload: string): void }).emit("session:activity", oversized);
      expect(await gone).toMatch(/transport (close|error)/);
    };

    for (let i = 0; i < 5; i++) await round();
    for (const s of sockets.splice(0)) s.close();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 40; i++) await round();
    for (const s of sockets.splice(0)) s.close();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const growth = process.memoryUsage().heapUsed - before;
    // 40 MB were thrown at the server; what stays is noise, not the payloads.
    expect(growth).toBeLessThan(4 * 1024 * 1024);

    // The server still serves HTTP and the session channel.
    expect((await call(srv.url, "/auth/session", token)).status).toBe(200);
    const fresh = await socketFor(srv.url, token);
    expect(fresh.connected).toBe(true);
  });

  it("a message just under the limit passes; one just over it disconnects", async () => {
    const srv = await server();
    const { token } = await login(srv.url);
    const socket = await socketFor(srv.url, token);
    const raw = socket as unknown as { emit(event: string, payload: string): void };
    raw.emit("session:activity", "y".repeat(MAX_CLIENT_MESSAGE - 100));
    const alive = await call(srv.url, "/auth/session", token);
    expect(alive.status).toBe(200);
    expect(socket.connected).toBe(true);
    const gone = nextDisconnect(socket);
    raw.emit("session:activity", "y".repeat(MAX_CLIENT_MESSAGE + 1));
    expect(await gone).toMatch(/transport (close|error)/);
  });

  it("an oversized handshake is cut off before it is read, and an oversized long-polling body gets 413", async () => {
    const srv = await server({ transports: ["websocket", "polling"] });
    const huge = io(`${srv.url}/session`, {
      auth: { token: "t".repeat(200_000) },
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    track(huge);
    const closed = await new Promise<string>((resolve) => {
      huge.io.once("close", (reason) => resolve(reason));
      huge.once("connect", () => resolve("connected"));
    });
    expect(closed).toMatch(/transport (close|error)/);
    const { token } = await login(srv.url);
    expect((await call(srv.url, "/auth/session", token)).status).toBe(200);

    const open = await call(srv.url, "/socket.io/?EIO=4&transport=polling", null);
    const sid = (JSON.parse(String(open.body).slice(1)) as { sid: string }).sid;
    const post = await call(srv.url, `/socket.io/?EIO=4&transport=polling&sid=${sid}`, null, {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body: `4${"z".repeat(MAX_CLIENT_MESSAGE * 4)}`,
    });
    expect(post.status).toBe(413);
  });
});

describe("handshake floods", () => {
  it("limits handshakes from one address; other addresses and plain HTTP keep working", async () => {
    const srv = await server({
      trustProxy: true,
      transports: ["websocket", "polling"],
      rateLimit: { handshakePerIp: { points: 10, duration: 60_000 } },
    });
    const flooder = { "x-forwarded-for": "203.0.113.50" };
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => engineRequest(srv.url, "transport=polling", { headers: flooder })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused).toHaveLength(190);
    for (const a of refused) {
      expect(a.status).toBe(403);
      expect(JSON.parse(a.body)).toEqual({ code: 4, message: "rate_limited" });
    }
    const upgrade = await engineUpgrade(srv.url, "", flooder);
    expect(upgrade).toMatchObject({ status: 400, body: "rate_limited" });

    const { token } = await login(srv.url);
    const other = await socketFor(srv.url, token, { extraHeaders: { "x-forwarded-for": "203.0.113.51" } });
    expect(other.connected).toBe(true);
    expect((await call(srv.url, "/auth/session", token)).status).toBe(200);
  });

  it("refuses a flood of handshakes for one session with too_many_connections; its newest socket stays", async () => {
    const srv = await server({ rateLimit: { handshakePerSession: { points: 3, duration: 60_000 } } });
    const { token } = await login(srv.url);
    let newest: ClientSocket | null = null;
    for (let i = 0; i < 3; i++) {
      newest = await socketFor(srv.url, token);
    }
    for (let i = 0; i < 5; i++) {
      const refused = await handshakeError(srv.url, token);
      expect(refused.message).toBe("too_many_connections");
      expect((refused as Error & { data?: { code: string } }).data?.code).toBe("too_many_connections");
    }
    expect(newest?.connected).toBe(true);
    // Another session is not affected.
    const bob = await login(srv.url, { username: "bob", password: "demo" });
    const bobSocket = await socketFor(srv.url, bob.token);
    expect(bobSocket.connected).toBe(true);
  });

  it("counts extra namespace handshakes sent in a burst over one connection against the address", async () => {
    const srv = await server({ rateLimit: { handshakePerIp: { points: 3, duration: 60_000 } } });
    const tokens: string[] = [];
    for (const username of ["alice", "bob", "carol", "admin"]) {
      const password = username === "admin" ? "admin" : "demo";
      tokens.push((await login(srv.url, { username, password })).token);
    }
    const manager = new Manager(srv.url, { transports: ["websocket"], reconnection: false, autoConnect: false });
    await new Promise<void>((resolve, reject) => manager.open((error) => (error ? reject(error) : resolve())));
    const engine = track(manager.engine);
    const replies: string[] = [];
    engine.on("message", (data) => {
      if (typeof data === "string") replies.push(data);
    });
    // Socket.IO clients send one CONNECT per namespace; a hostile one sends many before the first is answered.
    for (const token of tokens) engine.write(`0/session,${JSON.stringify({ token })}`);
    await vi.waitFor(() => expect(replies.length).toBe(4), { timeout: 5000 });
    engine.close();
    // The connection's handshake was paid for once; two more fit in the allowance of three.
    expect(replies.filter((r) => r.startsWith("0/session,"))).toHaveLength(3);
    const refused = replies.filter((r) => r.startsWith("4/session,"));
    expect(refused).toHaveLength(1);
    expect(JSON.parse((refused[0] as string).slice("4/session,".length))).toMatchObject({
      message: "rate_limited",
      data: { code: "rate_limited" },
    });
  });

  it("closes a connection that does not finish its handshake in time", async () => {
    const srv = await server({ handshakeTimeout: 300 });
    const manager = new Manager(srv.url, { transports: ["websocket"], reconnection: false, autoConnect: false });
    const closed = new Promise<string>((resolve) => manager.once("close", (reason) => resolve(reason)));
    manager.open();
    track(manager.engine);
    expect(await closed).toMatch(/transport close|forced close/);
    expect((await call(srv.url, "/auth/jwks.json", null)).status).toBe(200);
  });
});
