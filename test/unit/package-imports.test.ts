import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join, relative, sep } from "node:path";
import ts from "typescript";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/server.js";

const ROOT = join(import.meta.dirname, "../..");

/** The parts of a package.json this test reads. */
interface Manifest {
  name: string;
  bin?: Record<string, string>;
  files?: string[];
  exports?: Record<string, { types?: string; default?: string } | string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** A bare specifier the published code uses without declaring what provides it. */
interface Undeclared {
  /** The file, relative to the package root as published (e.g. `dist/server/realtime.js`). */
  file: string;
  specifier: string;
  /** The package that must be in `dependencies` or `peerDependencies`. */
  needs: string;
}

/** Every module specifier a JS or declaration file refers to (comments and strings do not count). */
function specifiersOf(file: string, text: string): string[] {
  const declaration = /\.d\.[cm]?ts$/.test(file);
  const source = ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    true,
    declaration ? ts.ScriptKind.TS : ts.ScriptKind.JS,
  );
  const out: string[] = source.typeReferenceDirectives.map((ref) => ref.fileName);
  const literal = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) out.push(node.text);
  };
  const isRequire = (node: ts.Expression): boolean =>
    (ts.isIdentifier(node) && node.text === "require") ||
    (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "createRequire");
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      literal(node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      literal(node.moduleReference.expression);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      literal(node.argument.literal);
    } else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) {
      literal(node.name); // declare module "x" { ... }: an augmentation of x
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const dynamic = callee.kind === ts.SyntaxKind.ImportKeyword || isRequire(callee);
      const resolve =
        ts.isPropertyAccessExpression(callee) && callee.name.text === "resolve" && isRequire(callee.expression);
      if (dynamic || resolve) literal(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or null for a path or URL. */
function packageOf(specifier: string): string | null {
  if (/^[./]/.test(specifier) || /^[a-z][a-z0-9+.-]*:/i.test(specifier)) return null;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? null);
}

/** The manifest of an installed package, or null. */
function installed(nodeModules: string, name: string): Record<string, unknown> | null {
  const path = join(nodeModules, name, "package.json");
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>) : null;
}

/** True when the installed package carries its own type declarations. */
function bundlesTypes(nodeModules: string, name: string): boolean {
  const manifest = installed(nodeModules, name);
  if (!manifest) return false;
  return (
    typeof manifest.types === "string" ||
    typeof manifest.typings === "string" ||
    JSON.stringify(manifest.exports ?? null).includes('"types"') ||
    existsSync(join(nodeModules, name, "index.d.ts"))
  );
}

/** `@types/<name>` as DefinitelyTyped names it (`@scope/name` → `@types/scope__name`). */
function typesPackage(name: string): string {
  return `@types/${name.startsWith("@") ? name.slice(1).replace("/", "__") : name}`;
}

/**
 * The package that provides the types of `name` to a declaration file: `name` itself when it
 * carries them (or when nothing is installed to tell), else its `@types/` package.
 */
function typesProvider(nodeModules: string, name: string): string {
  if (bundlesTypes(nodeModules, name)) return name;
  return installed(nodeModules, typesPackage(name)) || installed(nodeModules, name) ? typesPackage(name) : name;
}

/** Files under `dir`, recursively. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/**
 * The bare imports of the published files (`files` of the manifest, found under `root`) that
 * are neither Node builtins, nor the package itself, nor in `dependencies` or
 * `peerDependencies`. For declaration files, what must be declared is the package that
 * provides the types (its `@types/` package when it has none of its own): an app that
 * type-checks against ours gets only what we declare (strictly so under pnpm).
 */
function undeclaredImports(root: string, manifest: Manifest, nodeModules: string): Undeclared[] {
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const found: Undeclared[] = [];
  // The built code is under dist/ (`files` also lists the docs the README links to).
  const code = (manifest.files ?? []).filter((entry) => entry === "dist" || entry.startsWith("dist/"));
  const files = code.flatMap((entry) => walk(join(root, entry)));
  for (const path of files.filter((f) => /\.(c|m)?js$|\.d\.(c|m)?ts$/.test(f))) {
    const file = relative(root, path).split(sep).join("/");
    const declaration = /\.d\.[cm]?ts$/.test(file);
    for (const specifier of specifiersOf(file, readFileSync(path, "utf8"))) {
      const name = packageOf(specifier);
      if (name === null || isBuiltin(specifier) || name === manifest.name) continue;
      // JS needs the package at run time; a declaration file needs whatever provides its types.
      const needs = declaration ? typesProvider(nodeModules, name) : name;
      if (!declared.has(needs)) found.push({ file, specifier, needs });
    }
  }
  return found;
}

/** Runs a tool of this repository (tsc, node) with the given arguments from the repository root. */
function tool(command: string, args: string[]): void {
  execFileSync(command, args, { cwd: ROOT, stdio: "pipe" });
}

/** The two published packages: the server (the repository's root) and the browser SDK. */
const PACKAGES = {
  "solo-session": ROOT,
  "@solo-session/client": join(ROOT, "packages/client"),
} as const;

const manifests = Object.fromEntries(
  Object.entries(PACKAGES).map(([name, dir]) => [
    name,
    JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest,
  ]),
) as Record<keyof typeof PACKAGES, Manifest>;
/** Where each package's fresh build is laid out as it would be published (`<out>/<name>/dist`). */
const built = {} as Record<keyof typeof PACKAGES, string>;
let out: string;

