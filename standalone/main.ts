#!/usr/bin/env node
import { startStandalone } from "./standalone.js";

/**
 * `npm start` in the repository, `npx solo-session` from the package (its `bin`): the
 * standalone server, stopped gracefully on SIGTERM or SIGINT.
 */
async function main(): Promise<void> {
  const server = await startStandalone(process.env);
  console.log(
    server.demo
      ? `solo-session demo: open ${server.url} in two browsers`
      : `solo-session: ${server.url}/auth is ready (demo users alice, bob, carol / demo; admin / admin)`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
