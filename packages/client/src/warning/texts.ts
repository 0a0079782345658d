/**
 * The built-in warning's words: the types of the texts and of a warning of the app's own
 * making, the English defaults, and the sentence that says why a session ended.
 *
 * @module
 */

import type { ClearReport } from "../clear.js";
import type { Revocation } from "../types.js";
import type { DeviceView } from "../wire.js";

/**
 * The texts of the built-in warning. Override any of them (e.g. for another language).
 *
 * @example
 * ```ts
 * const texts: Partial<WarningTexts> = { title: "Sie wurden abgemeldet", button: "OK" };
 * createSoloClient({ texts, locale: "de-DE" });
 * ```
 */
export interface WarningTexts {
  /** The heading. */
  title: string;
  /** Why, for a replaced session. `device` is like "Firefox on Windows", `time` like "10:42". */
  replaced: (device: string, time: string) => string;
  /** Why, for a replaced session whose new device is unknown. */
  replacedUnknown: (time: string) => string;
  /** Why, when the user signed out (elsewhere). */
  logout: string;
  /** Why, when the user (from another device, "Your devices"), an administrator or the app ended the session. */
  revoked: string;
  /** Why, when the session reached its lifetime. */
  expired: string;
  /** Why, after a period of inactivity. */
  idle: string;
  /** Label of the "new sign-in" details. */
  newSignIn: string;
  /** Label of the device row in the details. */
  deviceTerm: string;
  /** Label of the time row in the details. */
  when: string;
  /** Label of the IP address row in the details. */
  from: string;
  /** Said after a replacement: what to do if it was not you. */
  notYou: string;
  /** Said after a replacement that can be disputed: what "This wasn't me" does. */
  notYouAction: string;
  /** The button that disputes the replacement ("This wasn't me"). */
  disputeButton: string;
  /** Said while the dispute is on its way. */
  disputing: string;
  /** Said once the dispute is done. */
  disputed: string;
  /** Said when the replacement was reported already (from another tab or window). */
  disputeUsed: string;
  /** Said when the dispute failed (the window closed, the server could not be reached). */
  disputeFailed: string;
  /** Said when local data was removed. */
  cleared: string;
  /** The button that closes the warning. */
  button: string;
  /** Joins browser and operating system: `(browser, os) => "Firefox on Windows"`. */
  device: (browser: string | null, os: string | null) => string;
  /** Said for a device that nothing is known about. */
  unknownDevice: string;
}

/**
 * What a warning renderer is given.
 *
 * @example
 * ```ts
 * const renderer = (r: Revocation, ctx: WarningContext) => myModal.open(r.reason, ctx.locale);
 * ```
 */
export interface WarningContext {
  /** What was cleared (empty lists when clearing is off). */
  cleared: ClearReport;
  /** The locale for dates and times. */
  locale: string | undefined;
  /** The app's texts (the `texts` option); the built-in warning fills in the rest. */
  texts: Partial<WarningTexts>;
  /**
   * "This wasn't me", for a replacement that can be disputed: `solo.dispute()` (rejects with
   * a `SoloClientError`). Absent otherwise.
   */
  dispute?: () => Promise<unknown>;
}

/**
 * Shows a warning of the app's own making instead of the built-in one.
 *
 * @example
 * ```ts
 * const warning: WarningRenderer = (r) => toast.error(`Signed out: ${r.reason}`);
 * createSoloClient({ warning });
 * ```
 */
export type WarningRenderer = (revocation: Revocation, context: WarningContext) => void;

/** The built-in warning's English texts. Override any of them with the `texts` option. */
export const DEFAULT_TEXTS: WarningTexts = {
  title: "You have been signed out",
  replaced: (device, time) => `You were signed out because your account signed in on ${device} at ${time}.`,
  replacedUnknown: (time) => `You were signed out because your account signed in on another device at ${time}.`,
  logout: "You signed out of your account, in another window or on another device.",
  revoked: "This session was signed out from another of your devices, or by an administrator.",
  expired: "Your session expired. Sign in again to continue.",
  idle: "Your session ended because it was inactive for too long.",
  newSignIn: "The new sign-in",
  deviceTerm: "Device",
  when: "Time",
  from: "IP address",
  notYou: "If this wasn't you, sign in again and change your password.",
  notYouAction: "If this wasn't you, say so now: that sign-in will be ended at once.",
  disputeButton: "This wasn't me",
  disputing: "Ending the other sign-in…",
  disputed: "Done: the other sign-in was ended. Sign in again and change your password.",
  disputeUsed: "This sign-in has already been reported.",
  disputeFailed: "That did not work. Sign in again and change your password.",
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
