import { createHash } from "node:crypto";
import { isIP } from "node:net";

/** Longest login name counted; longer ones are hashed all the same. */
const MAX_LOGIN_NAME = 256;

/**
 * The counter key of an address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 network,
 * since one host usually holds a whole /64 and could otherwise rotate through it.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (isIP(address) !== 6) return address;
  const [head = "", tail = ""] = address.split("%")[0]?.split("::") ?? [];
  const left = head ? head.split(":") : [];
  const right = address.includes("::") ? (tail ? tail.split(":") : []) : [];
  const groups = address.includes("::")
    ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** The counter key of a user id: hashed, like login names (ids are not stored in clear either). */
export function userIdKey(userId: string): string {
  return createHash("sha256").update(userId, "utf8").digest("base64url").slice(0, 32);
}

/** The counter key of a login name: case- and space-insensitive, hashed (names are not stored in clear). */
export function loginNameKey(name: string): string {
  const normalized = name.normalize("NFKC").trim().toLowerCase().slice(0, MAX_LOGIN_NAME);
  return createHash("sha256").update(normalized, "utf8").digest("base64url").slice(0, 32);
}
