import { type ConnectionStatus, type Revocation, type SessionView, SoloClientError } from "@solo-session/client";
import { useSoloSession, useSoloSessions } from "@solo-session/client/react";
import { type FormEvent, useState } from "react";
import { askContinueHere, deviceName, inUseText } from "../conflict.js";

const DRAFT_KEY = "demo:draft";
const LABELS: Record<ConnectionStatus, string> = {
  idle: "Not connected",
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  standby: "Live in another tab",
};
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** The whole page: the sign-in form, or the signed-in view. */
export function App() {
  const { state } = useSoloSession();
  return (
    <>
      <TopBar />
      <main className="page" aria-busy={state.status === "signing-in" && state.via === "restore"}>
        {state.status === "active" ? (
          <SignedIn session={state.session} />
        ) : state.status === "signing-in" && state.via === "restore" ? (
          <section className="view view-loading" aria-label="Loading">
            <div className="spinner" aria-hidden="true" />
            <p>Checking your session…</p>
          </section>
        ) : (
          <SignInView ended={state.status === "revoked" ? state.revocation : null} />
        )}
      </main>
      <footer className="footer">
        <p>
          solo-session React example: <code>SoloProvider</code> and <code>useSoloSession()</code>.{" "}
          <a href="/">The plain demo page</a> uses the same SDK without React.
        </p>
      </footer>
    </>
  );
}

function TopBar() {
  const { session, logout } = useSoloSession();
  const [busy, setBusy] = useState(false);
  return (
    <header className="topbar">
      <div className="topbar-inner">
        <a className="brand" href="/react.html" aria-label="solo-session React example">
          <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="8" />
            <circle cx="16" cy="16" r="6.5" />
            <circle cx="16" cy="16" r="2" />
          </svg>
          <span className="brand-name">solo-session</span>
          <span className="brand-tag">React</span>
        </a>
        {session && (
          <div className="account">
            <span className="avatar" aria-hidden="true">
              {session.userId.slice(0, 1).toUpperCase()}
            </span>
            <span className="account-name">{session.userId}</span>
            <button
              type="button"
              className="button button-secondary"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                await logout().catch(() => {});
                setBusy(false);
              }}
            >
              Sign out
            </button>
          </div>
        )}
      </div>
    </header>
  );
}

function SignInView({ ended }: { ended: Revocation | null }) {
  const { state, login } = useSoloSession();
  const [username, setUsername] = useState("alice");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<{ code: string; text: string } | null>(null);
  const signingIn = state.status === "signing-in";

  async function signIn(takeover: boolean, opener: HTMLElement | null): Promise<void> {
    try {
      await login({ username: username.trim(), password }, { takeover });
    } catch (error) {
      const conflict = error instanceof SoloClientError ? error.conflict : null;
      if (conflict && !takeover) {
        if (!conflict.takeover) return setProblem({ code: "session_active", text: inUseText(conflict) });
        if (await askContinueHere(conflict, opener)) return signIn(true, opener);
        return;
      }
      const code = error instanceof SoloClientError ? error.code : "network_error";
      setProblem({ code, text: message(code) });
    }
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setProblem(null);
    if (!username.trim() || !password) return setProblem({ code: "", text: "Enter a username and a password." });
    void signIn(false, event.currentTarget.querySelector("button"));
  }

  return (
    <section className="view view-signin">
      <div className="hero">
        <p className="eyebrow">React example</p>
        <h1 className="hero-title">The same one-session rule, in a React app.</h1>
        <p className="lead">
          <code>&lt;SoloProvider&gt;</code> holds the client; <code>useSoloSession()</code> gives this page the session,
          its state and the actions. Sign in as the same user in another browser and watch this tab.
        </p>
      </div>
      <div className="signin-column">
        {ended && (
          <div className="notice" id="ended" role="status" data-code={ended.code} data-source={ended.source}>
            <div>
              <p className="notice-title">Your previous session ended</p>
              <p className="notice-text">{endedText(ended)}</p>
            </div>
          </div>
        )}
        <form className="card signin" noValidate onSubmit={onSubmit}>
          <h2 className="card-title">Sign in</h2>
          <p className="card-subtitle">
            Demo accounts: <code>alice</code>, <code>bob</code>, <code>carol</code> with the password <code>demo</code>.
          </p>
          <div className="field">
            <label htmlFor="username">Username</label>
            <input
              id="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="password">Password</label>
            <input
              id="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          {problem && (
            <p className="form-error" role="alert" data-code={problem.code}>
              {problem.text}
            </p>
          )}
          <button type="submit" className="button button-primary button-block" disabled={signingIn}>
            {signingIn ? "Signing in…" : "Sign in"}
          </button>
        </form>
      </div>
    </section>
  );
}

