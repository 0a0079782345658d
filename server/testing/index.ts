/**
 * For writing your own store (`solo-session/server/testing`): the store contract as a Vitest
 * suite, with what a store is built from. This entry imports `vitest` (an optional peer
 * dependency): use it in tests. Your store's runtime code imports the same helpers from
 * `solo-session/server`, which does not load Vitest.
 *
 * @example
 * ```ts
 * import { runStoreContract } from "solo-session/server/testing";
 *
 * runStoreContract({ name: "my store", open: () => new MyStore() });
 * ```
 * @module
 */

export { auditCursor } from "../store/shared/paging.js";
export { applyDecision } from "../store/shared/sessions.js";
/** The store interface and the records it holds. */
export type * from "../store/types.js";
export { REPLACED_TOMBSTONES_PER_USER } from "../store/types.js";
export { runStoreContract, type StoreContractOptions } from "./contract/index.js";
