import UAParser from "ua-parser-js";
import type { DeviceInfo } from "./store/types.js";

/** Longest device name a client may choose; longer names are cut. */
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

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

/** A client-chosen device name: a string, control characters removed, trimmed, at most 64 characters. */
export function cleanName(name: unknown): string | null {
  if (typeof name !== "string") return null;
  const clean = name.replace(CONTROL_CHARS, "").trim().slice(0, MAX_DEVICE_NAME);
  return clean === "" ? null : clean;
}

function join(name: string, version: string | undefined): string {
  return version ? `${name} ${version}` : name;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`. */
function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}
