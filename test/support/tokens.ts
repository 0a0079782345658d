/**
 * Forging helpers for token attack tests. They sign with node:crypto directly (not with jose,
 * the library under test), so any header and any claims can be produced, signed by the
 * server's own key, by a stranger's key, with HMAC, or not at all.
 */
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PrivateJwk } from "../../server/tokens/key-ring.js";

export type Json = Record<string, unknown>;

/** base64url of a JSON value (or of a string as is). */
export function b64(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return Buffer.from(text, "utf8").toString("base64url");
}

/** The private keys a server keeps in `<dataDir>/keys.json`, newest first. */
export function serverKeys(dataDir: string): PrivateJwk[] {
  return (JSON.parse(readFileSync(join(dataDir, "keys.json"), "utf8")) as { keys: PrivateJwk[] }).keys;
}

/** A key able to sign: its private KeyObject, its kid and algorithm. */
export interface ForgeKey {
  kid: string;
  alg: "EdDSA" | "ES256";
  privateKey: KeyObject;
  publicJwk: Json;
}

/** Turns a private JWK (the server's) into a {@link ForgeKey}. */
export function forgeKey(jwk: PrivateJwk): ForgeKey {
  const { activatesAt: _a, retiredAt: _r, ...plain } = jwk;
  const privateKey = createPrivateKey({ key: plain as Json & { kty: string }, format: "jwk" });
  const publicJwk = createPublicKey(privateKey).export({ format: "jwk" }) as Json;
  return { kid: String(jwk.kid), alg: jwk.crv === "P-256" ? "ES256" : "EdDSA", privateKey, publicJwk };
}

/** A fresh Ed25519 key that no server knows (another issuer's), with the kid you choose. */
export function strangerKey(kid: string): ForgeKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { kid, alg: "EdDSA", privateKey, publicJwk: publicKey.export({ format: "jwk" }) as Json };
}

/** Signs `header.payload` with the key (EdDSA, or ES256 in JOSE's raw r||s form). */
export function signCompact(key: ForgeKey, header: Json, payload: Json | string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature =
    key.alg === "EdDSA"
      ? sign(null, Buffer.from(input), key.privateKey)
      : sign("sha256", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

/** The header a genuine token has. */
export function goodHeader(key: ForgeKey, extra: Json = {}): Json {
  return { alg: key.alg, typ: "session+jwt", kid: key.kid, ...extra };
}

/** The claims a genuine token of `session` has; `overrides` with `undefined` removes a claim. */
export function goodClaims(
  session: { id: string; userId: string },
  now: number,
  overrides: Record<string, unknown> = {},
  { issuer = "solo-session", audience = "solo-session", lifetime = 8 * 3600 } = {},
): Json {
  const iat = Math.floor(now / 1000);
  const claims: Json = {
    sid: session.id,
    roles: [],
    sub: session.userId,
    jti: session.id,
    iss: issuer,
    aud: audience,
    iat,
    exp: iat + lifetime,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return claims;
}

/** An unsecured JWT (`alg: none`), with an empty or a junk signature. */
export function unsecured(header: Json, payload: Json, signature = ""): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

/** HS256 over `header.payload` with `secret` (the algorithm-confusion attack uses the public key). */
export function hmac(secret: Buffer | string, header: Json, payload: Json): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/** The secrets an attacker would try for HS256 with a public key: the raw key, the JWK text, the PEM. */
export function publicKeySecrets(key: ForgeKey): Buffer[] {
  const pem = createPublicKey(key.privateKey).export({ format: "pem", type: "spki" });
  return [
    Buffer.from(String(key.publicJwk.x), "base64url"),
    Buffer.from(JSON.stringify(key.publicJwk)),
    Buffer.from(pem),
  ];
}

/**
 * The same signature bytes spelled differently: the last base64url character of an Ed25519
 * signature (86 characters, 512 bits) carries 4 unused bits; setting one gives another string
 * that lenient decoders read as the same bytes.
 */
export function respellSignature(token: string): string {
  const [h, p, s = ""] = token.split(".");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(s.slice(-1));
  const respelled = `${s.slice(0, -1)}${alphabet[last ^ 1]}`;
  return `${h}.${p}.${respelled}`;
}
