/**
 * The key ring: the signing keys in use (Ed25519 or P-256 JWKs, each with its `kid`, activation
 * and retirement times), which one signs now, and the public JWK set. Pure: no files (see
 * key-file.ts for where keys come from).
 *
 * @module
 */

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

/**
 * A private key as kept in `SOLO_SIGNING_KEYS` or `<dataDir>/keys.json`: a JWK, plus two
 * optional members of solo-session's own (RFC 7517 §4 lets a JWK carry members others ignore):
 * `activatesAt`, when the key starts signing, and `retiredAt`, when it stopped (ISO 8601).
 */
export type PrivateJwk = JWK & { activatesAt?: string; retiredAt?: string };

/** A private JSON Web Key set, as given in `SOLO_SIGNING_KEYS` or kept in `<dataDir>/keys.json`. */
export interface PrivateJwks {
  keys: PrivateJwk[];
}

/** A public key as published at `/auth/jwks.json`: these fields and no others. */
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
  /** Epoch ms from which this key may sign; null: at once. */
  activatesAt: number | null;
  /** Epoch ms at which this key stopped signing; null: it has not. */
  retiredAt: number | null;
}

/**
 * The keys of a server. The signing key is the first whose activation time has come; every
 * key verifies (so tokens signed before a rotation stay valid until they expire).
 */
export interface KeyRing {
  /** In file order: newest first. */
  keys: readonly RingKey[];
  /** Looked up by `kid` with `Map.get`: a kid is never a path, a query or a property name. */
  byKid: ReadonlyMap<string, RingKey>;
  /** The public JWKS document: every key, public members only. */
  jwks: { keys: PublicJwk[] };
  /** The `keys.json` the ring was read from (reloadable), or null. */
  file: string | null;
}

/**
 * The key that signs at `now`: the first key (newest first) whose `activatesAt` has come.
 * A ring whose keys are all still pending signs with its last key.
 *
 * @example
 * ```ts
 * const key = signingKey(ring, clock());
 * ```
 */
export function signingKey(ring: KeyRing, now: number): RingKey {
  for (const key of ring.keys) {
    if (key.activatesAt === null || key.activatesAt <= now) return key;
  }
  return ring.keys[ring.keys.length - 1] as RingKey;
}

/** Generates a new Ed25519 private JWK with its thumbprint as `kid`. */
export async function generatePrivateJwk(): Promise<PrivateJwk> {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg: "EdDSA", use: "sig" };
}

export function parseJwks(text: string, where = "SOLO_SIGNING_KEYS"): PrivateJwks {
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

export function parseTime(value: unknown, name: string, where = "key set"): number {
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`${where}: ${name} must be an ISO 8601 time, got ${String(value)}`);
  return ms;
}

export async function buildRing(jwks: PrivateJwks, where: string, file: string | null): Promise<KeyRing> {
  if (jwks.keys.length === 0) throw new TypeError(`${where} holds no keys`);
  const byKid = new Map<string, RingKey>();
  const ordered: RingKey[] = [];
  for (const [i, jwk] of jwks.keys.entries()) {
    if (typeof jwk !== "object" || jwk === null) throw new TypeError(`${where} key ${i}: not a JWK`);
    const key = await importRingKey(jwk, `${where} key ${i}`);
    if (byKid.has(key.kid)) throw new TypeError(`${where}: duplicate kid ${key.kid}`);
    byKid.set(key.kid, key);
    ordered.push(key);
  }
  return { keys: ordered, byKid, jwks: { keys: ordered.map((k) => k.publicJwk) }, file };
}

async function importRingKey(jwk: PrivateJwk, where: string): Promise<RingKey> {
  const alg = jwk.alg ?? (jwk.kty === "OKP" && jwk.crv === "Ed25519" ? "EdDSA" : jwk.crv === "P-256" ? "ES256" : "");
  if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new TypeError(`${where}: algorithm ${JSON.stringify(alg)} is not one of ${ALLOWED_ALGORITHMS.join(", ")}`);
  }
  if (typeof jwk.d !== "string") throw new TypeError(`${where}: a private key (with "d") is required`);
  if (typeof jwk.x !== "string" || typeof jwk.crv !== "string" || typeof jwk.kty !== "string") {
    throw new TypeError(`${where}: not an OKP or EC key`);
  }
  if (jwk.kid !== undefined && (typeof jwk.kid !== "string" || jwk.kid === "" || jwk.kid.length > 128)) {
    throw new TypeError(`${where}: kid must be a string of 1 to 128 characters`);
  }
  const publicPart: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y ? { y: jwk.y } : {}) };
  const kid = typeof jwk.kid === "string" ? jwk.kid : await calculateJwkThumbprint(publicPart);
  const signingAlg = alg as SigningAlgorithm;
  const { activatesAt, retiredAt, ...plain } = jwk;
  const privateKey = await importJWK(plain, signingAlg);
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
  return {
    kid,
    alg: signingAlg,
    privateKey,
    publicKey,
    publicJwk,
    activatesAt: activatesAt === undefined ? null : parseTime(activatesAt, "activatesAt", where),
    retiredAt: retiredAt === undefined ? null : parseTime(retiredAt, "retiredAt", where),
  };
}
