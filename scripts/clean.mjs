// Removes build output folders before a build, so that a module deleted from the sources
// cannot linger in dist/ (and in a package). Portable `rm -rf`.
//
//   node scripts/clean.mjs dist/server dist/protocol ...
import { rmSync } from "node:fs";

for (const dir of process.argv.slice(2)) rmSync(dir, { recursive: true, force: true });
