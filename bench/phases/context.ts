import type { Settings } from "../lib/results.js";

/** What every phase gets from the orchestrator. */
export interface Context {
  settings: Settings;
  /** File URL of the server library the solo bench servers load. */
  serverModule: string;
  /** Temp directory of this run (databases, keys); removed at the end. */
  tmp: string;
  /** Where `--cpu-prof` profiles go, when profiling. */
  profileDir: string | null;
  /** A progress line on stderr. */
  log(line: string): void;
}
