// The declarations of @solo-session/client, with the wire contract inside them.
//
// tsc emits the declarations of src/ and of the protocol they import (`solo-session/protocol`,
// a path of the repository's tsconfig to ../../protocol/). This puts them where the package
// ships them, src/x.ts → dist/types/x.d.ts and protocol/x.ts → dist/types/protocol/x.d.ts, and
// rewrites every `solo-session/protocol` specifier to the relative path of that copy. The
// published declarations then name no server package; nothing is copied by hand.
//
//   node build-types.mjs [--out-dir <dir>]      (default: dist/types; run by `npm run build`)
//
// Exits 1 with tsc's diagnostics, or when an emitted file falls outside both folders.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, "../..");
const PROTOCOL = "solo-session/protocol";

const args = process.argv.slice(2);
const at = args.indexOf("--out-dir");
const outDir = resolve(at === -1 ? join(here, "dist/types") : (args[at + 1] ?? ""));

const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) };
const config = ts.getParsedCommandLineOfConfigFile(join(here, "tsconfig.build.json"), {}, host);
if (!config) fail([]);
if (config.errors.length > 0) fail(config.errors);
const emitRoot = config.options.outDir;
const program = ts.createProgram(config.fileNames, config.options);

/** Where an emitted declaration goes in the package: src/ at the top, the protocol in protocol/. */
function target(emitted) {
  const path = relative(emitRoot, emitted).split(sep).join("/");
  if (path.startsWith("packages/client/src/")) return join(outDir, path.slice("packages/client/src/".length));
  if (path.startsWith("protocol/")) return join(outDir, path);
  throw new Error(`build-types: ${path} is neither the SDK's nor the protocol's`);
}

const written = [];
const result = program.emit(
  undefined,
  (fileName, text) => {
    if (!fileName.endsWith(".d.ts")) return;
    const file = target(fileName);
    let index = relative(dirname(file), join(outDir, "protocol/index.js")).split(sep).join("/");
    if (!index.startsWith(".")) index = `./${index}`;
    const out = text.replace(/(["'])solo-session\/protocol\1/g, (_m, quote) => `${quote}${index}${quote}`);
    if (out.includes(`"${PROTOCOL}"`) || out.includes(`'${PROTOCOL}'`)) {
      throw new Error(`build-types: ${file} still imports ${PROTOCOL}`);
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, out);
    written.push(file);
  },
  undefined,
  true,
);
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
if (diagnostics.length > 0 || result.emitSkipped) fail(diagnostics);
console.log(`build-types: ${written.length} declaration files in ${relative(process.cwd(), outDir) || "."}`);

function fail(diagnostics) {
  const text = ts.formatDiagnosticsWithColorAndContext(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => "\n",
  });
  console.error(text || "build-types: no tsconfig.build.json");
  process.exit(1);
}
