import { type DeviceView, type Revocation, SoloClientError } from "@solo-session/client";
import { useSoloSession } from "@solo-session/client/react";
import { type FormEvent, useState } from "react";

export function App() {
  const { state, session, connection, logout } = useSoloSession();
  if (state.status === "signing-in" && state.via === "restore") return <p>Checking your session…</p>;
  if (session) {
    return (
      <main>
        <h1>Signed in as {session.userId}</h1>
        <p>
          On {describe(session.device)}, since {new Date(session.createdAt).toLocaleTimeString()}.{" "}
          <span data-connection={connection}>{connection === "connected" ? "Live" : connection}</span>
        </p>
        <button type="button" onClick={() => logout().catch(() => {})}>
          Sign out
        </button>
      </main>
    );
  }
  return (
    <main>
      {state.status === "revoked" && <Ended revocation={state.revocation} />}
      <SignIn />
    </main>
  );
}

/** Why the session ended, in plain words: the SDK has already closed the channel and cleared the page. */
function Ended({ revocation }: { revocation: Revocation }) {
  return (
    <div role="alert" data-code={revocation.code}>
      {revocation.reason === "replaced"
        ? `You were signed out: your account was signed in on ${revocation.by ? describe(revocation.by.device) : "another device"}.`
        : `You were signed out (${revocation.reason}).`}
    </div>
  );
}

function describe(device: DeviceView): string {
  return device.name ?? ([device.browser, device.os].filter(Boolean).join(" on ") || "an unknown device");
}

function SignIn() {
  const { state, login } = useSoloSession();
  const [problem, setProblem] = useState<string | null>(null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setProblem(null);
    try {
      await login({ username: String(form.get("username")), password: String(form.get("password")) });
    } catch (error) {
      setProblem(error instanceof SoloClientError ? error.code : "network_error");
    }
  }

  return (
    <form onSubmit={onSubmit}>
      <h1>Sign in</h1>
      <label>
        Username <input name="username" autoComplete="username" required />
      </label>
      <label>
        Password <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <button type="submit" disabled={state.status === "signing-in"}>
        Sign in
      </button>
      {problem && <p role="status">Could not sign in ({problem}).</p>}
    </form>
  );
}
