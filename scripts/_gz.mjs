import { transform } from "esbuild";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
const { code } = await transform(readFileSync("dist/client/solo-client.js", "utf8"), { minify: true, format: "esm", target: "es2022", legalComments: "none" });
console.log(gzipSync(code, { level: 9 }).length);
