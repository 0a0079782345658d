import type { MachineInfo } from "./machine.js";
import type { MemorySnapshot } from "./messages.js";
import type { Summary } from "./stats.js";

/** A phase that did not run, and why. */
export interface Skipped {
  status: "skipped";
  reason: string;
}

/** The settings of a run (recorded in the JSON). */
/** `--redis-aof`: the benchmark's redis-server without persistence, or with AOF and this appendfsync. */
export type RedisAof = "off" | "everysec" | "always";

export interface Settings {
  mode: "full" | "quick";
  phases: PhaseName[];
  /** Idle sessions connected during the one-node kick series. */
  sizes: number[];
  kicks: number;
  warmupKicks: number;
  victims: number;
  pauseMs: number;
  timeoutMs: number;
  /** Sockets per load-generator process at most. */
  socketsPerHolder: number;
  connectConcurrency: number;
  clusterNodes: number;
  /** The store of the cluster phase: redis (the product's cluster mode), or one SQLite file shared by the
   * nodes (development aid: measures the Redis adapter's hop while the Redis store is not there). */
  clusterStore: "redis" | "sqlite";
  /**
   * Persistence of the benchmark's redis-server (the redis and cluster phases): none (the
   * default), or the append-only file with `appendfsync everysec` or `always`.
   */
  redisAof: RedisAof;
  /**
   * `synchronous_commit` of the benchmark's PostgreSQL (the postgres phase; `fsync` is on
   * either way): `on` (PostgreSQL's default: a commit waits for its WAL flush) or `off`.
   */
  postgresSync: "on" | "off";
  clusterSessionsPerNode: number;
  clusterKicks: number;
  /** Racing-login rounds over the cluster's nodes (Redis and PostgreSQL), and logins racing in each. */
  raceRounds: number;
  racers: number;
  httpSeconds: number;
  httpRounds: number;
  httpConnections: number;
  loginUsers: number;
  helloTokens: number;
  scryptCalls: number;
  /** Sessions ended (one login replacing another) per server in the receivers phase. */
  receiverEnds: number;
  serverCode: "dist" | "source";
  profile: boolean;
}

export const PHASES = ["single", "http", "redis", "ha", "postgres", "cluster", "scrypt", "receivers"] as const;
export type PhaseName = (typeof PHASES)[number];

/** A series of kicks against one server setup. */
export interface KickSeries {
  status: "ok";
  server: "solo" | "floor";
  store: "sqlite" | "redis" | "postgres" | null;
  nodes: number;
  /** Idle sessions connected (all nodes). */
  idle: number;
  /** Idle sessions connected on each node. */
  idlePerNode: number[];
  kicks: number;
  lost: number;
  latencyMs: Summary;
  /** Start of the login (or POST /kick) to its HTTP response. */
  responseMs: Summary;
  samples: number[];
  errors: string[];
}

/** Ours beside the floor at one N. */
export interface KickRow {
  n: number;
  ours: KickSeries | Skipped;
  floor: KickSeries | Skipped;
  /** Ours divided by the floor. */
  ratio: { p50: number; p90: number; p99: number } | null;
}

export interface ClusterResult {
  status: "ok";
  nodes: number;
  targetPerNode: number;
  /** Idle sessions each node held during the kicks: what the machine allowed. */
  connectedPerNode: number[];
  connectFailures: number;
  connectErrors: string[];
  series: KickSeries;
  /** The store's claims during the measured kicks (one login at a time), timed inside the nodes. */
  claimMs: Summary;
}

export interface MemoryResult {
  status: "ok";
  n: number;
  baseline: MemorySnapshot;
  points: { idle: number; usage: MemorySnapshot }[];
  /** (usage at n − baseline) / n, bytes. */
  perSession: { heapBytes: number; rssBytes: number };
  /** Between the first and the last point, bytes per added session. */
  marginal: { heapBytes: number; rssBytes: number } | null;
  /** The floor's heap and RSS per idle socket at the same N: what Socket.IO itself costs. */
  floorPerSocket: { heapBytes: number; rssBytes: number } | null;
}

