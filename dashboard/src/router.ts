/**
 * A hash router: `#/<screen>/<rest…>`. Hash routes need no server rewrite
 * rules and survive reloads on Pages as they are.
 */
import { useEffect, useState } from "preact/hooks";

/** The current route: the screen id and the segments after it (`#/clinic/req-1` → `clinic`, `["req-1"]`). */
export interface Route {
  screen: string;
  params: string[];
}

/** Parses a location hash. */
export function parseHash(hash: string): Route {
  const segments = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  return { screen: segments[0] ?? "", params: segments.slice(1) };
}

/** The href of a screen (and optional segments). */
export function href(screen: string, ...params: string[]): string {
  return `#/${[screen, ...params].map(encodeURIComponent).join("/")}`;
}

/** Navigates to a screen. */
export function navigate(screen: string, ...params: string[]): void {
  window.location.hash = href(screen, ...params);
}

/** The current route, updated on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
