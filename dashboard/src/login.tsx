/**
 * The sign-in screen. Login mode: an admin key, exchanged at POST /api/login
 * for a session cookie (the key is not kept, in the page or on the server).
 * Access mode: nothing to type; Cloudflare Access signs people in.
 */
import { useState } from "preact/hooks";
import { type AuthMode, type SessionInfo, api } from "./api";

export interface LoginProps {
  mode: AuthMode;
  /** A message to show above the form (e.g. "Session expired"). */
  notice?: string | undefined;
  onSignedIn: (session: SessionInfo) => void;
}

export function Login({ mode, notice, onSignedIn }: LoginProps) {
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (mode === "access") {
    return (
      <main id="main" class="login">
        <h1>Zahara dashboard</h1>
        <p role="alert">You are not signed in through Cloudflare Access.</p>
        <p>
          <a class="button" href="/">
            Sign in
          </a>
        </p>
      </main>
    );
  }

  async function submit(event: Event) {
    event.preventDefault();
    if (!key.trim() || busy) return;
    setBusy(true);
    setError(null);
    const res = await api.login(key);
    setBusy(false);
    if (res.ok) {
      setKey("");
      onSignedIn(res.data);
      return;
    }
    const { code, error: message } = res.error;
    if (code === "UNAUTHORIZED") setError("That key is not a valid admin key.");
    else if (code === "FORBIDDEN") setError("That key is valid but has no admin scope.");
    else if (code === "TOO_MANY_AUTH_FAILURES")
      setError(`Too many failed attempts. Try again in ${res.retryAfterSeconds ?? 60} s.`);
    else setError(`${message} (${code}${res.error.request_id ? `, request ${res.error.request_id}` : ""})`);
  }

  return (
    <main id="main" class="login">
      <h1>Zahara dashboard</h1>
      {notice ? <p class="notice">{notice}</p> : null}
      <form class="login__form" onSubmit={submit} noValidate>
        <label for="admin-key">Admin key</label>
        <input
          id="admin-key"
          name="admin_key"
          type="password"
          autocomplete="current-password"
          required
          value={key}
          onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
          aria-describedby={error ? "login-error admin-key-help" : "admin-key-help"}
          aria-invalid={error ? true : undefined}
        />
        <p id="admin-key-help" class="muted">
          A gateway key with the admin scope. It is checked once and not stored.
        </p>
        {error ? (
          <p id="login-error" class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="button" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
