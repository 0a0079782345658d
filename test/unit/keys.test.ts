import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KEYS_FILE, loadKeyRing, reloadKeyRing, rotateKeyFile, watchKeyFile } from "../../server/tokens/key-file.js";
import { generatePrivateJwk, type PrivateJwk, type PrivateJwks, signingKey } from "../../server/tokens/key-ring.js";

const HOUR = 3600_000;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "solo-keys-"));
  dirs.push(dir);
  return dir;
}

function readKeys(dir: string): PrivateJwks {
  return JSON.parse(readFileSync(join(dir, KEYS_FILE), "utf8")) as PrivateJwks;
}

const PUBLIC_MEMBERS = new Set(["kty", "crv", "x", "y", "kid", "alg", "use"]);

describe("the key ring", () => {
  it("generates one Ed25519 key in dataDir, readable by the owner only, and loads the same key again", async () => {
    const dir = tempDir();
    const ring = await loadKeyRing({ dataDir: dir });
    expect(ring.keys).toHaveLength(1);
    expect(ring.file).toBe(join(dir, KEYS_FILE));
    expect(statSync(join(dir, KEYS_FILE)).mode & 0o777).toBe(0o600);
    const again = await loadKeyRing({ dataDir: dir });
    expect(again.keys.map((k) => k.kid)).toEqual(ring.keys.map((k) => k.kid));
    expect(signingKey(ring, Date.now()).alg).toBe("EdDSA");
  });

  it("publishes public members only, whatever the private file holds", async () => {
    const jwk: PrivateJwk = {
      ...(await generatePrivateJwk()),
      activatesAt: "2030-01-01T00:00:00.000Z",
      retiredAt: "2030-02-01T00:00:00.000Z",
    };
    const { generateKeyPair, exportJWK } = await import("jose");
    const ec = await exportJWK((await generateKeyPair("ES256", { extractable: true })).privateKey);
    const ring = await loadKeyRing({ signingKeys: JSON.stringify({ keys: [jwk, { ...ec, kid: "ec-1" }] }) });
    expect(ring.jwks.keys).toHaveLength(2);
    for (const published of ring.jwks.keys) {
      for (const member of Object.keys(published)) expect(PUBLIC_MEMBERS.has(member), member).toBe(true);
      expect(published).not.toHaveProperty("d");
    }
    expect(ring.jwks.keys[1]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", kid: "ec-1", use: "sig" });
    expect(typeof ring.jwks.keys[1]?.y).toBe("string");
  });

  it.each([
    ["no keys", { keys: [] }],
    ["an HMAC key", { keys: [{ kty: "oct", k: "c2VjcmV0", alg: "HS256" }] }],
    ["an HMAC key claiming EdDSA", { keys: [{ kty: "oct", k: "c2VjcmV0", alg: "EdDSA" }] }],
    ["an RSA key", { keys: [{ kty: "RSA", n: "AQAB", e: "AQAB", d: "AQAB", alg: "RS256" }] }],
    ["alg none", { keys: [{ kty: "OKP", crv: "Ed25519", x: "AA", d: "AA", alg: "none" }] }],
  ])("refuses a key set with %s", async (_name, jwks) => {
    await expect(loadKeyRing({ signingKeys: jwks as PrivateJwks })).rejects.toBeInstanceOf(TypeError);
  });

  it("refuses a public key without d, duplicate kids, an empty kid, bad JSON and a bad activation time", async () => {
    const jwk = await generatePrivateJwk();
    const { d: _d, ...publicOnly } = jwk;
    await expect(loadKeyRing({ signingKeys: { keys: [publicOnly] } })).rejects.toBeInstanceOf(TypeError);
    await expect(loadKeyRing({ signingKeys: { keys: [jwk, jwk] } })).rejects.toBeInstanceOf(TypeError);
    await expect(loadKeyRing({ signingKeys: { keys: [{ ...jwk, kid: "" }] } })).rejects.toBeInstanceOf(TypeError);
    await expect(loadKeyRing({ signingKeys: "{not json" })).rejects.toBeInstanceOf(TypeError);
    await expect(loadKeyRing({ signingKeys: '{"keys": {}}' })).rejects.toBeInstanceOf(TypeError);
    await expect(loadKeyRing({ signingKeys: { keys: [{ ...jwk, activatesAt: "soon" }] } })).rejects.toBeInstanceOf(
      TypeError,
    );
  });

  it("signs with the first key whose activation time has come", async () => {
    const t = Date.UTC(2030, 0, 1);
    const a = { ...(await generatePrivateJwk()), activatesAt: new Date(t + 60_000).toISOString() };
    const b = { ...(await generatePrivateJwk()), activatesAt: new Date(t).toISOString() };
    const c = await generatePrivateJwk();
    const ring = await loadKeyRing({ signingKeys: { keys: [a, b, c] } });
    expect(signingKey(ring, t - 1).kid).toBe(c.kid);
    expect(signingKey(ring, t).kid).toBe(b.kid);
    expect(signingKey(ring, t + 60_000).kid).toBe(a.kid);
  });
});

describe("rotateKeyFile", () => {
  it("prepends a pending key, retires the current one when it activates, and keeps both verifying", async () => {
    const dir = tempDir();
    const first = await loadKeyRing({ dataDir: dir });
    const oldKid = first.keys[0]?.kid as string;
    const t = Date.UTC(2030, 0, 1);
    const rotation = await rotateKeyFile(dir, { now: t, activateIn: 30_000, maxAge: 8 * HOUR });
    expect(rotation.retired).toEqual([oldKid]);
    expect(rotation.dropped).toEqual([]);
    expect(rotation.kept).toEqual([rotation.kid, oldKid]);
    const file = readKeys(dir);
    expect(file.keys[0]?.activatesAt).toBe(new Date(t + 30_000).toISOString());
    expect(file.keys[1]?.retiredAt).toBe(new Date(t + 30_000).toISOString());
    expect(statSync(join(dir, KEYS_FILE)).mode & 0o777).toBe(0o600);

    const ring = await reloadKeyRing(join(dir, KEYS_FILE));
    expect([...ring.byKid.keys()].sort()).toEqual([oldKid, rotation.kid].sort());
    expect(signingKey(ring, t + 29_999).kid).toBe(oldKid);
    expect(signingKey(ring, t + 30_000).kid).toBe(rotation.kid);
  });

  it("drops a retired key only once every token it signed has expired (maxAge plus tolerance)", async () => {
    const dir = tempDir();
    const original = (await loadKeyRing({ dataDir: dir })).keys[0]?.kid as string;
    const t = Date.UTC(2030, 0, 1);
    const maxAge = 8 * HOUR;
    const r1 = await rotateKeyFile(dir, { now: t, activateIn: 0, maxAge, clockTolerance: 5 });
    // Just before the original key's last token can have expired: it stays.
    const r2 = await rotateKeyFile(dir, { now: t + maxAge + 4_999, activateIn: 0, maxAge, clockTolerance: 5 });
    expect(r2.dropped).toEqual([]);
    expect(r2.kept).toEqual([r2.kid, r1.kid, original]);
    expect(r2.retired).toEqual([r1.kid]);
    // From then on it goes; the key retired by r2 stays.
    const r3 = await rotateKeyFile(dir, { now: t + maxAge + 5_000, activateIn: 0, maxAge, clockTolerance: 5 });
    expect(r3.dropped).toEqual([original]);
    expect(r3.kept).toEqual([r3.kid, r2.kid, r1.kid]);
    expect(readKeys(dir).keys.map((k) => k.kid)).toEqual(r3.kept);
  });

  it("creates the key file when there is none, and refuses bad options", async () => {
    const dir = tempDir();
    const rotation = await rotateKeyFile(join(dir, "fresh"), { now: 0, activateIn: 0 });
    expect(rotation.kept).toHaveLength(2);
    await expect(rotateKeyFile(dir, { maxAge: -1 })).rejects.toBeInstanceOf(TypeError);
    await expect(rotateKeyFile(dir, { activateIn: Number.NaN })).rejects.toBeInstanceOf(TypeError);
  });

  it("leaves a broken file alone rather than overwriting it", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, KEYS_FILE), "{broken");
    await expect(rotateKeyFile(dir)).rejects.toBeInstanceOf(TypeError);
    expect(readFileSync(join(dir, KEYS_FILE), "utf8")).toBe("{broken");
  });
});

describe("watchKeyFile", () => {
  it("reports a rotation of the file and stops when asked", async () => {
    const dir = tempDir();
    await loadKeyRing({ dataDir: dir });
    let calls = 0;
    let notify: () => void = () => {};
    const changed = new Promise<void>((resolve) => {
      notify = resolve;
    });
    const stop = watchKeyFile(join(dir, KEYS_FILE), 20, () => {
      calls++;
      notify();
    });
    await rotateKeyFile(dir);
    await changed;
    stop();
    const after = calls;
    // A witness on the same file: Node keeps one stat watcher per file, so a listener that
    // was still attached would be called in the same round as the witness.
    const witnessed = new Promise<void>((resolve) => {
      const stopWitness = watchKeyFile(join(dir, KEYS_FILE), 20, () => {
        stopWitness();
        resolve();
      });
    });
    await rotateKeyFile(dir);
    await witnessed;
    expect(after).toBeGreaterThanOrEqual(1);
    expect(calls).toBe(after);
  });
});
