/**
 * `npm run keys:rotate`: rotates the signing key kept in `<dataDir>/keys.json`, without
 * downtime. A new key is prepended and starts signing `--activate-in` from now (running
 * servers poll the file and load it first, so they already verify with it); the previous key
 * keeps verifying and is dropped by a later rotation once `--max-age` has passed since it
 * stopped signing, when every token it signed has expired.
 *
 *   npm run keys:rotate -- [--data-dir ./data] [--max-age 8h] [--activate-in 30s]
 *
 * Defaults come from SOLO_DATA_DIR and SOLO_MAX_AGE, like the server's. Prints what it did as JSON.
 */
import { parseArgs } from "node:util";
import { parseDuration } from "../server/options/parse-duration.js";
import { rotateKeyFile } from "../server/tokens/key-file.js";

function main(): void {
  const { values } = parseArgs({
    options: {
      "data-dir": { type: "string" },
      "max-age": { type: "string" },
      "activate-in": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log("usage: npm run keys:rotate -- [--data-dir DIR] [--max-age 8h] [--activate-in 30s]");
    return;
  }
  if (process.env.SOLO_SIGNING_KEYS) {
    throw new Error(
      "SOLO_SIGNING_KEYS is set: the server takes its keys from it, not from keys.json. " +
        "Rotate by editing it (see docs/security.md, Key rotation).",
    );
  }
  const dataDir = values["data-dir"] ?? process.env.SOLO_DATA_DIR ?? "./data";
  const maxAge = parseDuration(values["max-age"] ?? process.env.SOLO_MAX_AGE ?? "8h", "--max-age");
  const activateIn = parseDuration(values["activate-in"] ?? "30s", "--activate-in");
  rotateKeyFile(dataDir, { maxAge, activateIn }).then(
    (rotation) => {
      console.log(
        JSON.stringify({ ...rotation, activatesAt: new Date(rotation.activatesAt).toISOString(), dataDir }, null, 2),
      );
    },
    (error: unknown) => fail(error),
  );
}

function fail(error: unknown): void {
  console.error(`keys:rotate: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}

try {
  main();
} catch (error) {
  fail(error);
}
