import type { DeviceView, Revocation, WarningTexts } from "../types.js";

/** The built-in warning's English texts. Override any of them with the `texts` option. */
export const DEFAULT_TEXTS: WarningTexts = {
  title: "You have been signed out",
  replaced: (device, time) => `You were signed out because your account signed in on ${device} at ${time}.`,
  replacedUnknown: (time) => `You were signed out because your account signed in on another device at ${time}.`,
  logout: "You signed out of your account, in another window or on another device.",
  revoked: "An administrator ended this session.",
  expired: "Your session expired. Sign in again to continue.",
  idle: "Your session ended because it was inactive for too long.",
  newSignIn: "The new sign-in",
  deviceTerm: "Device",
  when: "Time",
  from: "IP address",
  notYou: "If this wasn't you, sign in again and change your password.",
  cleared: "Data this app kept in this browser has been removed.",
  button: "OK",
  device: (browser, os) => (browser && os ? `${browser} on ${os}` : (browser ?? os ?? "another device")),
  unknownDevice: "an unknown device",
};

/** "Firefox 132" → "Firefox"; "Windows 10" → "Windows"; keeps names without a version. */
export function withoutVersion(name: string | null): string | null {
  if (name === null) return null;
  const short = name.replace(/\s+v?[\d][\w.]*$/i, "").trim();
  return short === "" ? name : short;
}

/** The device in plain words: its chosen name, or "Firefox on Windows". */
export function deviceLabel(device: DeviceView, texts: WarningTexts, full = false): string {
  const browser = full ? device.browser : withoutVersion(device.browser);
  const os = full ? device.os : withoutVersion(device.os);
  const described = browser || os ? texts.device(browser, os) : null;
  if (device.name) return described ? `${device.name} (${described})` : device.name;
  return described ?? texts.unknownDevice;
}

/** "10:42" for today, with the date for another day, in the given locale. */
export function timeLabel(iso: string, locale: string | undefined, now: Date = new Date()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const sameDay = at.toDateString() === now.toDateString();
  const format: Intl.DateTimeFormatOptions = sameDay
    ? { hour: "2-digit", minute: "2-digit" }
    : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  return new Intl.DateTimeFormat(locale, format).format(at);
}

/** The sentence that says why, for this revocation. */
export function reasonText(revocation: Revocation, texts: WarningTexts, locale: string | undefined): string {
  switch (revocation.reason) {
    case "replaced": {
      const by = revocation.by;
      const time = timeLabel(by?.at ?? revocation.at, locale);
      return by ? texts.replaced(deviceLabel(by.device, texts), time) : texts.replacedUnknown(time);
    }
    case "logout":
      return texts.logout;
    case "revoked":
      return texts.revoked;
    case "expired":
      return texts.expired;
    case "idle":
      return texts.idle;
  }
}
