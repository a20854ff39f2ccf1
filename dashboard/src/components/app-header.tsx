/** The header: brand, the screens' nav, who is signed in, the traces link and sign-out. */
import type { SessionInfo } from "../api";
import { href } from "../router";
import { DEFAULT_SCREEN, type ScreenDef } from "../screens";

export interface AppHeaderProps {
  screens: readonly ScreenDef[];
  current: string;
  session: SessionInfo;
  onLogout: () => void;
}

export function AppHeader({ screens, current, session, onLogout }: AppHeaderProps) {
  const who = session.user.email ?? session.user.sub;
  return (
    <header class="app-header">
      <a class="brand" href={href(DEFAULT_SCREEN)}>
        Zahara
      </a>
      <nav class="app-nav" aria-label="Screens">
        <ul>
          {screens.map((s) => (
            <li key={s.id}>
              <a href={href(s.id)} aria-current={s.id === current ? "page" : undefined}>
                {s.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="app-user">
        {session.jaeger_ui_url ? (
          <a href={session.jaeger_ui_url} target="_blank" rel="noopener noreferrer">
            Traces
          </a>
        ) : null}
        <span class="muted" title={`Signed in as ${who}`}>
          {who}
        </span>
        <button type="button" class="button button--quiet" onClick={onLogout}>
          Sign out
        </button>
      </div>
    </header>
  );
}
