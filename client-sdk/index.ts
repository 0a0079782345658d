/**
 * solo-session, browser side: keeps the page's session live and tells the person at once,
 * in plain words, when it ends elsewhere.
 *
 * @example
 * ```ts
 * import { createSoloClient } from "solo-session/client";
 *
 * const solo = createSoloClient({ baseUrl: "/auth" });
 * solo.on("revoked", (r) => console.log(r.reason, r.by?.device));
 * await solo.login({ username: "alice", password: "demo" });
 * const res = await solo.fetch("/api/notes");
 * ```
 * @module
 */

export type { Channel, ChannelFactory, ChannelHandlers, ChannelOptions } from "./channel.js";
export type { ClearOptions, ClearReport, NameMatcher, StorageArea } from "./clear.js";
export { createSoloClient } from "./client.js";
export { type SessionConflict, SoloClientError, type SoloClientErrorCode } from "./errors.js";
export type { SoloClientOptions } from "./options.js";
export type * from "./types.js";
export type { WarningContext, WarningRenderer, WarningTexts } from "./warning/texts.js";
export type * from "./wire.js";
