import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { tempDir } from "./server.js";

/** The repository's root. */
export const ROOT = join(import.meta.dirname, "../..");

/** The newest modification time of the files under these directories (0 when none). */
export function newest(...dirs: string[]): number {
  let latest = 0;
  for (const dir of dirs) {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }
  }
  return latest;
}

/**
 * Builds `dist/server` (what `require("solo-session/server")` loads) when it is missing or
 * older than its sources, so an example runs this code.
 */
export function buildServerIfStale(): void {
  const entry = join(ROOT, "dist/server/index.js");
  if (existsSync(entry) && statSync(entry).mtimeMs >= newest(join(ROOT, "server"), join(ROOT, "protocol"))) return;
  execFileSync("npm", ["run", "build:server", "--silent"], { cwd: ROOT, stdio: "ignore" });
}

/**
 * Builds `packages/client/dist` (what `import "@solo-session/client"` loads in the workspace)
 * when it is missing or older than its sources or the protocol it bundles.
 */
export function buildClientIfStale(): void {
  const entry = join(ROOT, "packages/client/dist/solo-client.js");
  const sources = newest(join(ROOT, "packages/client/src"), join(ROOT, "protocol"));
  if (existsSync(entry) && statSync(entry).mtimeMs >= sources) return;
  execFileSync("npm", ["run", "build:client", "--silent"], { cwd: ROOT, stdio: "ignore" });
}

/** An example's server, running as its own Node process. */
export interface ExampleProcess {
  url: string;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code once the process is gone; removes its data dir. */
  close(): Promise<number | null>;
}

/**
 * Starts `node server.js` in an example's directory on 127.0.0.1 port 0 with its data in a
 * fresh temp dir (`PORT`, `HOST`, `DATA_DIR`), and resolves once it prints
 * `listening on port <n>`. Rejects with its stderr if it exits first, or kills it and rejects
 * when it has not listened within `startTimeout` ms (generous: a busy machine loads slowly).
 *
 * @example
 * ```ts
 * const example = await startExample("examples/express4-passport");
 * await fetch(`${example.url}/articles`);
 * await example.close();
 * ```
 */
export function startExample(dir: string, env: NodeJS.ProcessEnv = {}, startTimeout = 30_000): Promise<ExampleProcess> {
  const dataDir = tempDir("solo-example-");
  const child = spawn(process.execPath, ["server.js"], {
    cwd: join(ROOT, dir),
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const code = await exited;
    rmSync(dataDir, { recursive: true, force: true });
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${dir} did not listen within ${startTimeout} ms: ${stderr}`));
      void close();
    }, startTimeout);
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const port = /^listening on port (\d+)$/.exec(line)?.[1];
      if (!port) return;
      clearTimeout(timer);
      resolve({ url: `http://127.0.0.1:${port}`, stderr: () => stderr, close });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      reject(new Error(`${dir} exited with ${code} before listening: ${stderr}`));
    });
  });
}
