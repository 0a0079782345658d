/** Types of scripts/size.mjs, for the tests that import it. */

export interface Size {
  min: number;
  gzip: number;
}

export interface Measured {
  chunks: Record<string, Size>;
  /** What `createSoloClient` loads up front. */
  core: Size & { files: string[] };
  /** What the React binding loads up front. */
  react: (Size & { files: string[] }) | null;
  /** Chunks loaded on demand. */
  onDemand: (Size & { file: string })[];
}

export const BUDGET: { core: number; react: number };
export function sizeOf(source: string): Promise<Size>;
export function measure(dir: string): Promise<Measured>;
export function bundleApp(
  dir: string,
  code: string,
): Promise<{ entry: string; chunks: { path: string; text: string }[] }>;
export function check(dir: string): Promise<{ measured: Measured; problems: string[] }>;
export function kb(bytes: number): string;
