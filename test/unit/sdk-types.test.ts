// Type tests of the SDK's public API and event payloads. `tsc -p tsconfig.json` checks them
// (it fails on a wrong type); Vitest runs them as ordinary tests.
import type { ReactNode } from "react";
import { describe, expectTypeOf, it } from "vitest";
import {
  type ClearReport,
  type ConnectedEvent,
  type ConnectionStatus,
  createSoloClient,
  type DeviceView,
  type DisconnectCause,
  type DisconnectedEvent,
  type LoginResult,
  type ReplacedBy,
  type Revocation,
  type RevocationReason,
  type RevocationSource,
  type SessionConflict,
  type SessionEndedCode,
  type SessionView,
  type SoloClient,
  type SoloClientError,
  type SoloClientErrorCode,
  type SoloClientEventName,
  type SoloClientEvents,
  type SoloClientOptions,
  type SoloState,
  type WarningContext,
} from "../../packages/client/src/index.js";
import {
  SoloProvider,
  type SoloProviderProps,
  type SoloSession,
  useSoloSession,
} from "../../packages/client/src/react.js";
import type * as Protocol from "../../protocol/index.js";

describe("public types", () => {
  it("createSoloClient takes optional options and returns a SoloClient", () => {
    expectTypeOf(createSoloClient).parameters.toEqualTypeOf<[options?: SoloClientOptions]>();
    expectTypeOf(createSoloClient).returns.toEqualTypeOf<SoloClient>();
    expectTypeOf<SoloClientOptions["tabs"]>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<SoloClientOptions["warning"]>().toEqualTypeOf<
      "builtin" | false | ((revocation: Revocation, context: WarningContext) => void) | undefined
    >();
  });

  it("the client's members", () => {
    expectTypeOf<SoloClient["state"]>().toEqualTypeOf<SoloState>();
    expectTypeOf<SoloClient["session"]>().toEqualTypeOf<SessionView | null>();
    expectTypeOf<SoloClient["connection"]>().toEqualTypeOf<ConnectionStatus>();
    expectTypeOf<SoloClient["leader"]>().toEqualTypeOf<boolean>();
    expectTypeOf<SoloClient["ready"]>().toEqualTypeOf<Promise<SoloState>>();
    expectTypeOf<SoloClient["login"]>().returns.toEqualTypeOf<Promise<LoginResult>>();
    expectTypeOf<SoloClient["logout"]>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<SoloClient["fetch"]>().returns.toEqualTypeOf<Promise<Response>>();
    expectTypeOf<LoginResult>().toEqualTypeOf<{ session: SessionView; replaced: SessionView[] }>();
  });

  it("event payloads", () => {
    expectTypeOf<SoloClientEventName>().toEqualTypeOf<"revoked" | "state" | "connected" | "disconnected" | "leader">();
    expectTypeOf<SoloClientEvents["revoked"]>().toEqualTypeOf<Revocation>();
    expectTypeOf<SoloClientEvents["state"]>().toEqualTypeOf<SoloState>();
    expectTypeOf<SoloClientEvents["connected"]>().toEqualTypeOf<ConnectedEvent>();
    expectTypeOf<ConnectedEvent>().toEqualTypeOf<{ sessionId: string }>();
    expectTypeOf<SoloClientEvents["disconnected"]>().toEqualTypeOf<DisconnectedEvent>();
    expectTypeOf<DisconnectedEvent>().toEqualTypeOf<{ cause: DisconnectCause; reconnecting: boolean }>();
    expectTypeOf<DisconnectCause>().toEqualTypeOf<"network" | "offline" | "standby" | "closed">();
    expectTypeOf<SoloClientEvents["leader"]>().toEqualTypeOf<boolean>();

    const solo = {} as SoloClient;
    expectTypeOf(solo.on<"revoked">)
      .parameter(1)
      .parameter(0)
      .toEqualTypeOf<Revocation>();
    expectTypeOf(solo.on<"state">)
      .parameter(1)
      .parameter(0)
      .toEqualTypeOf<SoloState>();
    expectTypeOf(solo.on<"revoked">).returns.toEqualTypeOf<() => void>();
    // @ts-expect-error: not an event of the client
    expectTypeOf(solo.on).toBeCallableWith("kicked", () => {});
  });

  it("a revocation: the server's notice plus code and source", () => {
    expectTypeOf<Revocation["reason"]>().toEqualTypeOf<RevocationReason>();
    expectTypeOf<RevocationReason>().toEqualTypeOf<"replaced" | "logout" | "revoked" | "expired" | "idle">();
    expectTypeOf<Revocation["code"]>().toEqualTypeOf<SessionEndedCode>();
    expectTypeOf<Revocation["source"]>().toEqualTypeOf<RevocationSource>();
    expectTypeOf<RevocationSource>().toEqualTypeOf<"push" | "reconnect" | "http">();
    expectTypeOf<Revocation["sessionId"]>().toEqualTypeOf<string | null>();
    expectTypeOf<Revocation["by"]>().toEqualTypeOf<ReplacedBy | undefined>();
    expectTypeOf<ReplacedBy>().toEqualTypeOf<{ device: DeviceView; at: string }>();
    // The wire types are the protocol's, not copies.
    expectTypeOf<SessionView>().toEqualTypeOf<Protocol.SessionView>();
    expectTypeOf<Protocol.RevocationNotice["reason"]>().toEqualTypeOf<RevocationReason>();
  });

  it("the state narrows on status", () => {
    const state = {} as SoloState;
    if (state.status === "active") expectTypeOf(state.session).toEqualTypeOf<SessionView>();
    if (state.status === "revoked") expectTypeOf(state.revocation).toEqualTypeOf<Revocation>();
    if (state.status === "signing-in") expectTypeOf(state.via).toEqualTypeOf<"login" | "restore">();
    expectTypeOf<SoloState["status"]>().toEqualTypeOf<"anonymous" | "signing-in" | "active" | "revoked">();
    expectTypeOf<ConnectionStatus>().toEqualTypeOf<
      "idle" | "connecting" | "connected" | "reconnecting" | "offline" | "standby"
    >();
  });

  it("errors: a stable code, and the session conflict of session_active", () => {
    expectTypeOf<SoloClientError["code"]>().toEqualTypeOf<SoloClientErrorCode>();
    expectTypeOf<SoloClientErrorCode>().toEqualTypeOf<Protocol.ErrorCode | "network_error">();
    expectTypeOf<SoloClientError["conflict"]>().toEqualTypeOf<SessionConflict | null>();
    expectTypeOf<SessionConflict>().toEqualTypeOf<{ active: SessionView; since: Date; takeover: boolean }>();
    expectTypeOf<SoloClientError["body"]>().toEqualTypeOf<Protocol.ErrorBody | null>();
    expectTypeOf<WarningContext["cleared"]>().toEqualTypeOf<ClearReport>();
  });

  it("the React binding", () => {
    expectTypeOf(useSoloSession).returns.toEqualTypeOf<SoloSession>();
    expectTypeOf<SoloSession["client"]>().toEqualTypeOf<SoloClient | null>();
    expectTypeOf<SoloSession["state"]>().toEqualTypeOf<SoloState>();
    expectTypeOf<SoloSession["session"]>().toEqualTypeOf<SessionView | null>();
    expectTypeOf<SoloSession["login"]>().toEqualTypeOf<SoloClient["login"]>();
    expectTypeOf<SoloSession["logout"]>().toEqualTypeOf<SoloClient["logout"]>();
    expectTypeOf<SoloSession["fetch"]>().toEqualTypeOf<SoloClient["fetch"]>();
    expectTypeOf<SoloProviderProps["client"]>().toEqualTypeOf<SoloClient | null | (() => SoloClient)>();
    expectTypeOf(SoloProvider).returns.toEqualTypeOf<ReactNode>();
  });
});
