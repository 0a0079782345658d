import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { build } from "vite";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { ErrorBody } from "../../protocol/index.js";
import { testResources } from "../support/resources.js";
import { relativeLinks, type Snippet, snippets } from "./snippets.js";

// Issue 14, points 5 and 6, as a user meets them: both packages packed with `npm pack` (their
// `prepack` builds them), then installed from the tarballs into fresh projects from the npm
// registry, as a user would. What ships is checked in the tarballs; the README's snippets are
// type-checked (strict; moduleResolution nodenext and bundler) and run as written in ESM and
// CommonJS projects; the client alone goes into a fresh Vite app; `npx solo-session` runs.

const ROOT = join(import.meta.dirname, "../..");
const FIXTURES = join(import.meta.dirname, "fixtures");
const TSC = join(ROOT, "node_modules/.bin/tsc");
const NPM_FLAGS = ["--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];
/** Packed size budget of @solo-session/client (it was 47.9 KB when this was written). */
const CLIENT_TARBALL_BUDGET = 64 * 1024;

const shared = testResources("all");
const { track, dir } = testResources();

interface Packed {
  file: string;
  size: number;
  files: string[];
}
let server: Packed;
let client: Packed;
/** The project both tarballs are installed into; its subfolders are the ESM, CJS and TS projects. */
let app: string;

/** `npm pack` of the package in `cwd` (its prepack builds it), into `dest`. */
function pack(args: string[], dest: string): Packed {
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dest, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  // prepack's build output comes before npm's JSON on stdout.
  const json = JSON.parse(out.slice(out.indexOf("[\n"))) as {
    filename: string;
    size: number;
    files: { path: string }[];
  }[];
  const [entry] = json;
  if (!entry) throw new Error("npm pack reported no package");
  return { file: join(dest, entry.filename), size: entry.size, files: entry.files.map((f) => f.path).sort() };
}

function npm(cwd: string, args: string[]): void {
  execFileSync("npm", [...args, ...NPM_FLAGS], { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** A folder of `app` with a package.json of this module type. */
function project(name: string, type: "module" | "commonjs"): string {
  const path = join(app, name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, "package.json"), `${JSON.stringify({ name, private: true, type }, null, 2)}\n`);
  return path;
}

const README = snippets(join(ROOT, "README.md"));
const snippet = (name: string): Snippet => {
  const found = README[name];
  if (!found) throw new Error(`README.md has no snippet "${name}"`);
  return found;
};

beforeAll(async () => {
  const tarballs = shared.dir("solo-tarballs-");
  server = pack([], tarballs);
  client = pack(["--workspace", "@solo-session/client"], tarballs);
  app = shared.dir("solo-app-");
  writeFileSync(join(app, "package.json"), `${JSON.stringify({ name: "app", private: true }, null, 2)}\n`);
  // What an app on Express would have besides the two packages: Express and Node's types.
  npm(app, ["install", server.file, client.file, "express@5", "@types/node@20"]);
}, 900_000);

describe("the tarballs", () => {
  it("solo-session holds its README, LICENSE, the docs its README links to and its bin; no demo, no source maps", () => {
    const files = new Set(server.files);
    for (const file of ["README.md", "LICENSE", "package.json", "dist/standalone/main.js", "dist/server/index.js"]) {
      expect(files.has(file), file).toBe(true);
    }
    const links = relativeLinks(join(ROOT, "README.md"));
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) expect(files.has(link), `README links to ${link}`).toBe(true);
    expect(server.files.filter((f) => f.startsWith("dist/demo") || f.startsWith("demo/"))).toEqual([]);
    expect(server.files.filter((f) => f.endsWith(".map"))).toEqual([]);
    // Nothing of the browser SDK is in the server package any more.
    expect(server.files.filter((f) => /client-sdk|dist\/client|packages\//.test(f))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(app, "node_modules/solo-session/package.json"), "utf8"));
    expect(manifest.bin).toEqual({ "solo-session": "dist/standalone/main.js" });
    expect(readFileSync(join(app, "node_modules/solo-session/dist/standalone/main.js"), "utf8")).toMatch(
      /^#!\/usr\/bin\/env node\n/,
    );
  });

  it("@solo-session/client holds its README, LICENSE, code and types, and the files its README links to; no source maps; within its size budget", () => {
    const files = new Set(client.files);
    for (const file of ["README.md", "LICENSE", "package.json", "dist/solo-client.js", "dist/react.js"]) {
      expect(files.has(file), file).toBe(true);
    }
    expect(files.has("dist/types/index.d.ts") && files.has("dist/types/react.d.ts")).toBe(true);
    for (const link of relativeLinks(join(ROOT, "packages/client/README.md"))) {
      expect(files.has(link), `the client README links to ${link}`).toBe(true);
    }
    expect(client.files.filter((f) => f.endsWith(".map") || f.startsWith("src/"))).toEqual([]);
    expect(client.size).toBeLessThanOrEqual(CLIENT_TARBALL_BUDGET);
    expect(readFileSync(join(app, "node_modules/@solo-session/client/LICENSE"), "utf8")).toMatch(/^MIT License/);
  });
});

describe("@solo-session/client installs nothing of the server", () => {
  it("a fresh Vite app depending on the client tarball alone: no native module, no server dependency, and it builds", async () => {
    const vite = dir("solo-vite-app-");
    writeFileSync(
      join(vite, "package.json"),
      `${JSON.stringify({ name: "vite-app", private: true, type: "module" }, null, 2)}\n`,
    );
    npm(vite, ["install", client.file]);
    const installed = installedPackages(join(vite, "node_modules"));
    const names = installed.map((p) => p.name);
    expect(names).toContain("@solo-session/client");
    expect(names).toContain("socket.io-client");
    const serverDeps = Object.keys(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).dependencies);
    expect(serverDeps).toContain("better-sqlite3");
    expect(names.filter((name) => name === "solo-session" || serverDeps.includes(name))).toEqual([]);
    // Nothing compiled, nothing run at install.
    expect(installed.filter((p) => p.native).map((p) => p.name)).toEqual([]);
    expect(names.length).toBeLessThan(15);

    writeFileSync(
      join(vite, "index.html"),
      '<!doctype html><div id="app"></div><script type="module" src="/main.js"></script>\n',
    );
    writeFileSync(
      join(vite, "main.js"),
      'import { createSoloClient } from "@solo-session/client";\n\nconst solo = createSoloClient({ baseUrl: "/auth" });\nsolo.on("revoked", (r) => console.log(r.reason));\n',
    );
    const outDir = join(vite, "dist");
    await build({ root: vite, configFile: false, logLevel: "silent", build: { outDir } });
    const chunks = readdirSync(join(outDir, "assets")).filter((f) => f.endsWith(".js"));
    const code = chunks.map((f) => readFileSync(join(outDir, "assets", f), "utf8")).join("\n");
    // The SDK (its start-up check) and socket.io-client (its default path) are in the app's bundle.
    expect(code).toContain("/session?optional=true");
    expect(code).toContain("/socket.io");
  });
});

/** A package found under a node_modules folder, and whether it builds or ships native code. */
function installedPackages(nodeModules: string): { name: string; native: boolean }[] {
  const found: { name: string; native: boolean }[] = [];
  const visit = (folder: string) => {
    if (!existsSync(folder)) return;
    for (const entry of readdirSync(folder)) {
      if (entry.startsWith(".")) continue;
      const path = join(folder, entry);
      if (entry.startsWith("@")) {
        visit(path);
        continue;
      }
      const manifestPath = join(path, "package.json");
      if (!existsSync(manifestPath)) continue;
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
        name: string;
        gypfile?: boolean;
        scripts?: Record<string, string>;
      };
      const scripts = manifest.scripts ?? {};
      const native =
        manifest.gypfile === true ||
        existsSync(join(path, "binding.gyp")) ||
        ["preinstall", "install", "postinstall"].some((s) => s in scripts) ||
        hasNodeBinary(path);
      found.push({ name: manifest.name, native });
      visit(join(path, "node_modules"));
    }
  };
  visit(nodeModules);
  return found;
}

function hasNodeBinary(folder: string): boolean {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== "node_modules" && hasNodeBinary(join(folder, entry.name))) return true;
    if (entry.isFile() && entry.name.endsWith(".node")) return true;
  }
  return false;
}

