import { createServer } from "node:http";
import express from "express";
import { describe, expect, it } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { createHealthRouter } from "../../server/http/health.js";
import { call } from "../support/client.js";
import { testResources } from "../support/resources.js";

const { standalone, listen } = testResources();

describe("health", () => {
  it("answers /healthz and /readyz with 200 while the store is reachable", async () => {
    const srv = await standalone();
    const live = await call(srv.url, "/healthz", null);
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: "ok" });
    expect(live.headers.get("cache-control")).toBe("no-store");
    const ready = await call(srv.url, "/readyz", null);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ready" });
  });

  it("answers /readyz with 503 store_unavailable when the store is gone, while /healthz stays 200", async () => {
    const srv = await standalone();
    await srv.solo.store.close(); // the SQLite database is closed under the running server
    const ready = await call(srv.url, "/readyz", null);
    expect(ready.status).toBe(503);
    expect((ready.body as ErrorBody).error).toBe("store_unavailable");
    expect((await call(srv.url, "/healthz", null)).status).toBe(200);
  });

  it("answers /readyz with 503 when the store does not answer within the timeout", async () => {
    // A store whose ping never settles, like a Redis behind a dead link.
    const app = express().use(createHealthRouter({ store: { ping: () => new Promise<void>(() => {}) }, timeout: 50 }));
    const { url } = await listen(createServer(app));
    const ready = await call(url, "/readyz", null);
    expect(ready.status).toBe(503);
    expect((ready.body as ErrorBody).error).toBe("store_unavailable");
  });
});
