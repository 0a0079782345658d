/**
 * solo-session for React: a provider that holds the page's client and a hook that returns
 * the session, the state and the actions. Safe under StrictMode and server-side rendering:
 * nothing here touches `window` at import, and the client is made in an effect (never on
 * the server).
 *
 * @example
 * ```tsx
 * import { createSoloClient } from "@solo-session/client";
 * import { SoloProvider, useSoloSession } from "@solo-session/client/react";
 *
 * root.render(
 *   <SoloProvider client={() => createSoloClient({ baseUrl: "/auth" })}>
 *     <App />
 *   </SoloProvider>,
 * );
 *
 * function App() {
 *   const { state, session, login, logout } = useSoloSession();
 *   if (state.status === "active") return <button onClick={() => logout()}>Sign out {session?.userId}</button>;
 *   return <SignInForm onSubmit={(credentials) => login(credentials)} />;
 * }
 * ```
 * @module
 */

import {
  createContext,
  createElement,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
} from "react";
import type { OwnSessionView, SessionView } from "solo-session/protocol";
import type {
  ConnectionStatus,
  DisputeResult,
  LoginOptions,
  LoginResult,
  LogoutOptions,
  SoloClient,
  SoloState,
} from "./types.js";

/**
 * What {@link useSoloSession} returns. Before the client exists (server-side rendering, the
 * first render in the browser with a factory), `client` is null, the state is
 * `signing-in` (`via: "restore"`) and the actions reject.
 *
 * @example
 * ```tsx
 * const { state, connection, leader }: SoloSession = useSoloSession();
 * ```
 */
export interface SoloSession {
  /** The client, or null before it exists. */
  client: SoloClient | null;
  /** The state; switch on `state.status`. */
  state: SoloState;
  /** The live session, or null. */
  session: SessionView | null;
  /** The session channel's condition (in a tab that is not the leader: the leader's). */
  connection: ConnectionStatus;
  /** True while this tab holds the session channel for the browser's tabs. */
  leader: boolean;
  /** `client.login()`: signs in; rejects with a `SoloClientError` (see its `conflict`). */
  login(credentials: Readonly<Record<string, unknown>>, options?: LoginOptions): Promise<LoginResult>;
  /** `client.logout()`: signs out, in every tab. */
  logout(options?: LogoutOptions): Promise<void>;
  /** `client.fetch()`: fetch with the session's credentials; a 401 `session_*` is a revocation. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** `client.dispute()`: "This wasn't me", while `state.revocation.disputable`. */
  dispute(): Promise<DisputeResult>;
}

/**
 * What {@link useSoloSessions} returns: the signed-in user's live sessions ("Your devices")
 * and the actions on them.
 *
 * @example
 * ```tsx
 * const { sessions, loading, error, end, endOthers }: SoloSessions = useSoloSessions();
 * ```
 */
export interface SoloSessions {
  /** The user's live sessions, newest first (`current` marks this one); null until loaded or when signed out. */
  sessions: OwnSessionView[] | null;
  /** True while the list is being loaded. */
  loading: boolean;
  /** Why the last load or action failed (a `SoloClientError`), or null. */
  error: Error | null;
  /** Loads the list again. */
  refresh(): Promise<void>;
  /** Ends one session (its device is told at once), then reloads the list. Rejects as `client.endSession()`. */
  end(id: string): Promise<void>;
  /** Ends every session but this one, then reloads the list. Rejects as `client.endOtherSessions()`. */
  endOthers(): Promise<void>;
}

/**
 * Props of {@link SoloProvider}.
 *
 * @example
 * ```tsx
 * const props: SoloProviderProps = { client: () => createSoloClient(), children: <App /> };
 * ```
 */
export interface SoloProviderProps {
  /**
   * The page's client, or a function that makes it. A function is called in an effect (so
   * never during server-side rendering) and its client is destroyed when the provider
   * unmounts; a client passed as is belongs to the caller. Read once, at mount.
   */
  client: SoloClient | null | (() => SoloClient);
  children?: ReactNode;
}

const Context = createContext<SoloClient | null | undefined>(undefined);

/**
 * Makes the client available to {@link useSoloSession} below it.
 *
 * @example
 * ```tsx
 * <StrictMode>
 *   <SoloProvider client={() => createSoloClient({ baseUrl: "/auth" })}>
 *     <App />
 *   </SoloProvider>
 * </StrictMode>
 * ```
 */
export function SoloProvider({ client, children }: SoloProviderProps): ReactNode {
  const [made, setMade] = useState<SoloClient | null>(null);
  const factory = typeof client === "function" ? client : null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the factory is read once, at mount (documented)
  useEffect(() => {
    if (!factory) return;
    const own = factory();
    setMade(own);
    // StrictMode unmounts and mounts again at once: that second mount makes a fresh client.
    return () => {
      own.destroy();
      setMade((current) => (current === own ? null : current));
    };
  }, []);
  const value = typeof client === "function" ? made : client;
  return createElement(Context.Provider, { value }, children);
}

