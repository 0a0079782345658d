import { createSoloClient } from "@solo-session/client";
import { SoloProvider } from "@solo-session/client/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";
import "./style.css";

// One client per page. `warning: false`: this app shows the revocation itself (see App.tsx).
const client = () => createSoloClient({ baseUrl: "/auth", warning: false });

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <SoloProvider client={client}>
      <App />
    </SoloProvider>
  </StrictMode>,
);
