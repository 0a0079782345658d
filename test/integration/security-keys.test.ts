import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it, vi } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import type { PrivateJwks } from "../../server/tokens/key-ring.js";
import { call, handshakeError, login } from "../support/client.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

// Key rotation without downtime, against real servers sharing one data directory: the rotation
// script adds a key that activates later; every node loads it by itself and verifies with it
// before any node signs with it; tokens of the old key stay valid (HTTP and socket) throughout.

const execFileAsync = promisify(execFile);
/** Runs `npm run keys:rotate` the way npm does (tsx), without npm's start-up time. */
const rotate = (args: string[], env: Record<string, string> = { SOLO_SIGNING_KEYS: "" }) =>
  execFileAsync(process.execPath, ["--import", "tsx", "scripts/rotate-keys.ts", ...args], {
    env: { ...process.env, ...env },
  });
const { server, socketFor, dir, track } = testResources();

let skew = 0;
const clock = () => Date.now() + skew;

/** A node on the shared key directory, reloading keys.json every 50 ms. */
function node(dataDir: string): Promise<TestServer> {
  return server({ dataDir, clock, keyReloadInterval: 50, rateLimit: false });
}

const kidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split(".")[0] as string, "base64url").toString()) as { kid: string }).kid;

async function jwksKids(url: string): Promise<string[]> {
  const res = await call(url, "/auth/jwks.json", null);
  return (res.body as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

describe("key rotation", () => {
  it("rotates with npm run keys:rotate while two nodes keep serving old and new tokens", async () => {
    skew = 0;
    const dataDir = dir();
    const a = await node(dataDir);
    const b = await node(dataDir);
    const [oldKid] = await jwksKids(a.url);
    expect(await jwksKids(b.url)).toEqual([oldKid]);

    const alice = await login(a.url);
    expect(kidOf(alice.token)).toBe(oldKid);
    const socket = await socketFor(b.url, alice.token);

    // Alice keeps using the app on both nodes while the key rotates.
    const statuses: number[] = [];
    let rotating = true;
    const traffic = (async () => {
      while (rotating) {
        for (const srv of [a, b]) statuses.push((await call(srv.url, "/api/notes", alice.token)).status);
      }
    })();
    const stopTraffic = async () => {
      rotating = false;
      await traffic;
    };
    track({ close: stopTraffic }); // stopped before the servers close

    const { stdout } = await rotate(["--data-dir", dataDir, "--activate-in", "30s"]);
    const rotation = JSON.parse(stdout) as { kid: string; retired: string[]; kept: string[] };
    expect(rotation.retired).toEqual([oldKid]);
    expect(rotation.kept).toEqual([rotation.kid, oldKid]);

    // Every node loads the new key by itself (no restart, no signal).
    await vi.waitFor(async () => expect(await jwksKids(a.url)).toEqual([rotation.kid, oldKid]), { timeout: 10_000 });
    await vi.waitFor(async () => expect(await jwksKids(b.url)).toEqual([rotation.kid, oldKid]), { timeout: 10_000 });
    await stopTraffic();
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set([200]));

    // Until it activates the new key only verifies; the old one still signs.
    const bob = await login(b.url, { username: "bob", password: "demo" });
    expect(kidOf(bob.token)).toBe(oldKid);

    // Once it activates, every node signs with it, and every node verifies both.
    skew += 30_000;
    const carol = await login(b.url, { username: "carol", password: "demo" });
    expect(kidOf(carol.token)).toBe(rotation.kid);
    for (const srv of [a, b]) {
      for (const token of [alice.token, bob.token, carol.token]) {
        expect((await call(srv.url, "/auth/session", token)).status).toBe(200);
      }
      const carolSocket = await socketFor(srv.url, carol.token);
      expect(carolSocket.connected).toBe(true);
    }
    expect(socket.connected).toBe(true);

    // The JWKS publishes public members only, for both keys.
    const jwks = (await call(a.url, "/auth/jwks.json", null)).body as { keys: Record<string, unknown>[] };
    for (const key of jwks.keys) expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
    expect(readFileSync(join(dataDir, "keys.json"), "utf8")).toContain('"d"');
  });

  it("removing a compromised key refuses its tokens at once, even ones already verified and cached", async () => {
    skew = 0;
    const dataDir = dir();
    const srv = await node(dataDir);
    const alice = await login(srv.url);
    expect((await call(srv.url, "/auth/session", alice.token)).status).toBe(200); // now cached
    const file = join(dataDir, "keys.json");

    const { stdout } = await rotate(["--data-dir", dataDir, "--activate-in", "0s"]);
    const { kid } = JSON.parse(stdout) as { kid: string };
    const jwks = JSON.parse(readFileSync(file, "utf8")) as PrivateJwks;
    writeFileSync(file, JSON.stringify({ keys: jwks.keys.filter((k) => k.kid === kid) }), { mode: 0o600 });
    expect(await srv.solo.reloadKeys()).toEqual([kid]);

    const refused = await call(srv.url, "/auth/session", alice.token);
    expect(refused.status).toBe(401);
    expect((refused.body as ErrorBody).error).toBe("invalid_token");
    expect((await handshakeError(srv.url, alice.token)).message).toBe("invalid_token");
    const fresh = await login(srv.url);
    expect(kidOf(fresh.token)).toBe(kid);
    expect((await call(srv.url, "/auth/session", fresh.token)).status).toBe(200);
  });

  it("keeps the keys it has when the file is replaced by something unusable", async () => {
    skew = 0;
    const dataDir = dir();
    const srv = await node(dataDir);
    const alice = await login(srv.url);
    const kids = await jwksKids(srv.url);
    writeFileSync(join(dataDir, "keys.json"), '{"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]}');
    await expect(srv.solo.reloadKeys()).rejects.toBeInstanceOf(TypeError);
    expect(await jwksKids(srv.url)).toEqual(kids);
    expect((await call(srv.url, "/auth/session", alice.token)).status).toBe(200);
    expect((await login(srv.url)).token).toBeTruthy();
  });

  it("the script refuses to run when keys come from SOLO_SIGNING_KEYS", async () => {
    const dataDir = dir();
    await expect(rotate(["--data-dir", dataDir], { SOLO_SIGNING_KEYS: '{"keys":[]}' })).rejects.toMatchObject({
      code: 1,
    });
  });
});
