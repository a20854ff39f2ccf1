/**
 * The one list of Zahara's Workers, derived from the manifests: one agent
 * Worker per `manifests/<name>.ossa.yaml` (its folder `workers/<name>/`, its
 * wrangler config there, its service binding, wrangler service name and dev
 * port from the manifest's `extensions.zahara`), the one hosted-agent Worker
 * (`workers/agent-hosted/`, port 3000: it serves every agent uploaded at
 * runtime), then the gateway (the root `wrangler.toml`, port 8000). Dev, build, deploy, bench, soak, the test
 * setup, `npm run types` and the typecheck all read it, so adding an agent
 * is adding a manifest and its folder (`npm run agent:new`).
 *
 * Node only (scripts and test setup); it reads the manifests with `yaml`,
 * without validating them (`npm run manifests:check` does).
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

/** The gateway's dev port and inspector port; agents get theirs from the manifest (inspector: 9231 upward). */
export const GATEWAY_DEV_PORT = 8000;
const GATEWAY_INSPECTOR_PORT = 9230;
const FIRST_AGENT_INSPECTOR_PORT = 9231;
/** The hosted-agent Worker's dev port. */
export const HOSTED_DEV_PORT = 3000;
/** Ports an agent's dev_port must not take: the hosted Worker's, the gateway's and the dashboard's (`npm run dev`). */
export const RESERVED_DEV_PORTS: readonly number[] = [HOSTED_DEV_PORT, GATEWAY_DEV_PORT, 8788];
/** The first agent dev port (agent-demo's). */
const FIRST_AGENT_DEV_PORT = 3001;

/** One Worker. Paths are relative to the repository root. */
export interface WorkerEntry {
  /** `agent-demo`, …, `gateway`: the folder under dist/ and the log prefix. */
  name: string;
  kind: "agent" | "gateway";
  /** Its wrangler config. */
  config: string;
  /** Its folder (where its tsconfig and generated Env live). */
  dir: string;
  /** Its wrangler service name (`zahara-agent-demo`, `zahara-gateway`). */
  service: string;
  devPort: number;
  inspectorPort: number;
  /** An agent's service-binding name on the gateway (`AGENT_DEMO`) and its manifest (none for the hosted Worker). */
  binding?: string;
  manifest?: string;
}

interface ZaharaExtension {
  binding?: unknown;
  service?: unknown;
  dev_port?: unknown;
}

/**
 * The agent Workers, one per manifest, sorted by name. A manifest without
 * `extensions.zahara` is skipped. An agent without `dev_port` gets the next
 * port after the highest one set; inspector ports go up from 9231 in dev-port
 * order (agent-demo 9231, agent-custom 9232, as before the list existed).
 */
export function agentWorkers(root: string): WorkerEntry[] {
  const dir = path.join(root, "manifests");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".ossa.yaml"))
    .sort();
  const agents: WorkerEntry[] = [];
  const unset: WorkerEntry[] = [];
  files.forEach((file) => {
    const doc = parse(readFileSync(path.join(dir, file), "utf8")) as {
      metadata?: { name?: unknown };
      extensions?: { zahara?: ZaharaExtension };
    };
    const name = typeof doc?.metadata?.name === "string" ? doc.metadata.name : file.replace(/\.ossa\.yaml$/, "");
    const zahara = doc?.extensions?.zahara;
    if (!zahara || typeof zahara.binding !== "string") return;
    const agent: WorkerEntry = {
      name,
      kind: "agent",
      config: `workers/${name}/wrangler.toml`,
      dir: `workers/${name}`,
      service: typeof zahara.service === "string" ? zahara.service : `zahara-${name}`,
      devPort: typeof zahara.dev_port === "number" ? zahara.dev_port : 0,
      inspectorPort: 0,
      binding: zahara.binding,
      manifest: `manifests/${file}`,
    };
    agents.push(agent);
    if (agent.devPort === 0) unset.push(agent);
  });
  for (const agent of unset) agent.devPort = nextDevPort(agents.map((a) => a.devPort));
  [...agents]
    .sort((a, b) => a.devPort - b.devPort || a.name.localeCompare(b.name))
    .forEach((agent, i) => (agent.inspectorPort = FIRST_AGENT_INSPECTOR_PORT + i));
  return agents;
}

/** The next free agent dev port: one above the highest in `taken` (3001 at least), skipping the reserved ones. */
export function nextDevPort(taken: readonly number[]): number {
  let port = Math.max(FIRST_AGENT_DEV_PORT - 1, ...taken) + 1;
  while (RESERVED_DEV_PORTS.includes(port) || taken.includes(port)) port++;
  return port;
}

/**
 * The hosted-agent Worker: an agent Worker (kind `agent`) without a manifest of its own; the gateway sends it the
 * manifest of the hosted agent with each call. Its inspector port follows the agents'.
 */
export function hostedWorker(agentCount: number): WorkerEntry {
  return {
    name: "agent-hosted",
    kind: "agent",
    config: "workers/agent-hosted/wrangler.toml",
    dir: "workers/agent-hosted",
    service: "zahara-agent-hosted",
    devPort: HOSTED_DEV_PORT,
    inspectorPort: FIRST_AGENT_INSPECTOR_PORT + agentCount,
    binding: "AGENT_HOSTED",
  };
}

/** The Workers the gateway calls through service bindings: one per manifest, then the hosted-agent Worker. */
export function serviceWorkers(root: string): WorkerEntry[] {
  const agents = agentWorkers(root);
  return [...agents, hostedWorker(agents.length)];
}

/** The gateway Worker. */
export function gatewayWorker(): WorkerEntry {
  return {
    name: "gateway",
    kind: "gateway",
    config: "wrangler.toml",
    dir: "workers/gateway",
    service: "zahara-gateway",
    devPort: GATEWAY_DEV_PORT,
    inspectorPort: GATEWAY_INSPECTOR_PORT,
  };
}

/** Every Worker: the agents (sorted by name), the hosted-agent Worker, then the gateway: start and deploy order. */
export function listWorkers(root: string): WorkerEntry[] {
  return [...serviceWorkers(root), gatewayWorker()];
}
