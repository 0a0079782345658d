import type { Logger } from "pino";
import { reloadKeyRing, watchKeyFile } from "./key-file.js";
import type { TokenService } from "./tokens.js";

/** Keeps a running server's keys in step with `<dataDir>/keys.json` (key rotation without restart). */
export interface KeyReloader {
  /** Reads the key file again now. Returns the kids in use, newest first. */
  reload(): Promise<string[]>;
  /** Stops polling the file. */
  stop(): void;
}

/**
 * Polls the key file every `interval` ms (0: never) and swaps the new ring into the token
 * service. A file that does not load is ignored: the old keys stay, and a warning is logged.
 * Keys from `SOLO_SIGNING_KEYS` (no file) are never reloaded.
 *
 * @example
 * ```ts
 * const keys = startKeyReload(tokens, 2000, logger);
 * await keys.reload(); // after `npm run keys:rotate`, without waiting for the poll
 * ```
 */
export function startKeyReload(tokens: TokenService, interval: number, logger: Logger): KeyReloader {
  const file = tokens.ring.file;
  const reload = async (): Promise<string[]> => {
    if (!file) return tokens.ring.keys.map((k) => k.kid);
    const before = new Set(tokens.ring.byKid.keys());
    tokens.setRing(await reloadKeyRing(file));
    const kids = tokens.ring.keys.map((k) => k.kid);
    if (kids.length !== before.size || kids.some((kid) => !before.has(kid))) {
      const removed = [...before].filter((kid) => !tokens.ring.byKid.has(kid));
      logger.info({ kids, removed }, "signing keys reloaded");
    }
    return kids;
  };
  const stop =
    file && interval > 0
      ? watchKeyFile(file, interval, () => {
          reload().catch((error: unknown) =>
            logger.warn({ err: error }, "signing keys not reloaded; kept the old ones"),
          );
        })
      : () => {};
  return { reload, stop };
}
