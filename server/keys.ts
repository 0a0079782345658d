import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type KeyObject,
} from "jose";

/** The signature algorithms solo-session accepts. Anything else is refused before any key is used. */
export const ALLOWED_ALGORITHMS = ["EdDSA", "ES256"] as const;
export type SigningAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

/** A private JSON Web Key set, as given in `SOLO_SIGNING_KEYS` or kept in `<dataDir>/keys.json`. */
export interface PrivateJwks {
  keys: JWK[];
}

/** A public key as published at `/auth/jwks.json`. */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y?: string;
  kid: string;
  alg: SigningAlgorithm;
  use: "sig";
}

/** One usable key. */
export interface RingKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey | KeyObject;
  publicKey: CryptoKey | KeyObject;
  publicJwk: PublicJwk;
}

/**
 * The keys of a server: the first signs new tokens; all of them verify (so that tokens
 * signed before a rotation stay valid until they expire).
 */
export interface KeyRing {
  signing: RingKey;
  /** Looked up by `kid` with `Map.get`: a kid is never a path, a query or a property name. */
  byKid: ReadonlyMap<string, RingKey>;
  /** The public JWKS document. */
  jwks: { keys: PublicJwk[] };
}

/** Where keys come from. */
export interface KeySource {
  /** A private JWKS (object or JSON text). The first key signs. */
  signingKeys?: PrivateJwks | string | undefined;
  /** Directory where generated keys are kept (`keys.json`); null: keep them in memory only. */
  dataDir?: string | null | undefined;
}

const KEYS_FILE = "keys.json";

/**
 * Loads the key ring: from `signingKeys` when given; otherwise from `<dataDir>/keys.json`,
 * generating an Ed25519 key there on first use (atomically, so several processes starting
 * together on one directory agree on one key); otherwise an in-memory key.
 *
 * @example
 * ```ts
 * const ring = await loadKeyRing({ dataDir: "./data" });
 * ring.signing.kid; // the RFC 7638 thumbprint of the signing key
 * ```
 */
export async function loadKeyRing(source: KeySource): Promise<KeyRing> {
  if (source.signingKeys !== undefined) {
    const jwks = typeof source.signingKeys === "string" ? parseJwks(source.signingKeys) : source.signingKeys;
    return buildRing(jwks, "signingKeys");
  }
  if (source.dataDir) return buildRing(await readOrCreate(source.dataDir), join(source.dataDir, KEYS_FILE));
  return buildRing({ keys: [await generatePrivateJwk()] }, "generated key");
}

/** Generates a new Ed25519 private JWK with its thumbprint as `kid`. */
export async function generatePrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg: "EdDSA", use: "sig" };
}

/**
 * Key rotation for the file kept in `dataDir`: prepends a new signing key and keeps the
 * previous ones (they keep verifying tokens already issued). Servers pick the new key up
 * at their next start or {@link KeySource} reload. Returns the new kid.
 */
export async function rotateKeyFile(dataDir: string, keep = 3): Promise<string> {
  const current = await readOrCreate(dataDir);
  const fresh = await generatePrivateJwk();
  const next: PrivateJwks = { keys: [fresh, ...current.keys].slice(0, Math.max(2, keep)) };
  const path = join(dataDir, KEYS_FILE);
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return fresh.kid as string;
}

async function readOrCreate(dataDir: string): Promise<PrivateJwks> {
  const path = join(dataDir, KEYS_FILE);
  const existing = tryRead(path);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ keys: [await generatePrivateJwk()] }, null, 2)}\n`, { mode: 0o600 });
  try {
    linkSync(tmp, path); // atomic, and fails if another process won the race
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(tmp);
  }
  const created = tryRead(path);
  if (!created) throw new Error(`could not read ${path}`);
  return created;
}

function tryRead(path: string): PrivateJwks | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  return parseJwks(text, path);
}

function parseJwks(text: string, where = "SOLO_SIGNING_KEYS"): PrivateJwks {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TypeError(`${where} is not valid JSON`);
  }
  if (typeof value !== "object" || value === null || !Array.isArray((value as PrivateJwks).keys)) {
    throw new TypeError(`${where} must be a JWK set: {"keys": [...]}`);
  }
  return value as PrivateJwks;
}

async function buildRing(jwks: PrivateJwks, where: string): Promise<KeyRing> {
  if (jwks.keys.length === 0) throw new TypeError(`${where} holds no keys`);
  const byKid = new Map<string, RingKey>();
  const ordered: RingKey[] = [];
  for (const [i, jwk] of jwks.keys.entries()) {
    const key = await importRingKey(jwk, `${where} key ${i}`);
    if (byKid.has(key.kid)) throw new TypeError(`${where}: duplicate kid ${key.kid}`);
    byKid.set(key.kid, key);
    ordered.push(key);
  }
  return { signing: ordered[0] as RingKey, byKid, jwks: { keys: ordered.map((k) => k.publicJwk) } };
}

async function importRingKey(jwk: JWK, where: string): Promise<RingKey> {
  const alg = jwk.alg ?? (jwk.kty === "OKP" && jwk.crv === "Ed25519" ? "EdDSA" : jwk.crv === "P-256" ? "ES256" : "");
  if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new TypeError(`${where}: algorithm ${JSON.stringify(alg)} is not one of ${ALLOWED_ALGORITHMS.join(", ")}`);
  }
  if (typeof jwk.d !== "string") throw new TypeError(`${where}: a private key (with "d") is required`);
  if (typeof jwk.x !== "string" || typeof jwk.crv !== "string" || typeof jwk.kty !== "string") {
    throw new TypeError(`${where}: not an OKP or EC key`);
  }
  const publicPart: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y ? { y: jwk.y } : {}) };
  const kid = typeof jwk.kid === "string" && jwk.kid !== "" ? jwk.kid : await calculateJwkThumbprint(publicPart);
  const signingAlg = alg as SigningAlgorithm;
  const privateKey = await importJWK(jwk, signingAlg);
  const publicKey = await importJWK(publicPart, signingAlg);
  if (privateKey instanceof Uint8Array || publicKey instanceof Uint8Array)
    throw new TypeError(`${where}: symmetric keys are not allowed`);
  const publicJwk: PublicJwk = {
    kty: jwk.kty,
    crv: jwk.crv,
    x: jwk.x,
    ...(jwk.y ? { y: jwk.y } : {}),
    kid,
    alg: signingAlg,
    use: "sig",
  };
  return { kid, alg: signingAlg, privateKey, publicKey, publicJwk };
}
