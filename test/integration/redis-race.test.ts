import { beforeAll, describe, it } from "vitest";
import { loginsRacingLogouts, racingLogins } from "../support/race.js";
import { uniquePrefix } from "../support/redis.js";
import { DEPLOYMENTS, useDeployment } from "../support/redis-deployments.js";
import { testResources } from "../support/resources.js";
import type { TestServer } from "../support/server.js";

/**
 * Rounds of the login race: 50 on one server; 15 on Cluster and Sentinel, where the claim is the
 * same script on the same single slot per user (what they add is the routing, which 15 rounds of
 * 20 racers over 3 nodes exercise), to keep the suite's time down.
 */
const ROUNDS = { single: 50, cluster: 15, sentinel: 15 } as const;
const RACERS = 20;
/**
 * Time allowed per round: a round takes well under a second on an idle machine, several on a
 * 2-core box running the other integration files (and their Redis Clusters) beside it. The
 * bound only catches a hang; speed is the benchmark's business.
 */
const PER_ROUND = 6_000;

// The same races on one Redis server, on a Redis Cluster (3 primaries, a replica each) and on
// Sentinel (a primary, a replica, 3 sentinels): each deployment is started once.
describe.each(DEPLOYMENTS)("on %s Redis", (kind) => {
  const deployment = useDeployment(kind);
  const shared = testResources("all");
  let nodes: TestServer[] = [];
  beforeAll(async () => {
    // 20 simultaneous logins of one user would (rightly) trip the per-name login limit;
    // this test is about the claim, so the limits are out of the way.
    nodes = await shared.nodes(3, {
      redis: { ...deployment().connection, keyPrefix: uniquePrefix("race") },
      dataDir: shared.dir("solo-race-"),
      rateLimit: false,
    });
  });

  describe("racing logins across three nodes", () => {
    it(
      `${ROUNDS[kind]} rounds of ${RACERS} simultaneous logins: one winner everywhere, every loser replaced, one socket left`,
      () => racingLogins(nodes, ROUNDS[kind], RACERS),
      ROUNDS[kind] * PER_ROUND,
    );

    it(
      "a login racing a logout: the logged-out session stays ended, the new one lives, sockets follow",
      () => loginsRacingLogouts(nodes, 20),
      20 * PER_ROUND,
    );
  });
});
