// Minified + gzipped size of the built browser SDK (dist/client), socket.io-client excluded
// (it stays external). Run `npm run build:client` first. Prints one line per chunk and the
// core (what `createSoloClient` loads up front) separately from the on-demand warning.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { transform } from "esbuild";

const dir = process.argv[2] ?? "dist/client";
const files = readdirSync(dir).filter((f) => f.endsWith(".js"));
if (files.length === 0) {
  console.error(`no .js files in ${dir}: run npm run build:client first`);
  process.exit(1);
}
const sizes = {};
for (const file of files) {
  const source = readFileSync(join(dir, file), "utf8");
  const { code } = await transform(source, { minify: true, format: "esm", target: "es2022", legalComments: "none" });
  sizes[file] = { min: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length };
}
const kb = (n) => `${(n / 1024).toFixed(2)} KB`;
let total = 0;
for (const [file, s] of Object.entries(sizes)) {
  total += s.gzip;
  console.log(`${file.padEnd(20)} min ${kb(s.min).padStart(9)}  min+gzip ${kb(s.gzip).padStart(8)}`);
}
const core = sizes["solo-client.js"]?.gzip ?? 0;
console.log(
  `core (solo-client.js): ${kb(core)} min+gzip; with the built-in warning: ${kb(total)} (socket.io-client excluded)`,
);
