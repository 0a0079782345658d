import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../server/options/defaults.js";
import { resolveOptions } from "../../server/options/resolve.js";
import type { SoloServerOptions } from "../../server/options/types.js";

const authenticate = () => null;
const resolve = (options: Partial<SoloServerOptions>) => resolveOptions({ authenticate, ...options });

describe("Socket.IO heartbeat options", () => {
  it("default to a 10 s ping and a 5 s wait for its answer: a vanished browser is dropped within 15 s", () => {
    const o = resolve({});
    expect([o.pingInterval, o.pingTimeout]).toEqual([10_000, 5000]);
    expect(DEFAULTS.pingInterval + DEFAULTS.pingTimeout).toBeLessThanOrEqual(15_000);
  });

  it("take the values given", () => {
    const o = resolve({ pingInterval: 25_000, pingTimeout: 20_000 });
    expect([o.pingInterval, o.pingTimeout]).toEqual([25_000, 20_000]);
  });

  it("refuse a value that is not a positive number with a TypeError naming the option", () => {
    for (const name of ["pingInterval", "pingTimeout"] as const) {
      for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "5000" as unknown as number]) {
        expect(() => resolve({ [name]: bad }), `${name}: ${String(bad)}`).toThrow(TypeError);
        expect(() => resolve({ [name]: bad }), `${name}: ${String(bad)}`).toThrow(new RegExp(`options\\.${name} `));
      }
    }
  });
});
