/**
 * Where signing keys come from: the `signingKeys` option, or `<dataDir>/keys.json` (generated on
 * first start with mode 0600, written atomically, watched for a rotation), or memory.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import {
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  unwatchFile,
  watchFile,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  buildRing,
  generatePrivateJwk,
  type KeyRing,
  type PrivateJwk,
  type PrivateJwks,
  parseJwks,
  parseTime,
} from "./key-ring.js";

/** Where keys come from. */
export interface KeySource {
  /** A private JWKS (object or JSON text). The first active key signs. */
  signingKeys?: PrivateJwks | string | undefined;
  /** Directory where generated keys are kept (`keys.json`); null: keep them in memory only. */
  dataDir?: string | null | undefined;
}

/** The file inside the data directory that holds the private keys. */
export const KEYS_FILE = "keys.json";

/**
 * Loads the key ring: from `signingKeys` when given; otherwise from `<dataDir>/keys.json`,
 * generating an Ed25519 key there on first use (atomically, so several processes starting
 * together on one directory agree on one key); otherwise an in-memory key.
 *
 * @example
 * ```ts
 * const ring = await loadKeyRing({ dataDir: "./data" });
 * signingKey(ring, Date.now()).kid; // the RFC 7638 thumbprint of the signing key
 * ```
 */
export async function loadKeyRing(source: KeySource): Promise<KeyRing> {
  if (source.signingKeys !== undefined) {
    const jwks = typeof source.signingKeys === "string" ? parseJwks(source.signingKeys) : source.signingKeys;
    return buildRing(jwks, "signingKeys", null);
  }
  if (source.dataDir) {
    const path = join(source.dataDir, KEYS_FILE);
    return buildRing(await readOrCreate(source.dataDir), path, path);
  }
  return buildRing({ keys: [await generatePrivateJwk()] }, "generated key", null);
}

/**
 * Reads a `keys.json` again (after a rotation). Throws a TypeError when the file is missing
 * or not a usable key set; the caller keeps its current ring then.
 *
 * @example
 * ```ts
 * const fresh = await reloadKeyRing(ring.file!);
 * ```
 */
export async function reloadKeyRing(file: string): Promise<KeyRing> {
  const jwks = tryRead(file);
  if (!jwks) throw new TypeError(`${file} does not exist`);
  return buildRing(jwks, file, file);
}

/**
 * Calls `onChange` when the file's modification time or size changes (a rotation replaces
 * it atomically). Polls with `fs.watchFile`, which works on every file system including
 * network mounts, and does not keep the process alive. Returns a function that stops it.
 *
 * @example
 * ```ts
 * const stop = watchKeyFile(ring.file!, 2000, () => reloadKeyRing(ring.file!).then(use));
 * ```
 */
export function watchKeyFile(file: string, interval: number, onChange: () => void): () => void {
  const listener = (curr: { mtimeMs: number; size: number; ino: number }, prev: typeof curr) => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size || curr.ino !== prev.ino) onChange();
  };
  watchFile(file, { interval, persistent: false }, listener);
  return () => unwatchFile(file, listener);
}

/** Options of {@link rotateKeyFile}. Durations in milliseconds. */
export interface RotateOptions {
  /**
   * The longest a token lives (the server's `maxAge`). A key that stopped signing is
   * dropped once this long (plus `clockTolerance`) has passed: every token it signed has expired.
   * @default 8 hours
   */
  maxAge?: number;
  /**
   * The new key starts signing this long after the rotation. Until then every server loads
   * it and already verifies with it, so no server ever sees a token signed by a key it does not
   * have yet. @default 30_000
   */
  activateIn?: number;
  /** Clock skew allowed when checking token times, in seconds. @default 5 */
  clockTolerance?: number;
  /** Epoch milliseconds now. @default Date.now() */
  now?: number;
}

/** What a rotation did. */
export interface Rotation {
  /** The new key. */
  kid: string;
  /** When it starts signing (epoch ms). */
  activatesAt: number;
  /** Keys that stopped signing with this rotation. */
  retired: string[];
  /** Keys dropped because every token they signed has expired. */
  dropped: string[];
  /** The keys now in the file, newest first. */
  kept: string[];
}

/**
 * Key rotation without downtime for `<dataDir>/keys.json`: prepends a new signing key that
 * activates `activateIn` from now, records when the previous keys stop signing (`retiredAt`),
 * and drops keys retired more than `maxAge` ago. Running servers pick the file up by
 * themselves (they poll it) and keep verifying every key still in it.
 *
 * @example
 * ```ts
 * const { kid, activatesAt } = await rotateKeyFile("./data", { maxAge: 8 * 3600_000 });
 * ```
 */
export async function rotateKeyFile(dataDir: string, options: RotateOptions = {}): Promise<Rotation> {
  const now = options.now ?? Date.now();
  const maxAge = options.maxAge ?? 8 * 3600_000;
  const activateIn = options.activateIn ?? 30_000;
  const tolerance = (options.clockTolerance ?? 5) * 1000;
  for (const [name, value] of [
    ["maxAge", maxAge],
    ["activateIn", activateIn],
    ["clockTolerance", tolerance],
    ["now", now],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`rotateKeyFile: ${name} must be a number >= 0`);
  }
  const current = await readOrCreate(dataDir);
  const activatesAt = now + activateIn;
  const retired: string[] = [];
  const dropped: string[] = [];
  const kept: PrivateJwk[] = [];
  for (const jwk of current.keys) {
    const retiredAt = jwk.retiredAt === undefined ? null : parseTime(jwk.retiredAt, "retiredAt");
    if (retiredAt === null) {
      retired.push(String(jwk.kid));
      kept.push({ ...jwk, retiredAt: new Date(activatesAt).toISOString() });
    } else if (retiredAt + maxAge + tolerance <= now) {
      dropped.push(String(jwk.kid));
    } else {
      kept.push(jwk);
    }
  }
  const fresh: PrivateJwk = { ...(await generatePrivateJwk()), activatesAt: new Date(activatesAt).toISOString() };
  const next: PrivateJwks = { keys: [fresh, ...kept] };
  await buildRing(next, "rotated key set", null); // never write a set that would not load
  writeAtomically(join(dataDir, KEYS_FILE), next);
  return { kid: fresh.kid as string, activatesAt, retired, dropped, kept: next.keys.map((k) => String(k.kid)) };
}

function writeAtomically(path: string, jwks: PrivateJwks): void {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
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