describe("the README's snippets, type-checked against the installed packages (strict)", () => {
  for (const resolution of ["nodenext", "bundler"] as const) {
    it(`moduleResolution ${resolution}: every server and browser snippet`, () => {
      const ts = project(`ts-${resolution}`, "module");
      copyFileSync(join(FIXTURES, "app.ts"), join(ts, "app.ts"));
      copyFileSync(join(FIXTURES, "globals.d.ts"), join(ts, "globals.d.ts"));
      const names = ["own-login", "built-in-login", "dev-origins", "browser"];
      for (const name of names) writeFileSync(join(ts, `${name}.ts`), snippet(name).code);
      writeFileSync(
        join(ts, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: "ES2022",
            lib: ["ES2023", "DOM", "DOM.Iterable"],
            types: ["node"],
            module: resolution === "nodenext" ? "NodeNext" : "ESNext",
            moduleResolution: resolution === "nodenext" ? "NodeNext" : "Bundler",
            esModuleInterop: true,
            skipLibCheck: false,
          },
          include: ["*.ts"],
        }),
      );
      const result = tsc(ts);
      expect(result, result).toBe("");
    });
  }

  it("the type-check fails on a type error (it checks what it says)", () => {
    const ts = project("ts-negative", "module");
    copyFileSync(join(FIXTURES, "app.ts"), join(ts, "app.ts"));
    writeFileSync(
      join(ts, "wrong.ts"),
      'import { createSoloServer } from "solo-session/server";\n\ncreateSoloServer({ policy: "newest-loses" });\n',
    );
    writeFileSync(
      join(ts, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          types: ["node"],
        },
        include: ["*.ts"],
      }),
    );
    expect(tsc(ts)).toMatch(/wrong\.ts.*error TS2322/);
  });
});

