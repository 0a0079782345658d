/**
 * The IPC messages between the benchmark's orchestrator and its child processes (bench
 * servers, idle-session holders, the kicker). Every request carries an `id`; its answer
 * carries the same `id`. Progress messages carry none.
 */

/** Which server a client talks to: ours, or the bare Express + Socket.IO floor. */
export type ServerKind = "solo" | "floor";

/** `process.memoryUsage()` after forced garbage collection, in bytes. */
export interface MemorySnapshot {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

/** Settings of a solo bench server process (passed as JSON in `BENCH_SERVER`). */
export interface SoloServerConfig {
  kind: "solo";
  store: "sqlite" | "redis" | "postgres";
  dataDir: string;
  redisUrl: string | null;
  /** With `store: "postgres"`: the database (`postgres.url`). */
  databaseUrl: string | null;
  /**
   * Instead of `redisUrl`: the server's whole `redis` option (a Redis Cluster, Sentinel; what
   * session writes wait for), for the `ha` phase.
   */
  redis?: {
    cluster?: { host: string; port: number }[];
    sentinels?: { host: string; port: number }[];
    name?: string;
    keyPrefix?: string;
    replicas?: { wait: number; timeout?: number } | false;
  };
  nodeId: string;
  /** File URL of the server library to load: the compiled `dist/server/index.js`, or the source through tsx. */
  serverModule: string;
  /** Services told of every ended session (the receivers phase). */
  receivers?: { url: string; audience: string; format: "backchannel-logout" | "caep" }[];
}

/** Settings of the floor server process. */
export interface FloorServerConfig {
  kind: "floor";
}

export type ServerConfig = SoloServerConfig | FloorServerConfig;

export type ParentToServer =
  | { cmd: "memory"; id: number }
  | { cmd: "stats"; id: number }
  | { cmd: "stop"; id: number }
  /** The durations of the store's claims since the last `claims` (then forgotten), ms. */
  | { cmd: "claims"; id: number }
  /** Starts the V8 CPU profiler (inspector), or stops it and writes the profile to `file`. */
  | { cmd: "profile"; id: number; action: "start" }
  | { cmd: "profile"; id: number; action: "stop"; file: string };

export type ServerToParent =
  | { type: "ready"; port: number; module: string; adapter: string }
  | { type: "unavailable"; reason: string }
  | { type: "memory"; id: number; usage: MemorySnapshot }
  | { type: "stats"; id: number; sockets: number }
  | { type: "claims"; id: number; ms: number[] }
  | { type: "stopped"; id: number }
  | { type: "profiled"; id: number };

export type ParentToHolder =
  | {
      cmd: "connect";
      id: number;
      kind: ServerKind;
      /** Base URL of the server (login and socket). */
      url: string;
      /** How many more sessions to open and connect. */
      count: number;
      /** User names are `${prefix}${index}`. */
      prefix: string;
      /** Sockets (and logins) in flight at once. */
      concurrency: number;
    }
  | { cmd: "close"; id: number };

export type HolderToParent =
  | { type: "progress"; connected: number; failed: number }
  | {
      type: "connected";
      id: number;
      connected: number;
      failed: number;
      errors: string[];
      /** Sockets of this holder that disconnected since they connected, by reason. */
      dropped: Record<string, number>;
    }
  | { type: "closed"; id: number };

export interface KickRequest {
  cmd: "kick";
  id: number;
  kind: ServerKind;
  /** Base URLs of the nodes. With one, login and socket are on the same node; with several, the login of
   * each round goes to the node after the one holding the victim socket. */
  nodes: string[];
  /** Measured kicks. */
  kicks: number;
  /** Unmeasured kicks first (JIT, connection pools). */
  warmup: number;
  /** Victim users, used in turn. */
  victims: number;
  victimPrefix: string;
  /** Pause between rounds, after the new socket connected. */
  pauseMs: number;
  /** A notice not received within this long counts as lost. */
  timeoutMs: number;
}

export type ParentToKicker = KickRequest;

export interface KickResult {
  type: "kicked";
  id: number;
  /** Start of the login (or POST /kick) to receipt of `session:revoked` on the old socket, ms. */
  latencies: number[];
  /** Start of the login to its HTTP response, ms. */
  responses: number[];
  lost: number;
  errors: string[];
}

export type KickerToParent = { type: "progress"; done: number; total: number } | KickResult;
