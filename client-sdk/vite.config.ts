import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The SDK in library mode: ESM, two entries (`solo-client.js` for `solo-session/client`,
 * `react.js` for `solo-session/react`), socket.io-client and React left external (a
 * dependency and an optional peer). The built-in warning and the heartbeat election are
 * chunks of their own, loaded only when needed. Types come from
 * `tsc -p client-sdk/tsconfig.build.json`.
 */
export default defineConfig({
  publicDir: false,
  // The wire contract is bundled in from its source: the SDK depends on no server package.
  resolve: { alias: { "solo-session/protocol": here("../protocol/index.ts") } },
  build: {
    outDir: here("../dist/client"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    minify: false,
    lib: {
      entry: { "solo-client": here("./index.ts"), react: here("./react.ts") },
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