function SignedIn({ session }: { session: SessionView }) {
  const { connection, leader, fetch } = useSoloSession();
  const [draft, setDraft] = useState(() => localStorage.getItem(DRAFT_KEY) ?? "");
  const [notes, setNotes] = useState<{ status: number; titles: string[] } | null>(null);
  const live = connection === "connected";
  return (
    <section className="view view-app">
      <div className="page-head">
        <div>
          <h1 className="page-title">Signed in as {session.userId}</h1>
          <p className="page-subtitle">
            On {deviceName(session.device)} since {dateTime.format(new Date(session.createdAt))}
          </p>
        </div>
        <span className="pill" id="connection" data-status={connection} data-leader={String(leader)} role="status">
          <span className="pill-dot" aria-hidden="true" />
          <span id="connection-text">{live && !leader ? "Live via another tab" : LABELS[connection]}</span>
        </span>
      </div>
      <div className="grid">
        <section className="card">
          <div className="card-head">
            <h2 className="card-title">
              <label htmlFor="draft">Draft note</label>
            </h2>
          </div>
          <textarea
            id="draft"
            rows={5}
            placeholder="Write something private…"
            value={draft}
            onChange={(e) => {
              setDraft(e.target.value);
              localStorage.setItem(DRAFT_KEY, e.target.value);
            }}
          />
          <p className="hint">
            Kept in <code>localStorage</code>; removed if another sign-in ends this session.
          </p>
        </section>
        <section className="card">
          <div className="card-head">
            <h2 className="card-title">Your notes</h2>
            <button
              type="button"
              className="button button-secondary"
              onClick={async () => {
                const res = await fetch("/api/notes");
                const body = (await res.json().catch(() => null)) as { notes?: { title: string }[] } | null;
                setNotes({ status: res.status, titles: body?.notes?.map((n) => n.title) ?? [] });
              }}
            >
              Load notes
            </button>
          </div>
          {notes && (
            <p className="result" id="notes-status" role="status" data-status={notes.status}>
              {notes.status === 200 ? `${notes.status} OK` : `Refused: ${notes.status}`}
            </p>
          )}
          <ul className="notes">
            {notes?.titles.map((title) => (
              <li key={title}>
                <strong>{title}</strong>
              </li>
            ))}
          </ul>
        </section>
        <Devices />
      </div>
    </section>
  );
}

/** "Your devices", with `useSoloSessions()`. */
function Devices() {
  const { sessions, error, refresh, end, endOthers } = useSoloSessions();
  const [said, setSaid] = useState("");
  const act = async (action: () => Promise<void>, done: string) => {
    try {
      await action();
      setSaid(done);
    } catch (e) {
      setSaid(`That did not work (${e instanceof SoloClientError ? e.code : "network_error"}).`);
    }
  };
  return (
    <section className="card card-wide devices" aria-labelledby="devices-title">
      <div className="card-head">
        <div>
          <h2 className="card-title" id="devices-title">
            Your devices
          </h2>
          <p className="card-subtitle">Every device signed in to your account.</p>
        </div>
        <div className="card-actions">
          <button type="button" className="button button-secondary" onClick={() => void refresh()}>
            Refresh
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={!sessions || sessions.every((s) => s.current)}
            onClick={() => act(endOthers, "Signed out every other device.")}
          >
            Sign out all other devices
          </button>
        </div>
      </div>
      {(said || error) && (
        <p className="result devices-status" role="status" data-tone={error && !said ? "bad" : "info"}>
          {said || `The devices could not be loaded (${(error as SoloClientError).code ?? "network_error"}).`}
        </p>
      )}
      <ul className="device-list" aria-labelledby="devices-title">
        {sessions?.map((s) => (
          <li className="device" key={s.id} data-session-id={s.id}>
            <div className="device-text">
              <p className="device-name">
                {deviceName(s.device)} {s.current && <span className="device-badge">This device</span>}
              </p>
              <p className="device-facts">
                {s.device.ip ? `IP ${s.device.ip} · ` : ""}Signed in {dateTime.format(new Date(s.createdAt))} · Last
                active {dateTime.format(new Date(s.lastSeenAt))}
              </p>
            </div>
            {!s.current && (
              <button
                type="button"
                className="button button-secondary"
                aria-label={`Sign out ${deviceName(s.device)}`}
                onClick={() => act(() => end(s.id), `Signed out ${deviceName(s.device)}.`)}
              >
                Sign out
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function message(code: string): string {
  switch (code) {
    case "invalid_credentials":
      return "That username and password do not match.";
    case "rate_limited":
      return "Too many attempts. Wait a moment and try again.";
    case "network_error":
      return "The server could not be reached. Check your connection.";
    default:
      return "Signing in did not work. Try again.";
  }
}

function endedText(r: Revocation): string {
  switch (r.reason) {
    case "replaced":
      return r.by ? `Your account signed in on ${deviceName(r.by.device)}.` : "Your account signed in elsewhere.";
    case "logout":
      return "You signed out in another window or on another device.";
    case "revoked":
      return "It was signed out from another of your devices, or by an administrator.";
    case "expired":
      return "The session expired.";
    case "idle":
      return "The session ended after a period of inactivity.";
  }
}
