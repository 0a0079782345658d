/**
 * The store contract: the behaviour every {@link SessionStore} must have, as a Vitest suite.
 * It runs against memory, SQLite and Redis here, and against an app's own store through
 * `solo-session/server/testing`.
 *
 * @module
 */

import { afterEach, describe } from "vitest";
import type { SessionStore } from "../../store/types.js";
import { auditContract } from "./audit.js";
import { claimContract } from "./claim.js";
import { onceContract } from "./once.js";
import { outboxContract } from "./outbox.js";
import { sessionsContract } from "./sessions.js";

/** How {@link runStoreContract} gets and releases the store under test. */
export interface StoreContractOptions<S extends SessionStore = SessionStore> {
  /** Names the suite: `SessionStore contract: <name>`. */
  name: string;
  /** A new, empty store; called once per test. */
  open: () => S | Promise<S>;
  /** Releases a store after its test (also one the test closed itself). @default `store.close()` */
  close?: (store: S) => void | Promise<void>;
  /**
   * A new, empty store that writes session events for these receivers (`SessionStore.outbox`):
   * give it to run the outbox tests too.
   */
  openWithReceivers?: (receivers: readonly string[]) => S | Promise<S>;
}

/**
 * Registers the store contract with Vitest (`describe`/`it`): claims (with every built-in
 * policy, and atomic under races), the bounded `replaced` tombstones, reading, listing and
 * paging, ending, activity, staleness, purging, the audit trail and its delivery states, the
 * single-use markers (`useOnce`), the closed-store error, and (with `openWithReceivers`) the
 * outbox of session events. Call it at the top level of a test file; Vitest must be installed.
 *
 * @example
 * ```ts
 * // my-store.test.ts
 * import { runStoreContract } from "solo-session/server/testing";
 * import { MyStore } from "./my-store.js";
 *
 * runStoreContract({ name: "my store", open: () => new MyStore(), close: (store) => store.close() });
 * ```
 */
export function runStoreContract<S extends SessionStore>(options: StoreContractOptions<S>): void {
  const close = options.close ?? ((store: S) => store.close());
  describe(`SessionStore contract: ${options.name}`, () => {
    const opened: S[] = [];
    afterEach(async () => {
      for (const store of opened.splice(0)) await close(store);
    });
    const fresh = async (): Promise<SessionStore> => {
      const store = await options.open();
      opened.push(store);
      return store;
    };
    claimContract(fresh);
    sessionsContract(fresh);
    auditContract(fresh);
    onceContract(fresh);
    const withReceivers = options.openWithReceivers;
    if (withReceivers) {
      outboxContract(async (receivers) => {
        const store = await withReceivers(receivers);
        opened.push(store);
        return store;
      });
    }
  });
}
