import { defineConfig } from "vite";

/** Where `/auth` and the session channel are served: `npm start` at the repository root. */
const api = process.env.SOLO_API ?? "http://localhost:3000";

// `@solo-session/client` is an ordinary dependency (package.json): nothing here points into the
// repository. In this repository it is the workspace packages/client, built by
// `npm run build:client` (its package.json's exports name dist/).
export default defineConfig({
  server: {
    // The object form keeping the Host header (`changeOrigin: false`): to the API the page is
    // then its own origin. With the shorthand (`"/auth": api`), which rewrites Host, the API
    // needs the dev server's origin in allowedOrigins (SOLO_ALLOWED_ORIGINS for `npm start`).
    proxy: {
      "/auth": { target: api, changeOrigin: false },
      "/socket.io": { target: api, changeOrigin: false, ws: true },
    },
  },
});
