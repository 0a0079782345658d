/**
 * The Redis store's Lua scripts. All of them touch the keys of ONE user (one hash slot),
 * plus the ends stream when the deployment allows a script to reach another slot (see
 * `RedisStore.ready`); every key they use is in KEYS. Lists from the protocol (the delivery
 * ranks) are built into them from their one definition.
 *
 * @module
 */

import { DELIVERY_RANK, DELIVERY_STATUSES } from "../../../protocol/index.js";
import type { Pipeline, RedisClient } from "./connection.js";

/**
 * Shared by the scripts that end sessions: appends an ended session to the ends stream (the
 * last key) in the same atomic step as the end itself. `maxlen` is '0' when the stream is
 * written outside the script (the deployment refuses scripts across slots); it is then not a key.
 */
const ANNOUNCE_LUA = `
local function announce(maxlen, id, ended)
  if maxlen ~= '0' then redis.call('XADD', KEYS[#KEYS], 'MAXLEN', '~', maxlen, '*', 's', id, 'e', ended) end
end
`;

/** Claim commit. KEYS: version, live, new record, evicted records, [ends stream]. ARGV: expected
 * version, new id, createdAt, ttl, ended JSON, ends MAXLEN ('0': no stream key), evicted ids,
 * then the new record's field/value pairs.
 * Returns 1 when written, 0 when the version moved (another writer won), -1 for a duplicate id. */
const CLAIM_LUA = `${ANNOUNCE_LUA}
local n = #KEYS - 3 - (ARGV[6] ~= '0' and 1 or 0)
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
for i = 1, n do
  if redis.call('EXISTS', KEYS[3 + i]) == 1 then redis.call('HSET', KEYS[3 + i], 'ended', ARGV[5]) end
  redis.call('ZREM', KEYS[2], ARGV[6 + i])
end
local fields = {}
for i = 7 + n, #ARGV do fields[#fields + 1] = ARGV[i] end
local ttl = tonumber(ARGV[4])
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('INCR', KEYS[1])
for i = 1, 2 do
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
for i = 1, n do announce(ARGV[6], ARGV[6 + i], ARGV[5]) end
return 1
`;

/** Ends several live sessions of one user if the version is unchanged. KEYS: version, live,
 * records, [ends stream]. ARGV: expected version, ended JSON, ends MAXLEN ('0': no stream key), ids.
 * Returns 1, or 0 on a version conflict. */
const END_MANY_LUA = `${ANNOUNCE_LUA}
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
local last = #KEYS - (ARGV[3] ~= '0' and 1 or 0)
local ttl = 1000
for i = 3, last do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[i], 'ended', ARGV[2])
    ttl = math.max(ttl, redis.call('PTTL', KEYS[i]))
  end
  redis.call('ZREM', KEYS[2], ARGV[i + 1])
  announce(ARGV[3], ARGV[i + 1], ARGV[2])
end
if last > 2 then
  redis.call('INCR', KEYS[1])
  if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return 1
`;

/** Ends one session if live. KEYS: version, live, record, [ends stream]. ARGV: ended JSON, id,
 * ends MAXLEN ('0': no stream key). Returns the record or nil. */
const END_ONE_LUA = `${ANNOUNCE_LUA}
if redis.call('EXISTS', KEYS[3]) == 0 or redis.call('HEXISTS', KEYS[3], 'ended') == 1 then return nil end
redis.call('HSET', KEYS[3], 'ended', ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], math.max(redis.call('PTTL', KEYS[3]), 1000)) end
announce(ARGV[3], ARGV[2], ARGV[1])
return redis.call('HGETALL', KEYS[3])
`;

/** The user's version and live session ids (oldest first), read in one atomic step. KEYS:
 * version, live. Returns { version or '0', ids }. (A script rather than MULTI: on Redis Cluster
 * a single command follows a slot's move or failover by itself.) */
const READ_LIVE_LUA = `
return { redis.call('GET', KEYS[1]) or '0', redis.call('ZRANGE', KEYS[2], 0, -1) }
`;

/** Moves a time field of a live record forward. KEYS: record. ARGV: field, at.
 * Returns the record's createdAt if it moved, nil otherwise. */
const ADVANCE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'ended') == 1 then return false end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and tonumber(cur) >= tonumber(ARGV[2]) then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], 'createdAt')
`;

/** Deletes an ended record whose token expired before a time. KEYS: record, live. ARGV: id, before. */
const PURGE_ONE_LUA = `
if redis.call('HEXISTS', KEYS[1], 'ended') == 0 then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'expiresAt')) >= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

/** Moves a delivery state forward only. KEYS: delivery key. ARGV: status, ttl. */
const DELIVERY_LUA = `
local rank = { ${DELIVERY_STATUSES.map((s) => `${s} = ${DELIVERY_RANK[s]}`).join(", ")} }
local cur = redis.call('GET', KEYS[1])
if cur and rank[cur] and rank[cur] >= rank[ARGV[1]] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** An argument of a script. */
export type Arg = string | number;

/** The scripts, as ioredis defines them (EVALSHA with a transparent EVAL fallback after a restart). */
export interface Scripts {
  soloClaim(numKeys: number, ...args: Arg[]): Promise<number>;
  soloEndMany(numKeys: number, ...args: Arg[]): Promise<number>;
  soloEndOne(numKeys: number, ...args: Arg[]): Promise<string[] | null>;
  soloReadLive(numKeys: number, ...args: Arg[]): Promise<[string, string[]]>;
  soloAdvance(numKeys: number, ...args: Arg[]): Promise<string | null>;
  soloPurgeOne(numKeys: number, ...args: Arg[]): Promise<number>;
  soloDelivery(numKeys: number, ...args: Arg[]): Promise<number>;
}

const SCRIPTS: Record<keyof Scripts, string> = {
  soloClaim: CLAIM_LUA,
  soloEndMany: END_MANY_LUA,
  soloEndOne: END_ONE_LUA,
  soloReadLive: READ_LIVE_LUA,
  soloAdvance: ADVANCE_LUA,
  soloPurgeOne: PURGE_ONE_LUA,
  soloDelivery: DELIVERY_LUA,
};

/** Defines the scripts on a connection (and so on its pipelines); returns it typed with them. */
export function defineScripts(client: RedisClient): Scripts {
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua });
  return client as unknown as Scripts;
}

/** A pipeline of a connection with the scripts defined, typed with them. */
export function scriptsOf(pipeline: Pipeline): Scripts {
  return pipeline as unknown as Scripts;
}
