import { rmSync } from "node:fs";
import { join } from "node:path";
import { runStoreContract } from "solo-session/server/testing";
import { afterAll } from "vitest";
import { MemoryStore } from "../../server/store/memory/store.js";
import { SqliteStore } from "../../server/store/sqlite/store.js";
import { tempDir } from "../support/server.js";

const dir = tempDir("solo-contract-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
runStoreContract({
  name: "memory",
  open: () => new MemoryStore(),
  openWithReceivers: (receivers) => new MemoryStore({ receivers }),
});
runStoreContract({
  name: "sqlite",
  open: () => new SqliteStore({ filename: join(dir, `store-${++n}.db`) }),
  openWithReceivers: (receivers) => new SqliteStore({ filename: join(dir, `store-${++n}.db`), receivers }),
});
