// Minified + gzipped size of the built browser SDK (packages/client/dist), socket.io-client and React
// excluded (they stay external), checked against the size budget:
//   core (what `createSoloClient` loads up front) <= 6.75 KB, React binding <= 1.5 KB.
// Chunks loaded on demand (the built-in warning, the heartbeat election for browsers without
// Web Locks) are listed apart. Also checks that an app importing only `createSoloClient` (or
// only the React binding) gets no UI code in what it loads up front.
//
//   npm run build:client && node scripts/size.mjs [dir]
//
// Exits 1 with one line per broken budget. Used by test/unit/sdk-size.test.ts (CI).
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, transform } from "esbuild";

/** Budgets in bytes (min+gzip). */
export const BUDGET = { core: 6.75 * 1024, react: 1.5 * 1024 };

/** Text that only the built-in warning's code contains. */
const UI_MARKERS = ["You have been signed out", "alertdialog"];

const STATIC_IMPORT =
  /(?:^|[;\n])\s*(?:import|export)\s[^;]*?from\s*["'](\.\/[^"']+)["']|(?:^|[;\n])\s*import\s*["'](\.\/[^"']+)["']/g;

/** Minified (esbuild) and gzipped (level 9) size of one file's code. */
export async function sizeOf(source) {
  const { code } = await transform(source, { minify: true, format: "esm", target: "es2022", legalComments: "none" });
  return { min: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length };
}

/** The local chunks an entry loads up front: itself and its static imports, transitively. */
function upFront(dir, entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(join(dir, file), "utf8");
    for (const match of source.matchAll(STATIC_IMPORT)) visit((match[1] ?? match[2]).slice(2));
  };
  visit(entry);
  return [...seen];
}

/**
 * Measures every chunk of a built SDK directory. `core` and `react` are what their entries
 * load up front (sum of their chunks); `onDemand` lists the other chunks.
 */
export async function measure(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith(".js"));
  if (!files.includes("solo-client.js")) throw new Error(`no solo-client.js in ${dir}: run npm run build:client first`);
  const chunks = {};
  for (const file of files) chunks[file] = await sizeOf(readFileSync(join(dir, file), "utf8"));
  // Several chunks up front count each in full (their sizes add up, as in the browser).
  const sum = (list) => ({
    min: list.reduce((n, f) => n + chunks[f].min, 0),
    gzip: list.reduce((n, f) => n + chunks[f].gzip, 0),
    files: list,
  });
  const coreFiles = upFront(dir, "solo-client.js");
  const reactFiles = files.includes("react.js") ? upFront(dir, "react.js") : [];
  const core = sum(coreFiles);
  const react = reactFiles.length > 0 ? sum(reactFiles) : null;
  const loaded = new Set([...coreFiles, ...reactFiles]);
  const onDemand = files.filter((f) => !loaded.has(f)).map((f) => ({ file: f, ...chunks[f] }));
  return { chunks, core, react, onDemand };
}

/**
 * Bundles a one-line app with esbuild (code splitting, minified) and returns the code of its
 * entry chunk, what the app loads up front, and of every chunk.
 */
export async function bundleApp(dir, code) {
  const result = await build({
    stdin: { contents: code, resolveDir: resolve(dir), sourcefile: "app.js", loader: "js" },
    bundle: true,
    splitting: true,
    format: "esm",
    minify: true,
    write: false,
    outdir: "/virtual",
    external: ["socket.io-client", "react", "react-dom"],
    logLevel: "silent",
  });
  const outputs = result.outputFiles.map((f) => ({ path: f.path, text: f.text }));
  const entry = outputs.find((o) => o.path.endsWith("/app.js") || o.path.endsWith("/stdin.js")) ?? outputs[0];
  return { entry: entry.text, chunks: outputs };
}

/** The checks of the size budget and of tree shaking; returns the broken ones as lines. */
export async function check(dir) {
  const m = await measure(dir);
  const problems = [];
  if (m.core.gzip > BUDGET.core)
    problems.push(`core is ${kb(m.core.gzip)} min+gzip, over the ${kb(BUDGET.core)} budget`);
  if (!m.react) problems.push("react.js is missing");
  else if (m.react.gzip > BUDGET.react) {
    problems.push(`React binding is ${kb(m.react.gzip)} min+gzip, over the ${kb(BUDGET.react)} budget`);
  }
  const onlyClient = await bundleApp(
    dir,
    'import { createSoloClient } from "./solo-client.js"; createSoloClient({ warning: false });',
  );
  if (UI_MARKERS.some((marker) => onlyClient.entry.includes(marker))) {
    problems.push("an app importing only createSoloClient gets the built-in UI up front");
  }
  const onlyReact = await bundleApp(dir, 'export { SoloProvider, useSoloSession } from "./react.js";');
  if (UI_MARKERS.some((marker) => onlyReact.entry.includes(marker)) || onlyReact.entry.includes("socket.io-client")) {
    problems.push("the React binding pulls in the SDK's core or UI");
  }
  return { measured: m, problems };
}

export function kb(bytes) {
  return `${(bytes / 1024).toFixed(2)} KB`;
}

// --- command line ---------------------------------------------------------------------------

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? "packages/client/dist";
  let result;
  try {
    result = await check(dir);
  } catch (error) {
    console.error(String(error?.message ?? error));
    process.exit(1);
  }
  const { measured: m, problems } = result;
  const row = (name, s) =>
    console.log(`${name.padEnd(34)} min ${kb(s.min).padStart(9)}  min+gzip ${kb(s.gzip).padStart(8)}`);
  row(`core (${m.core.files.join(" + ")})`, m.core);
  if (m.react) row(`react (${m.react.files.join(" + ")})`, m.react);
  for (const c of m.onDemand) row(`on demand: ${c.file}`, c);
  console.log(
    `budget: core ${kb(m.core.gzip)} / ${kb(BUDGET.core)}, react ${m.react ? kb(m.react.gzip) : "-"} / ${kb(BUDGET.react)} (socket.io-client and React excluded)`,
  );
  for (const problem of problems) console.error(`size budget: ${problem}`);
  process.exit(problems.length > 0 ? 1 : 0);
}
