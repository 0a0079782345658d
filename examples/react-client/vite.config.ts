import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
/** Where `/auth` and the session channel are served: `npm start` at the repository root. */
const api = process.env.SOLO_API ?? "http://localhost:3000";

export default defineConfig({
  resolve: {
    // NOTE: until `@solo-session/client` is split out of this repository (issue 14, point 5),
    // the example builds the SDK from its source, as the repository's demo does. Once it is a
    // package, delete these aliases and add "@solo-session/client" to package.json.
    alias: {
      "@solo-session/client/react": repo("client-sdk/react.ts"),
      "@solo-session/client": repo("client-sdk/index.ts"),
      "solo-session/protocol": repo("protocol/index.ts"),
    },
  },
  server: {
    // Keep the Host header: the server compares it with the page's Origin.
    proxy: {
      "/auth": { target: api, changeOrigin: false },
      "/socket.io": { target: api, changeOrigin: false, ws: true },
    },
  },
});
