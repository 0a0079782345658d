import { beforeAll, describe, expect, it } from "vitest";
import { uniqueSchema } from "../support/postgres.js";
import { loginsRacingLogouts, racingLogins } from "../support/race.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

const ROUNDS = 20;
const RACERS = 20;

const shared = testResources("all");
let nodes: TestServer[] = [];
beforeAll(async () => {
  const postgres = await shared.postgres();
  // 20 simultaneous logins of one user would (rightly) trip the per-name login limit;
  // this test is about the claim, so the limits are out of the way.
  nodes = await shared.pgNodes(3, {
    url: postgres.url,
    schema: uniqueSchema("race"),
    dataDir: shared.dir("solo-pg-race-"),
    rateLimit: false,
  });
});

describe("racing logins across three nodes on one PostgreSQL", () => {
  it(`${ROUNDS} rounds of ${RACERS} simultaneous logins: one winner everywhere, every loser replaced, one socket left`, async () => {
    await racingLogins(nodes, ROUNDS, RACERS);
    // And the store agrees: one live session per racing user, no more.
    for (let user = 0; user < 5; user++) {
      expect(await nodes[0]?.solo.store.listLive(`racer-${user}`)).toHaveLength(1);
    }
  }, 120_000);

  it("a login racing a logout: the logged-out session stays ended, the new one lives, sockets follow", async () => {
    await loginsRacingLogouts(nodes, 20);
  }, 60_000);
});
