/**
 * The agents an isolate serves: the compiled-in ones, always, plus the
 * hosted ones as `ACCESS_DB` last said. A view `HOSTED_AGENTS_REFRESH_MS`
 * old (2 s) is reloaded (one small query for the heads; manifests only for
 * versions not yet cached): in the background while it is less than twice
 * that old, so under steady traffic no request waits for the store; after a
 * longer silence the first request waits for the load, and the isolate's
 * other requests with it. So a request never sees a view older than twice
 * the interval. A change made through this isolate is seen at once. When the store cannot be read, the last view is kept (a side
 * system's fault never fails a call) and the load is tried again after 1 s.
 *
 * A hosted agent whose name a compiled-in agent has taken since it was
 * uploaded is left out: the Worker wins, as it does at upload.
 */
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../../../shared/logger";
import type { ZaharaAgentManifest } from "../../../shared/manifest";
import { withTimeout } from "../../../shared/timeout";
import type { CallDeps } from "../calls/run-call";
import { AgentRegistry } from "../registry";
import type { IsolateLeases } from "../resilience/leases";
import { ResilienceCatalog } from "../resilience/plans";
import { resolveHostedConfig } from "./config";
import { type HostedPayload, setHostedPayload } from "./payload";
import { type HostedHead, readHeads, readManifests } from "./queries";

/** What routing needs: the registry and each agent's resilience settings, one consistent pair. */
export interface AgentsView {
  readonly registry: AgentRegistry;
  readonly catalog: ResilienceCatalog;
}

/** A hosted agent as loaded: its head and its manifest. */
interface Loaded {
  head: HostedHead;
  manifest: ZaharaAgentManifest;
  payload: string;
}

/** Longest wait on the store before a request goes on with the view it has. */
const LOAD_TIMEOUT_MS = 1000;
/** After a failed load, the next one is tried this much later. */
const RETRY_AFTER_FAILURE_MS = 1000;

/** The compiled-in and hosted agents of one isolate. */
export class AgentDirectory implements AgentsView {
  registry: AgentRegistry;
  catalog: ResilienceCatalog;
  private readonly compiledNames: ReadonlySet<string>;
  private hosted = new Map<string, Loaded>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;

  constructor(private readonly compiled: readonly ZaharaAgentManifest[]) {
    this.compiledNames = new Set(compiled.map((m) => m.metadata.name));
    this.registry = new AgentRegistry(compiled);
    this.catalog = new ResilienceCatalog(compiled);
  }

  /** True when `name` is an agent compiled into this gateway (a hosted agent may not take it). */
  isCompiled(name: string): boolean {
    return this.compiledNames.has(name);
  }

  /** What the call core reads, with this isolate's `leases`: the registry and catalog of the moment, read per request. */
  callDeps(leases: IsolateLeases): CallDeps {
    return new DirectoryDeps(this, leases);
  }

  /** Makes the next {@link refresh} reload (after a change through this isolate). */
  invalidate(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * Reloads the hosted agents when the view is `maxAgeMs` old or more; never throws. With `background` (a
   * `waitUntil`), a view less than twice `maxAgeMs` old is served while it reloads: only a request after a longer
   * silence waits for the store.
   */
  refresh(
    db: D1Database | undefined,
    now: number,
    maxAgeMs: number,
    logger?: Logger,
    background?: (loading: Promise<void>) => void,
  ): Promise<void> {
    const age = now - this.loadedAt;
    if (db === undefined || age < maxAgeMs) return Promise.resolve();
    this.loading ??= this.load(db, now, maxAgeMs, logger).finally(() => (this.loading = undefined));
    if (background && age < 2 * maxAgeMs) {
      background(this.loading);
      return Promise.resolve();
    }
    return this.loading;
  }

  private async load(db: D1Database, now: number, maxAgeMs: number, logger?: Logger): Promise<void> {
    try {
      await withTimeout(this.read(db, logger), LOAD_TIMEOUT_MS);
      this.loadedAt = now;
    } catch (err) {
      logger?.warn("hosted agents not reloaded; serving the last view", {
        error: err instanceof Error ? err.message : String(err),
      });
      this.loadedAt = now - maxAgeMs + RETRY_AFTER_FAILURE_MS;
    }
  }

  private async read(db: D1Database, logger?: Logger): Promise<void> {
    const heads = (await readHeads(db)).filter((h) => !this.compiledNames.has(h.name));
    const same = (h: HostedHead) => {
      const have = this.hosted.get(h.name)?.head;
      return have !== undefined && have.version === h.version && have.digest === h.digest;
    };
    const missing = heads.filter((h) => !same(h));
    const unchanged = missing.length === 0 && heads.length === this.hosted.size;
    if (unchanged) return;
    const texts = await readManifests(db, missing);
    const next = new Map<string, Loaded>();
    for (const head of heads) {
      const kept = same(head) ? this.hosted.get(head.name) : undefined;
      const loaded = kept ?? parseLoaded(head, texts.get(head.name), logger);
      if (loaded) next.set(head.name, loaded);
    }
    this.install(next);
  }

  /** Builds the registry and catalog of the compiled-in agents and `hosted`, and swaps them in together. */
  private install(hosted: Map<string, Loaded>): void {
    const manifests = [...this.compiled, ...[...hosted.values()].map((l) => l.manifest)];
    const registry = new AgentRegistry(manifests);
    for (const agent of registry.agents) {
      const loaded = hosted.get(agent.name);
      if (!loaded || this.compiledNames.has(agent.name)) continue;
      agent.hosted = { version: loaded.head.version };
      setHostedPayload(agent, loaded.payload);
    }
    this.hosted = hosted;
    this.registry = registry;
    this.catalog = new ResilienceCatalog(manifests, this.catalog);
  }
}

/** {@link CallDeps} that read the directory's registry and catalog when asked (a reload swaps both together). */
class DirectoryDeps implements CallDeps {
  constructor(
    private readonly directory: AgentsView,
    readonly leases: IsolateLeases,
  ) {}

  get registry(): AgentRegistry {
    return this.directory.registry;
  }

  get catalog(): ResilienceCatalog {
    return this.directory.catalog;
  }
}

/** A stored manifest as served; undefined (and logged) when it is gone or unreadable. */
function parseLoaded(head: HostedHead, text: string | undefined, logger?: Logger): Loaded | undefined {
  if (text === undefined) return undefined;
  try {
    const manifest = JSON.parse(text) as ZaharaAgentManifest;
    const payload: HostedPayload = { name: head.name, version: head.version, digest: head.digest, manifest };
    return { head, manifest, payload: JSON.stringify(payload) };
  } catch {
    logger?.error("a stored hosted manifest is not JSON; the agent is left out", { agent: head.name });
    return undefined;
  }
}

/** Middleware: brings the directory up to date (see {@link AgentDirectory}) before the request runs. */
export function refreshAgents(directory: AgentDirectory): MiddlewareHandler<{ Bindings: Env }> {
  return async function refreshAgents(c, next) {
    const { refreshMs } = resolveHostedConfig(c.env);
    const background = (p: Promise<void>) => c.executionCtx.waitUntil(p);
    await directory.refresh(c.env.ACCESS_DB, Date.now(), refreshMs, c.get("logger"), background);
    await next();
  };
}
