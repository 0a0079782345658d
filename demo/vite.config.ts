import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { SOURCE_ALIASES } from "../scripts/source-aliases.js";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The demo pages: the plain one (index.html) and the React example (react.html). Built into
 * dist/demo, which the standalone server (`npm start`) serves beside `/auth` and `/api`, so
 * the SDK talks to its own origin. No inline scripts: the
 * server's Content-Security-Policy does not allow them.
 */
export default defineConfig({
  root: here("."),
  base: "/",
  publicDir: here("./public"),
  // `@solo-session/client` and the protocol from their sources (no build of the SDK first).
  resolve: { alias: SOURCE_ALIASES },
  build: {
    outDir: here("../dist/demo"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    assetsInlineLimit: 0,
    rolldownOptions: {
      input: { main: here("./index.html"), react: here("./react.html") },
    },
  },
  server: {
    // `vite --config demo/vite.config.ts` during development: the API runs on `npm start`.
    proxy: {
      "/auth": "http://localhost:3000",
      "/api": "http://localhost:3000",
      "/socket.io": { target: "ws://localhost:3000", ws: true },
    },
  },
});
