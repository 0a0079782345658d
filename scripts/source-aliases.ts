import { fileURLToPath } from "node:url";

const source = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

/**
 * The package names the repository's own code imports (the SDK the protocol, the demo the
 * SDK, tests the contract suite), resolved to their sources so that nothing needs building
 * first: for Vite (the demo, the SDK's library build) and Vitest. tsconfig.json's `paths` say
 * the same to TypeScript (test/unit/workspace.test.ts checks the two agree).
 *
 * @example
 * ```ts
 * export default defineConfig({ resolve: { alias: SOURCE_ALIASES } });
 * ```
 */
export const SOURCE_ALIASES: { find: RegExp; replacement: string }[] = [
  { find: /^solo-session\/protocol$/, replacement: source("protocol/index.ts") },
  { find: /^solo-session\/server\/testing$/, replacement: source("server/testing/index.ts") },
  { find: /^@solo-session\/client$/, replacement: source("packages/client/src/index.ts") },
  { find: /^@solo-session\/client\/react$/, replacement: source("packages/client/src/react.ts") },
];
