import { beforeAll, describe, it } from "vitest";
import { loginsRacingLogouts, racingLogins } from "../support/race.js";
import { uniquePrefix } from "../support/redis.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

const ROUNDS = 50;
const RACERS = 20;

const shared = testResources("all");
let nodes: TestServer[] = [];
beforeAll(async () => {
  const redis = await shared.redis();
  // 20 simultaneous logins of one user would (rightly) trip the per-name login limit;
  // this test is about the claim, so the limits are out of the way.
  nodes = await shared.nodes(3, {
    redis: { url: redis.url, keyPrefix: uniquePrefix("race") },
    dataDir: shared.dir("solo-race-"),
    rateLimit: false,
  });
});

describe("racing logins across three nodes", () => {
  it(`${ROUNDS} rounds of ${RACERS} simultaneous logins: one winner everywhere, every loser replaced, one socket left`, async () => {
    await racingLogins(nodes, ROUNDS, RACERS);
  }, 120_000);

  it("a login racing a logout: the logged-out session stays ended, the new one lives, sockets follow", async () => {
    await loginsRacingLogouts(nodes, 20);
  }, 60_000);
});
