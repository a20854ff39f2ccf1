/**
 * What a credential may do. Scopes are strings:
 * - `"agent-demo:echo"`: that capability of that agent;
 * - `"agent-demo:*"`: every capability of that agent;
 * - `"*:echo"`: that capability of any agent (JWTs may also write `"echo"`);
 * - `"*"`: every capability of every agent;
 * - `"admin"`: the admin API (keys, audit log, request log, stats, breakers, metrics);
 * - `"metrics"`: `GET /metrics` only (a Prometheus scraper).
 * Entries are case-sensitive. No matching entry allows nothing: fail closed.
 */

/** The scope of the admin API. */
export const ADMIN_SCOPE = "admin";
/** The scope of `GET /metrics` alone. */
export const METRICS_SCOPE = "metrics";

/** What a call-scope check reads: the scopes, and optionally an allow-list of agents (a JWT's `agents` claim). */
export interface ScopeHolder {
  scopes: readonly string[];
  agents?: readonly string[] | undefined;
}

/**
 * True when `holder` may call `capability` on `agent`. `admin` and
 * `metrics` never allow a call: an admin credential is not a caller.
 */
export function allowsCall(holder: ScopeHolder, agent: string, capability: string): boolean {
  if (holder.agents !== undefined && !holder.agents.some((a) => a === agent || a === "*")) return false;
  return holder.scopes.some((entry) => {
    const colon = entry.indexOf(":");
    if (colon < 0) return entry === "*" || (entry === capability && entry !== ADMIN_SCOPE && entry !== METRICS_SCOPE);
    const [a, c] = [entry.slice(0, colon), entry.slice(colon + 1)];
    return (a === "*" || a === agent) && (c === "*" || c === capability);
  });
}

/** True when `holder` may call at least one capability of `agent` (for listing agents). */
export function allowsAgent(holder: ScopeHolder, agent: string, capabilities: readonly string[]): boolean {
  return capabilities.some((capability) => allowsCall(holder, agent, capability));
}

/** True when the scopes grant `scope` (`admin` includes `metrics`). */
export function hasScope(scopes: readonly string[], scope: typeof ADMIN_SCOPE | typeof METRICS_SCOPE): boolean {
  return scopes.includes(scope) || (scope === METRICS_SCOPE && scopes.includes(ADMIN_SCOPE));
}

const NAME = /^[a-z0-9](?:[a-z0-9._-]{0,252})$/i;

/** What {@link validateScope} checks agents and capabilities against. */
export interface ScopeCatalog {
  /** Capabilities of each known agent. */
  capabilities(agent: string): readonly string[] | undefined;
  /** Every known agent. */
  agents(): readonly string[];
}

/**
 * Checks one scope of a managed key: the explicit forms only (`agent:cap`,
 * `agent:*`, `*:cap`, `*`, `admin`, `metrics`), naming agents and
 * capabilities that exist, so a typo is refused instead of silently
 * granting nothing. Returns an error message, or undefined when valid.
 */
export function validateScope(scope: string, catalog: ScopeCatalog): string | undefined {
  if (scope === "*" || scope === ADMIN_SCOPE || scope === METRICS_SCOPE) return undefined;
  const colon = scope.indexOf(":");
  if (colon < 0)
    return `"${scope}" is not a scope: use "agent:capability", "agent:*", "*:capability", "*", "admin" or "metrics"`;
  const [agent, capability] = [scope.slice(0, colon), scope.slice(colon + 1)];
  if (agent !== "*" && !NAME.test(agent)) return `"${agent}" is not an agent name`;
  if (capability !== "*" && !NAME.test(capability)) return `"${capability}" is not a capability name`;
  if (agent === "*") {
    if (capability === "*" || catalog.agents().some((a) => catalog.capabilities(a)?.includes(capability)))
      return undefined;
    return `no agent offers the capability "${capability}"`;
  }
  const offered = catalog.capabilities(agent);
  if (!offered) return `no agent is named "${agent}"`;
  if (capability !== "*" && !offered.includes(capability)) return `agent "${agent}" has no capability "${capability}"`;
  return undefined;
}
