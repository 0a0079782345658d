import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const ENTRIES = {
  "@solo-session/client": "packages/client/src/index.ts",
  "@solo-session/client/react": "packages/client/src/react.ts",
};

/** Every export of an entry point with whether its declaration's TSDoc has an @example. */
function exportsOf(program: ts.Program, file: string): { name: string; example: boolean }[] {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(join(ROOT, file));
  if (!source) throw new Error(`${file} is not in the program`);
  const module = checker.getSymbolAtLocation(source);
  if (!module) throw new Error(`${file} has no exports`);
  return checker.getExportsOfModule(module).map((symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const tags = (target.declarations ?? []).flatMap((d) => ts.getJSDocTags(d).map((t) => t.tagName.text));
    return { name: symbol.name, example: tags.includes("example") };
  });
}

describe("TSDoc", () => {
  const program = ts.createProgram(
    Object.values(ENTRIES).map((f) => join(ROOT, f)),
    {
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
      noEmit: true,
      skipLibCheck: true,
    },
  );

  for (const [entry, file] of Object.entries(ENTRIES)) {
    it(`every export of ${entry} has an @example`, () => {
      const found = exportsOf(program, file);
      expect(found.length).toBeGreaterThan(entry.endsWith("react") ? 3 : 30);
      expect(found.filter((e) => !e.example).map((e) => e.name)).toEqual([]);
    });
  }
});
