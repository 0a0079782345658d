import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/** `Omit<T, "id">` for each member of a union. */
export type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/** Every child the benchmark started, so that a failure or Ctrl-C ends them all. */
const children = new Set<ChildProcess>();

/** A forked child with request/answer messaging over IPC. */
export class Child<Out extends { id: number }, In extends { type: string }> {
  readonly process: ChildProcess;
  readonly label: string;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (m: In) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Set<(m: In) => void>();
  #exit: { code: number | null; signal: string | null } | null = null;

  constructor(child: ChildProcess, label: string) {
    this.process = child;
    this.label = label;
    children.add(child);
    child.on("message", (raw) => {
      const message = raw as In & { id?: number };
      for (const listener of this.#listeners) listener(message);
      if (typeof message.id === "number") {
        const waiting = this.#pending.get(message.id);
        if (waiting) {
          this.#pending.delete(message.id);
          waiting.resolve(message);
        }
      }
    });
    child.on("exit", (code, signal) => {
      children.delete(child);
      this.#exit = { code, signal };
      const error = new Error(`${label} exited (code ${code}, signal ${signal}) before answering`);
      for (const waiting of this.#pending.values()) waiting.reject(error);
      this.#pending.clear();
    });
  }

  /** Sends a request and resolves with the answer that carries its id. */
  request<A extends In>(message: WithoutId<Out>): Promise<A> {
    if (this.#exit) return Promise.reject(new Error(`${this.label} has exited`));
    const id = this.#nextId++;
    return new Promise<A>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (m: In) => void, reject });
      this.process.send({ ...message, id });
    });
  }

  /** Calls `listener` for every message (progress included). Returns a function that removes it. */
  on(listener: (m: In) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the first message that matches, or rejects if the child exits first. */
  waitFor<A extends In>(match: (m: In) => m is A, timeoutMs: number): Promise<A> {
    return new Promise<A>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${this.label}: no answer within ${timeoutMs} ms`)), timeoutMs);
      const onExit = () => done(new Error(`${this.label} exited before it was ready`));
      const off = this.on((m) => {
        if (match(m)) done(null, m);
      });
      const done = (error: Error | null, value?: A) => {
        clearTimeout(timer);
        off();
        this.process.off("exit", onExit);
        if (error) reject(error);
        else resolve(value as A);
      };
      this.process.once("exit", onExit);
    });
  }

  /** Resolves when the process has exited; kills it after `graceMs`. */
  async exited(graceMs = 5000): Promise<void> {
    if (this.#exit || this.process.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.process.kill("SIGKILL");
      }, graceMs);
      this.process.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Ends the process now (SIGTERM). */
  kill(): void {
    if (!this.#exit) this.process.kill("SIGTERM");
  }
}

/** Options of {@link forkTs}. */
export interface ForkOptions {
  label: string;
  /** Extra node flags, e.g. `--expose-gc`. */
  nodeFlags?: string[];
  env?: Record<string, string>;
}

/** Forks a TypeScript module of bench/ (through tsx) with IPC; its stdout and stderr go to ours. */
export function forkTs<Out extends { id: number }, In extends { type: string }>(
  relative: string,
  options: ForkOptions,
): Child<Out, In> {
  const file = fileURLToPath(new URL(`../${relative}`, import.meta.url));
  const child = fork(file, [], {
    execArgv: [...(options.nodeFlags ?? []), "--import", "tsx"],
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Child<Out, In>(child, options.label);
}

/** Kills every child still running (SIGKILL). For the exit path. */
export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
}

/** Registers a child process started some other way (redis-server) for {@link killAll}. */
export function track(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}
