import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll } from "vitest";
import { MemoryStore } from "../../server/store/memory.js";
import { SqliteStore } from "../../server/store/sqlite.js";
import { tempDir } from "../support/server.js";
import { storeContract } from "../support/store-contract.js";

const dir = tempDir("solo-contract-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
storeContract("memory", async () => new MemoryStore());
storeContract("sqlite", async () => new SqliteStore({ filename: join(dir, `store-${++n}.db`) }));
