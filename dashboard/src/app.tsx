/**
 * The app shell: resolves the session (GET /api/session), shows the login
 * screen until someone is signed in, then the header and the routed screen.
 * Any API call answering 401 sends the app back to the login screen.
 */
import { useEffect, useState } from "preact/hooks";
import { type AuthMode, type SessionInfo, api, onUnauthorized } from "./api";
import { AppHeader } from "./components/app-header";
import { Login } from "./login";
import { useRoute } from "./router";
import { DEFAULT_SCREEN, SCREENS } from "./screens";

type AuthState =
  | { status: "loading" }
  | { status: "signed-out"; mode: AuthMode; notice?: string }
  | { status: "signed-in"; session: SessionInfo }
  | { status: "error"; message: string };

function modeOf(details: Record<string, unknown> | undefined): AuthMode {
  return details?.auth_mode === "access" ? "access" : "login";
}

export function App() {
  const [auth, setAuth] = useState<AuthState>({ status: "loading" });
  const route = useRoute();

  async function loadSession() {
    const res = await api.session();
    if (res.ok) setAuth({ status: "signed-in", session: res.data });
    else if (res.status === 401) setAuth({ status: "signed-out", mode: modeOf(res.error.details) });
    else setAuth({ status: "error", message: `${res.error.error} (${res.error.code})` });
  }

  useEffect(() => {
    void loadSession();
    return onUnauthorized(() =>
      setAuth((prev) =>
        prev.status === "signed-in"
          ? { status: "signed-out", mode: prev.session.mode, notice: "Your session has ended. Sign in again." }
          : prev,
      ),
    );
  }, []);

  async function logout() {
    const res = await api.logout();
    if (res.ok && res.data.logout_url) {
      window.location.assign(res.data.logout_url);
      return;
    }
    setAuth({ status: "signed-out", mode: "login" });
  }

  if (auth.status === "loading") {
    return (
      <main id="main" class="login" aria-busy="true">
        <p class="muted">Loading…</p>
      </main>
    );
  }
  if (auth.status === "error") {
    return (
      <main id="main" class="login">
        <h1>Zahara dashboard</h1>
        <p class="error" role="alert">
          The dashboard could not load: {auth.message}
        </p>
        <button type="button" class="button" onClick={() => void loadSession()}>
          Retry
        </button>
      </main>
    );
  }
  if (auth.status === "signed-out") {
    return (
      <Login
        mode={auth.mode}
        notice={auth.notice}
        onSignedIn={(session) => setAuth({ status: "signed-in", session })}
      />
    );
  }

  const screen =
    SCREENS.find((s) => s.id === route.screen) ?? SCREENS.find((s) => s.id === DEFAULT_SCREEN) ?? SCREENS[0];
  if (!screen) return null;
  const Screen = screen.component;
  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <AppHeader screens={SCREENS} current={screen.id} session={auth.session} onLogout={() => void logout()} />
      <main id="main" class="screen" tabIndex={-1}>
        <Screen session={auth.session} params={screen.id === route.screen ? route.params : []} />
      </main>
    </>
  );
}
