import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * `@solo-session/client` in library mode: ESM, two entries (`solo-client.js` for the package's
 * `.`, `react.js` for `./react`), socket.io-client and React left external (the one dependency
 * and an optional peer). The built-in warning and the heartbeat election are chunks of their
 * own, loaded only when needed. No source maps: the code ships unminified, and a map would
 * point at sources the package does not ship. Types come from `build-types.mjs`.
 */
export default defineConfig({
  publicDir: false,
  // The wire contract is bundled in from its source: the package depends on no server package.
  resolve: { alias: { "solo-session/protocol": here("../../protocol/index.ts") } },
  build: {
    outDir: here("./dist"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    minify: false,
    lib: {
      entry: { "solo-client": here("./src/index.ts"), react: here("./src/react.ts") },
      formats: ["es"],
      fileName: (_format, name) => `${name}.js`,
    },
    rolldownOptions: {
      external: [/^socket\.io-client(\/.*)?$/, /^react(-dom)?(\/.*)?$/],
      output: {
        chunkFileNames: "[name].js",
      },
    },
  },
});
