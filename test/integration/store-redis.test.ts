import { afterAll, beforeAll } from "vitest";
import { RedisStore } from "../../server/store/redis.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { storeContract } from "../support/store-contract.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.destroy();
});

let n = 0;
// One real redis-server for the file; each store gets its own key prefix, so each test starts empty.
storeContract("redis", async () => {
  const store = new RedisStore({ url: redis.url, keyPrefix: `contract${++n}` });
  await store.ready();
  return store;
});
