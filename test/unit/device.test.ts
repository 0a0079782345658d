import { describe, expect, it } from "vitest";
import { cleanName, describeDevice, MAX_DEVICE_NAME } from "../../server/device.js";

/** No lone surrogate anywhere (what `String.prototype.isWellFormed` checks, in ES2024). */
const wellFormed = (s: string) => !/\p{Cs}/u.test(s);

// Device names are chosen by the client and shown to people elsewhere: on the other device's
// "replaced" warning and in the admin view. Nothing invisible or direction-changing may reach them.

describe("cleanName", () => {
  it("removes bidi overrides and isolates, so a name cannot read backwards", () => {
    expect(cleanName("Work \u202Egnp.exe")).toBe("Work gnp.exe");
    for (const control of ["\u202A", "\u202B", "\u202C", "\u202D", "\u202E", "\u2066", "\u2067", "\u2068", "\u2069"]) {
      expect(cleanName(`a${control}b`), control.codePointAt(0)?.toString(16)).toBe("ab");
    }
    expect(cleanName("\u200E\u200F\u061Cx")).toBe("x");
  });

  it("removes zero-width and other format characters", () => {
    for (const format of ["\u200B", "\u200C", "\u200D", "\u2060", "\u2063", "\uFEFF", "\u00AD", "\u{E0041}"]) {
      expect(cleanName(`ad${format}min`), format.codePointAt(0)?.toString(16)).toBe("admin");
    }
  });

  it("removes control characters and line or paragraph separators", () => {
    expect(cleanName("  Kitchen\u0000 tablet\u0007\u001b\u007f\u0085 ")).toBe("Kitchen tablet");
    expect(cleanName("one\ntwo\r\tthree\u2028four\u2029")).toBe("onetwothreefour");
  });

  it("removes lone surrogates and keeps surrogate pairs", () => {
    expect(cleanName("a\uD800b")).toBe("ab");
    expect(cleanName("a\uDC00b")).toBe("ab");
    expect(cleanName("\uDC00\uD800")).toBeNull(); // reversed halves are two lone surrogates
    expect(cleanName("Phone \u{1F4F1}")).toBe("Phone \u{1F4F1}");
    const clean = cleanName("x\uD83D") as string;
    expect(wellFormed(clean)).toBe(true);
  });

  it("normalises to NFC", () => {
    const decomposed = "Cafe\u0301 laptop";
    expect(cleanName(decomposed)).toBe("Caf\u00E9 laptop");
    expect(cleanName(decomposed)).toBe(cleanName("Caf\u00E9 laptop"));
    // A combining mark separated from its letter by a format character joins it once that is gone.
    expect(cleanName("e\u200B\u0301")).toBe("\u00E9");
  });

  it("keeps at most 64 code points and never cuts a surrogate pair in half", () => {
    expect(cleanName("a".repeat(100))).toBe("a".repeat(MAX_DEVICE_NAME));
    const emoji = "\u{1F600}".repeat(100);
    const clean = cleanName(emoji) as string;
    expect(Array.from(clean)).toHaveLength(MAX_DEVICE_NAME);
    expect(wellFormed(clean)).toBe(true);
    expect(clean).toBe("\u{1F600}".repeat(MAX_DEVICE_NAME));
    // 63 letters then an emoji: the emoji is the 64th code point and is kept whole.
    expect(cleanName(`${"a".repeat(63)}\u{1F600}zz`)).toBe(`${"a".repeat(63)}\u{1F600}`);
    // Invisible characters do not count against the cap.
    expect(cleanName(`${"\u200B".repeat(100)}${"b".repeat(64)}`)).toBe("b".repeat(64));
  });

  it("trims, also after the cut, and gives null when nothing is left or it is not a string", () => {
    expect(cleanName(`${"a".repeat(63)} b`)).toBe("a".repeat(63));
    expect(cleanName("\u202E\u200B \uFEFF")).toBeNull();
    expect(cleanName("")).toBeNull();
    for (const value of [undefined, null, 42, ["Desk"], { name: "Desk" }]) expect(cleanName(value)).toBeNull();
  });

  it("is what describeDevice stores", () => {
    expect(describeDevice(undefined, "::ffff:10.0.0.7", "Desk\u202E\uD800").name).toBe("Desk");
  });
});
