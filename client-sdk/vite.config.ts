import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The SDK in library mode: ESM, socket.io-client left external (it is a dependency), the
 * built-in warning in its own chunk (loaded only when shown). Types come from
 * `tsc -p client-sdk/tsconfig.build.json`.
 */
export default defineConfig({
  publicDir: false,
  build: {
    outDir: here("../dist/client"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    minify: false,
    lib: {
      entry: here("./index.ts"),
      formats: ["es"],
      fileName: () => "solo-client.js",
    },
    rolldownOptions: {
      external: [/^socket\.io-client(\/.*)?$/],
      output: {
        chunkFileNames: "[name].js",
      },
    },
  },
});