const WAITING: Snapshot = { state: { status: "signing-in", via: "restore" }, connection: "idle", leader: false };
const notReady = () => Promise.reject(new Error("solo-session: the client is not ready yet"));

interface Snapshot {
  state: SoloState;
  connection: ConnectionStatus;
  leader: boolean;
}

/**
 * The session, the state and the actions of the nearest {@link SoloProvider}. Re-renders on
 * every change of state, connection or leadership, in this tab and (through the SDK) in the others.
 *
 * @example
 * ```tsx
 * function Account() {
 *   const { session, logout } = useSoloSession();
 *   return session ? <button onClick={() => logout()}>Sign out {session.userId}</button> : null;
 * }
 * ```
 */
export function useSoloSession(): SoloSession {
  const client = useContext(Context);
  if (client === undefined) throw new Error("useSoloSession() must be used inside <SoloProvider>");
  const store = useMemo(() => subscription(client), [client]);
  const snapshot = useSyncExternalStore(store.subscribe, store.get, () => WAITING);
  // The actions keep their identity as long as the client does (safe in effect dependencies).
  const actions = useMemo<Pick<SoloSession, "login" | "logout" | "fetch" | "dispute">>(
    () => ({
      login: (credentials, options) => (client ? client.login(credentials, options) : notReady()),
      logout: (options) => (client ? client.logout(options) : notReady()),
      fetch: (input, init) => (client ? client.fetch(input, init) : notReady()),
      dispute: () => (client ? client.dispute() : notReady()),
    }),
    [client],
  );
  return useMemo(
    () => ({
      client,
      ...snapshot,
      session: snapshot.state.status === "active" ? snapshot.state.session : null,
      ...actions,
    }),
    [client, snapshot, actions],
  );
}

/**
 * The signed-in user's own sessions ("Your devices"), loaded from the nearest
 * {@link SoloProvider}'s client whenever a session starts, with actions to end one or all the
 * others. Signed out, `sessions` is null.
 *
 * @example
 * ```tsx
 * function Devices() {
 *   const { sessions, end, endOthers } = useSoloSessions();
 *   return (
 *     <ul>
 *       {sessions?.map((s) => (
 *         <li key={s.id}>
 *           {s.device.browser} on {s.device.os} {s.current ? "(this device)" : <button onClick={() => end(s.id)}>Sign out</button>}
 *         </li>
 *       ))}
 *     </ul>
 *   );
 * }
 * ```
 */
export function useSoloSessions(): SoloSessions {
  const { client, session } = useSoloSession();
  const id = session?.id ?? null;
  const [loaded, setLoaded] = useState<{ id: string | null; sessions: OwnSessionView[] | null }>({
    id: null,
    sessions: null,
  });
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  const refresh = useCallback(async () => {
    if (!client || id === null) return;
    setLoading(true);
    try {
      const sessions = await client.sessions();
      setLoaded({ id, sessions });
      setError(null);
    } catch (e) {
      setError(e as Error);
    } finally {
      setLoading(false);
    }
  }, [client, id]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const act = useCallback(
    async (action: () => Promise<void>) => {
      try {
        await action();
      } catch (e) {
        setError(e as Error);
        throw e;
      }
      await refresh();
    },
    [refresh],
  );

  return {
    // A list loaded for another session (or none) is not shown.
    sessions: id !== null && loaded.id === id ? loaded.sessions : null,
    loading,
    error,
    refresh,
    end: useCallback((target: string) => act(() => (client ? client.endSession(target) : notReady())), [act, client]),
    endOthers: useCallback(() => act(() => (client ? client.endOtherSessions() : notReady())), [act, client]),
  };
}

/** A store over the client's events whose snapshot changes only when something it holds does. */
function subscription(client: SoloClient | null): {
  subscribe: (changed: () => void) => () => void;
  get: () => Snapshot;
} {
  let last = WAITING;
  const get = () => {
    if (!client) return WAITING;
    const { state, connection, leader } = client;
    if (state !== last.state || connection !== last.connection || leader !== last.leader) {
      last = { state, connection, leader };
    }
    return last;
  };
  const subscribe = (changed: () => void) => {
    if (!client) return () => {};
    const off = [
      client.on("state", changed),
      client.on("connected", changed),
      client.on("disconnected", changed),
      client.on("leader", changed),
    ];
    return () => {
      for (const stop of off) stop();
    };
  };
  return { subscribe, get };
}