// What each package's build puts in its dist/, built fresh from this commit's sources into a
// temp dir with the same configuration files (so a stale or missing dist/ cannot hide an import).
beforeAll(async () => {
  out = tempDir("solo-publish-");
  built["solo-session"] = join(out, "server");
  built["@solo-session/client"] = join(out, "client");
  tool(join(ROOT, "node_modules/.bin/tsc"), [
    "-p",
    "tsconfig.build.json",
    "--outDir",
    join(built["solo-session"], "dist"),
  ]);
  // In the order of the SDK's `npm run build`: the bundle empties its folder before its types go in.
  const clientDist = join(built["@solo-session/client"], "dist");
  await build({
    configFile: join(PACKAGES["@solo-session/client"], "vite.config.ts"),
    logLevel: "silent",
    build: { outDir: clientDist, emptyOutDir: true },
  });
  tool(process.execPath, ["packages/client/build-types.mjs", "--out-dir", join(clientDist, "types")]);
}, 180_000);
afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe("the published code's imports are declared", () => {
  for (const name of Object.keys(PACKAGES) as (keyof typeof PACKAGES)[]) {
    it(`${name}: the fresh build has every file package.json exports and names as bin (it is what ships)`, () => {
      const manifest = manifests[name];
      const targets = Object.values(manifest.exports ?? {})
        .flatMap((entry) =>
          typeof entry === "string" ? [entry] : [entry.types, entry.default].filter((t) => t !== undefined),
        )
        .filter((target) => target.startsWith("./dist/"));
      targets.push(...Object.values(manifest.bin ?? {}).map((bin) => `./${bin}`));
      expect(targets.length).toBeGreaterThan(name === "solo-session" ? 6 : 3);
      for (const target of targets) expect(existsSync(join(built[name], target)), target).toBe(true);
    });

    it(`${name}: every bare import in dist (JS and declarations) is a Node builtin, in dependencies or in peerDependencies`, () => {
      expect(undeclaredImports(built[name], manifests[name], join(ROOT, "node_modules"))).toEqual([]);
    });
  }

  it("@solo-session/client names nothing of the server: no solo-session import, socket.io-client its one dependency", () => {
    const client = manifests["@solo-session/client"];
    expect(Object.keys(client.dependencies ?? {})).toEqual(["socket.io-client"]);
    const files = walk(join(built["@solo-session/client"], "dist")).filter((f) => /\.(js|d\.ts)$/.test(f));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      for (const specifier of specifiersOf(file, readFileSync(file, "utf8"))) {
        expect(packageOf(specifier), `${relative(out, file)}: ${specifier}`).not.toBe("solo-session");
      }
    }
  });

  it("finds what is missing: an undeclared import, require, dynamic import, a devDependency, a type-only import", () => {
    const fixture = tempDir("solo-imports-");
    try {
      const dist = join(fixture, "dist");
      mkdirSync(dist, { recursive: true });
      writeFileSync(
        join(dist, "a.js"),
        [
          'import { x } from "declared/sub";',
          'import "node:fs";',
          'import fs from "fs";',
          'import { y } from "./local.js";',
          'import { z } from "missing-static";',
          'const q = await import("@scope/missing-dynamic/deep");',
          'const r = require("missing-require");',
          'const s = createRequire(import.meta.url).resolve("missing-resolve");',
          'import dev from "only-dev";',
          '// import gone from "in-a-comment";',
          'const text = "import nope from \\"in-a-string\\"";',
          'import self from "fixture/client";',
        ].join("\n"),
      );
      writeFileSync(
        join(dist, "a.d.ts"),
        [
          'import type { T } from "types-only";',
          'export type U = import("typed-peer").U;',
          'import type { E } from "untyped-dep";',
          'import type { F } from "untyped-with-types";',
          'declare module "augmented-core" { interface Request { solo?: string } }',
        ].join("\n"),
      );
      const modules = join(fixture, "node_modules");
      for (const [name, json] of [
        ["typed-peer", { name: "typed-peer", types: "index.d.ts" }],
        ["untyped-dep", { name: "untyped-dep" }],
        ["untyped-with-types", { name: "untyped-with-types" }],
        ["@types/augmented-core", { name: "@types/augmented-core", types: "index.d.ts" }],
      ] as const) {
        mkdirSync(join(modules, name), { recursive: true });
        writeFileSync(join(modules, name, "package.json"), JSON.stringify(json));
      }
      const found = undeclaredImports(
        fixture,
        {
          name: "fixture",
          files: ["dist"],
          dependencies: { declared: "1", "untyped-dep": "1", "untyped-with-types": "1" },
          peerDependencies: { "typed-peer": "1", "@types/untyped-with-types": "1" },
          devDependencies: { "only-dev": "1", "types-only": "1" },
        },
        modules,
      );
      expect(found.map((u) => `${u.file} ${u.specifier} → ${u.needs}`).sort()).toEqual([
        "dist/a.d.ts augmented-core → @types/augmented-core",
        "dist/a.d.ts types-only → types-only",
        "dist/a.d.ts untyped-dep → @types/untyped-dep",
        "dist/a.js @scope/missing-dynamic/deep → @scope/missing-dynamic",
        "dist/a.js missing-require → missing-require",
        "dist/a.js missing-resolve → missing-resolve",
        "dist/a.js missing-static → missing-static",
        "dist/a.js only-dev → only-dev",
      ]);
    } finally {
      rmSync(fixture, { recursive: true, force: true });
    }
  });
});
