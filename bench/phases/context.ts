import type { Settings } from "../lib/results.js";

/** What every phase gets from the orchestrator. */
export interface Context {
  settings: Settings;
  /** File URL of the server library the solo bench servers load. */
  serverModule: string;
  /** Temp directory of this run (databases, keys); removed at the end. */
  tmp: string;
  /** Where CPU profiles of the measured sections go, when profiling (`--profile`). */
  profileDir: string | null;
  /** A progress line on stderr. */
  log(line: string): void;
}