/** tsc's diagnostics for the project in `cwd` (empty when it type-checks). */
function tsc(cwd: string): string {
  try {
    execFileSync(TSC, ["-p", "tsconfig.json"], { cwd, encoding: "utf8", stdio: "pipe" });
    return "";
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ""}${stderr ?? ""}` || String(error);
  }
}

/** A README snippet running as its own Node process in `cwd`, its `listen(3000)` on a free port. */
interface Running {
  url: string;
  child: ChildProcess;
  close(): Promise<void>;
}

/** Runs `file` in `cwd` with node (its listen(3000) moved to a free port) and resolves once it listens. */
function run(cwd: string, file: string, timeout = 60_000): Promise<Running> {
  const child = spawn(process.execPath, ["--require", join(FIXTURES, "listen-port0.cjs"), file], {
    cwd,
    env: { ...process.env, LOG_LEVEL: "silent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${file} did not listen within ${timeout} ms: ${stderr}`));
      void close();
    }, timeout);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const port = /^listening (\d+)$/.exec(line)?.[1];
      if (!port) return;
      clearTimeout(timer);
      resolve({ url: `http://127.0.0.1:${port}`, child, close });
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${file} exited before listening: ${stderr}`));
    });
  });
}

async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function get(url: string, authorization: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers: { authorization } });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/**
 * The app's own login twice as the same user: the first token is served, then refused with
 * `session_replaced` by the app's protected route once the second login ran; the second is served.
 */
async function ownLoginTwice(url: string, scheme: string): Promise<void> {
  const wrong = await post(`${url}/users/login`, { user: { email: "jake@example.com", password: "nope" } });
  expect(wrong.status).toBe(422);
  const login = () => post(`${url}/users/login`, { user: { email: "jake@example.com", password: "secret" } });
  const first = await login();
  expect(first.status).toBe(200);
  const firstToken = (first.body as { user: { token: string } }).user.token;
  expect(await get(`${url}/api/notes`, `${scheme} ${firstToken}`)).toEqual({
    status: 200,
    body: { userId: "42", notes: [] },
  });
  const second = await login();
  const secondToken = (second.body as { user: { token: string } }).user.token;
  const refused = await get(`${url}/api/notes`, `${scheme} ${firstToken}`);
  expect([refused.status, (refused.body as ErrorBody).error]).toEqual([401, "session_replaced"]);
  expect((await get(`${url}/api/notes`, `${scheme} ${secondToken}`)).status).toBe(200);
}

describe("the README's snippets, run as written", () => {
  it("ESM, your own login route (startSession): the second login replaces the first, whose token the API refuses", async () => {
    const esm = project("esm-own-login", "module");
    copyFileSync(join(FIXTURES, "app.mjs"), join(esm, "app.js"));
    writeFileSync(join(esm, "own-login.js"), snippet("own-login").code);
    const running = track(await run(esm, "own-login.js"));
    await ownLoginTwice(running.url, "Bearer");
    // No authenticate: the built-in login route is not there.
    expect((await post(`${running.url}/auth/login`, { username: "jake", password: "secret" })).status).toBe(404);
  });

  it("ESM, the built-in login route (authenticate)", async () => {
    const esm = project("esm-built-in", "module");
    copyFileSync(join(FIXTURES, "app.mjs"), join(esm, "app.js"));
    writeFileSync(join(esm, "built-in-login.js"), snippet("built-in-login").code);
    const running = track(await run(esm, "built-in-login.js"));
    const wrong = await post(`${running.url}/auth/login`, { username: "jake", password: "nope" });
    expect([wrong.status, (wrong.body as ErrorBody).error]).toEqual([401, "invalid_credentials"]);
    // A login name that is not a string is refused before authenticate runs.
    const malformed = await post(`${running.url}/auth/login`, { username: 42, password: "secret" });
    expect([malformed.status, (malformed.body as ErrorBody).error]).toEqual([400, "invalid_request"]);
    const login = await post(`${running.url}/auth/login`, { username: "jake", password: "secret" });
    expect(login.status).toBe(200);
    const { token } = login.body as { token: string };
    expect(await get(`${running.url}/api/notes`, `Bearer ${token}`)).toEqual({
      status: 200,
      body: { userId: "42", notes: [] },
    });
  });

  it("CommonJS (require, no top-level await), Express 5 with the Token scheme", async () => {
    const cjs = project("cjs", "commonjs");
    copyFileSync(join(FIXTURES, "app.cjs"), join(cjs, "app.js"));
    writeFileSync(join(cjs, "commonjs.js"), snippet("commonjs").code);
    const running = track(await run(cjs, "commonjs.js"));
    await ownLoginTwice(running.url, "Token");
  });

  it("the dev server's origin (allowedOrigins) is accepted at construction", () => {
    const esm = project("esm-dev-origins", "module");
    writeFileSync(join(esm, "dev-origins.js"), snippet("dev-origins").code);
    const out = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", 'await import("./dev-origins.js"); console.log("constructed"); process.exit(0);'],
      { cwd: esm, encoding: "utf8", env: { ...process.env, LOG_LEVEL: "silent" } },
    );
    expect(out.trim()).toBe("constructed");
  });
});

describe("npx solo-session", () => {
  it("runs the standalone server from the installed package (its bin): /auth answers, the page says it has no demo, SIGTERM stops it gracefully", async () => {
    const data = dir("solo-bin-data-");
    const child = spawn("npx", ["--no-install", "solo-session"], {
      cwd: app,
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", SOLO_DATA_DIR: data, LOG_LEVEL: "silent" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let text = "";
    const output = () => text;
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
    });
    track({
      close: async () => {
        // The group: npm exec, its shell and the server (which outlives npm exec on its own).
        try {
          process.kill(-(child.pid as number), "SIGKILL");
        } catch {
          // already gone
        }
        await exited;
      },
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("npx solo-session did not start within 60 s")), 60_000);
      createInterface({ input: child.stdout }).on("line", (line) => {
        text += `${line}\n`;
        const found = /^solo-session: (http:\/\/\S+)\/auth is ready/.exec(line)?.[1];
        if (!found) return;
        clearTimeout(timer);
        resolve(found);
      });
      void exited.then((code) => reject(new Error(`npx solo-session exited with ${code}`)));
    });
    const jwks = await fetch(`${url}/auth/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
    const login = await post(`${url}/auth/login`, { username: "alice", password: "demo" });
    expect(login.status).toBe(200);
    const page = await fetch(`${url}/`);
    expect(await page.text()).toContain("npm run build:demo");
    // Ctrl-C in a terminal signals the whole process group (npm exec and the server).
    process.kill(-(child.pid as number), "SIGTERM");
    await exited;
    await vi.waitFor(() => expect(fetch(`${url}/healthz`)).rejects.toThrow(), { timeout: 15_000, interval: 100 });
    expect(output()).toMatch(/SIGTERM: shutting down/);
  });
});
