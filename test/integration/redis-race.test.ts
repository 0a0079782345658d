import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, it } from "vitest";
import { loginsRacingLogouts, racingLogins } from "../support/race.js";
import { startNodes, startRedis, type TestRedis, uniquePrefix } from "../support/redis.js";
import { type TestServer, tempDir } from "../support/server.js";

const ROUNDS = 50;
const RACERS = 20;

let redis: TestRedis;
let nodes: TestServer[] = [];
const dataDir = tempDir("solo-race-");
beforeAll(async () => {
  redis = await startRedis();
  const keyPrefix = uniquePrefix("race");
  // 20 simultaneous logins of one user would (rightly) trip the per-name login limit;
  // this test is about the claim, so the limits are out of the way.
  nodes = await startNodes(3, { url: redis.url, keyPrefix, dataDir, rateLimit: false });
});
afterAll(async () => {
  for (const node of nodes) await node.close();
  nodes = [];
  await redis?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("racing logins across three nodes", () => {
  it(`${ROUNDS} rounds of ${RACERS} simultaneous logins: one winner everywhere, every loser replaced, one socket left`, async () => {
    await racingLogins(nodes, ROUNDS, RACERS);
  }, 120_000);

  it("a login racing a logout: the logged-out session stays ended, the new one lives, sockets follow", async () => {
    await loginsRacingLogouts(nodes, 20);
  }, 60_000);
});