/** One autocannon run. */
export interface HttpRun {
  label: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

export interface LoginResult {
  status: "ok";
  store: "sqlite" | "redis" | "postgres";
  /** Mean over the runs (as every HTTP figure of the table). */
  rps: number;
  /** Median over the runs. */
  rpsMedian: number;
  p50Ms: number;
  p99Ms: number;
  /** Share of the logins that replaced (kicked) a previous session. */
  kickedShare: number;
  /** The store's claim (one atomic transaction per login), timed inside the server during the measured runs. */
  claimMs: Summary;
  runs: HttpRun[];
}

/**
 * Racing logins over a cluster's nodes: each round, `racers` logins of one user at once, spread
 * over the nodes, each followed by a socket on another node than its login.
 */
export interface RaceResult {
  status: "ok";
  store: "redis" | "postgres";
  nodes: number;
  rounds: number;
  racers: number;
  /** Rounds after which exactly one of the round's tokens was accepted (by every node). */
  roundsWithOneWinner: number;
  /** Live sessions of the round's user after it, per round (from the winner's `GET /auth/session` on every node). */
  liveAfter: number[];
  /** Sockets of losing sessions still connected once the round settled (all rounds). */
  losingSocketsConnected: number;
  /** Round start to settled (every loser's socket told or refused), ms. */
  settleMs: Summary;
  errors: string[];
}

/**
 * Logins per second on a Redis deployment with replicas, without and with `WAIT 1` after each
 * session write (`redis.replicas`): runs alternate, medians compared.
 */
export interface ReplicaWaitResult {
  status: "ok";
  deployment: "sentinel" | "cluster";
  /** Median logins/s of the runs that wait for no replica (`replicas: false`): the baseline. */
  noWaitRps: number;
  /** Median logins/s of the runs that wait for one replica (`replicas: { wait: 1 }`). */
  waitRps: number;
  /** waitRps / noWaitRps. */
  ratio: number;
  noWaitP50Ms: number;
  waitP50Ms: number;
  runs: HttpRun[];
}

export interface RequireSessionResult {
  status: "ok";
  bare: { rps: number; p50Ms: number; p99Ms: number };
  protected: { rps: number; p50Ms: number; p99Ms: number };
  /** Median over the back-to-back pairs of runs of 1 − protected / bare throughput (pairs cancel the drift of
   * a shared machine's load). */
  throughputCost: number;
  /** 1 − protected / bare of each pair. */
  pairCosts: number[];
  runs: HttpRun[];
}

export interface ScryptResult {
  status: "ok";
  msPerCall: number;
  /** 1000 / msPerCall: logins per second one core could hash. */
  perCorePerSecond: number;
  concurrency: number;
  /** Logins per second with `concurrency` hashes in flight (libuv pool) on this machine. */
  concurrentPerSecond: number;
}

export interface ReceiversResult {
  status: "ok";
  /** Events delivered (one per ended session). */
  delivered: number;
  /** A session's end (the SET's `event_timestamp`) → the receiver has the request, in ms. */
  latency: Summary;
  /** Login latency (request → response, ms) on the server with a receiver and on one without, alternating. */
  loginWith: Summary;
  loginWithout: Summary;
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
}

/** The whole JSON file. */
export interface BenchResults {
  schema: 1;
  mode: "full" | "quick";
  startedAt: string;
  finishedAt: string;
  seconds: number;
  machine: MachineInfo;
  loadAverageAtEnd: number[];
  settings: Settings;
  serverModule: string;
  kick: KickRow[];
  crossNode: ClusterResult | Skipped;
  /** The same cross-node kicks on three nodes sharing one PostgreSQL. */
  crossNodePostgres: ClusterResult | Skipped;
  race: { redis: RaceResult | Skipped; postgres: RaceResult | Skipped };
  logins: {
    sqlite: LoginResult | Skipped;
    redis: LoginResult | Skipped;
    postgres: LoginResult | Skipped;
    scrypt: ScryptResult | Skipped;
  };
  requireSession: RequireSessionResult | Skipped;
  /** The `ha` phase: the cost of `WAIT 1` on logins/s, on Sentinel and on Redis Cluster. */
  replicaWait?: (ReplicaWaitResult | Skipped)[];
  memory: MemoryResult | Skipped;
  receivers: ReceiversResult | Skipped;
  targets: Target[];
  files: { json: string; svg: string };
}

export function skipped(reason: string): Skipped {
  return { status: "skipped", reason };
}
