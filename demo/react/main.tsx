/**
 * The React example: the same demo app written with `solo-session/react`. One provider at the
 * root (the client is made in an effect, so this also renders on a server), one hook below.
 * Wrapped in StrictMode on purpose: effects run twice in development and nothing breaks.
 */

import { createSoloClient } from "@solo-session/client";
import { SoloProvider } from "@solo-session/client/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";

const root = document.getElementById("root");
if (!root) throw new Error("#root is missing");
createRoot(root).render(
  <StrictMode>
    <SoloProvider client={() => createSoloClient({ baseUrl: "/auth" })}>
      <App />
    </SoloProvider>
  </StrictMode>,
);
