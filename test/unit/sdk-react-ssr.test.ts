// @vitest-environment node
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { SoloClient } from "../../packages/client/src/index.js";
import type * as Binding from "../../packages/client/src/react.js";

let hook: typeof Binding.useSoloSession;
function Probe() {
  const { state, client } = hook();
  return createElement("p", null, `${state.status}:${client === null}`);
}

describe("the React binding on a server", () => {
  it("imports without a window and renders the waiting state; the factory is never called", async () => {
    expect(typeof window).toBe("undefined");
    const { SoloProvider, useSoloSession } = await import("../../packages/client/src/react.js");
    hook = useSoloSession;
    let made = 0;
    const html = renderToString(
      createElement(
        SoloProvider,
        {
          client: () => {
            made++;
            return {} as SoloClient;
          },
        },
        createElement(Probe),
      ),
    );
    expect(html).toBe("<p>signing-in:true</p>");
    expect(made).toBe(0);
  });
});
