import UAParser from "ua-parser-js";
import type { DeviceInfo } from "./store/types.js";

/** Longest device name a client may choose, in code points; longer names are cut. */
export const MAX_DEVICE_NAME = 64;

/**
 * Describes the device of a login from its User-Agent, IP and the optional name the
 * client chose. Browser and OS come from ua-parser-js; unknown parts are null.
 *
 * @example
 * ```ts
 * describeDevice("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0", "10.0.0.7", null)
 * // → { name: null, browser: "Firefox 132", os: "Windows 10", ip: "10.0.0.7" }
 * ```
 */
export function describeDevice(userAgent: string | undefined, ip: string | undefined, name: unknown): DeviceInfo {
  const { browser, os } = parseAgent(userAgent ?? "");
  return { name: cleanName(name), browser, os, ip: ip ? normalizeIp(ip) : null };
}

/** Parsed User-Agents, most recent last: a site sees few distinct ones, and parsing costs more than a login's claim. */
const parsed = new Map<string, { browser: string | null; os: string | null }>();
const PARSED_MAX = 1000;
const MAX_AGENT = 512;

function parseAgent(userAgent: string): { browser: string | null; os: string | null } {
  const key = userAgent.slice(0, MAX_AGENT);
  const hit = parsed.get(key);
  if (hit) return hit;
  const ua = new UAParser(key).getResult();
  const result = {
    browser: ua.browser.name ? join(ua.browser.name, ua.browser.major) : null,
    os: ua.os.name ? join(ua.os.name, ua.os.version) : null,
  };
  if (parsed.size >= PARSED_MAX) {
    const oldest = parsed.keys().next();
    if (!oldest.done) parsed.delete(oldest.value);
  }
  parsed.set(key, result);
  return result;
}

/**
 * What never belongs in a name shown to people: control characters (Cc), format characters
 * (Cf: bidi overrides and isolates U+202A–202E and U+2066–2069, zero-width U+200B–200F and
 * U+2060–2064, U+FEFF, soft hyphen, tag characters...), line and paragraph separators (Zl, Zp),
 * and lone surrogates (Cs: half of a pair, not a character).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

/**
 * A client-chosen device name as it may be shown on another device's warning and in the admin
 * view: a string, with control, format (bidi, zero-width) and separator characters and lone
 * surrogates removed, normalised to NFC, trimmed, and at most 64 characters (code points; a
 * surrogate pair is never cut in half). Null when nothing is left.
 *
 * @example
 * ```ts
 * cleanName("Work\u202Egnp.exe\u200B laptop"); // → "Workgnp.exe laptop"
 * cleanName("Cafe\u0301");                     // → "Café" (one code point)
 * ```
 */
export function cleanName(name: unknown): string | null {
  if (typeof name !== "string") return null;
  const visible = name.replace(INVISIBLE, "").normalize("NFC").trim();
  const clean = Array.from(visible).slice(0, MAX_DEVICE_NAME).join("").trim();
  return clean === "" ? null : clean;
}

function join(name: string, version: string | undefined): string {
  return version ? `${name} ${version}` : name;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`. */
function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}
