import { randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import type { AuthenticatedUser, Credentials } from "../server/index.js";

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const KEY_LENGTH = 32;

interface StoredUser {
  userId: string;
  roles: readonly string[];
  salt: Buffer;
  hash: Buffer;
}

/**
 * The standalone server's user list: passwords hashed with scrypt (node:crypto), compared in
 * constant time. An unknown username costs the same scrypt as a wrong password.
 */
export class DemoUsers {
  readonly #users = new Map<string, StoredUser>();
  readonly #dummy: StoredUser = { userId: "", roles: [], salt: randomBytes(16), hash: randomBytes(KEY_LENGTH) };

  /** Hashes and adds users. */
  static async create(
    list: readonly { username: string; password: string; roles?: readonly string[] }[],
  ): Promise<DemoUsers> {
    const users = new DemoUsers();
    for (const u of list) {
      const salt = randomBytes(16);
      users.#users.set(u.username, {
        userId: u.username,
        roles: u.roles ?? [],
        salt,
        hash: await scrypt(u.password, salt, KEY_LENGTH),
      });
    }
    return users;
  }

  /** `authenticate` for createSoloServer: `{ username, password }` → user or null. */
  readonly authenticate = async (credentials: Credentials): Promise<AuthenticatedUser | null> => {
    const { username, password } = credentials;
    if (typeof username !== "string" || typeof password !== "string") return null;
    if (username.length > 128 || password.length > 1024) return null;
    const user = this.#users.get(username) ?? this.#dummy;
    const hash = await scrypt(password, user.salt, KEY_LENGTH);
    const ok = timingSafeEqual(hash, user.hash) && user !== this.#dummy;
    return ok ? { userId: user.userId, roles: user.roles } : null;
  };
}

/** The demo accounts: alice, bob, carol (password "demo") and admin (password "admin", role admin). */
export const DEMO_ACCOUNTS = [
  { username: "alice", password: "demo" },
  { username: "bob", password: "demo" },
  { username: "carol", password: "demo" },
  { username: "admin", password: "admin", roles: ["admin"] },
] as const;
