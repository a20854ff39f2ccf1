/**
 * `npm run agent:new -- <name>`: scaffolds a new agent. Writes the manifest
 * `manifests/<name>.ossa.yaml` (OSSA v0.3.1 with the built-in `echo`
 * capability, binding `AGENT_<NAME>`, service `zahara-<name>`, the next free
 * dev port), the Worker folder `workers/<name>/` (its entry on the shared
 * runtime, a wrangler config and tsconfig like agent-custom's) and the
 * gateway's `[[services]]` binding in the root wrangler.toml; then compiles
 * the manifests (the gateway routes to every compiled manifest) and
 * regenerates the new Worker's and the gateway's `worker-configuration.d.ts`.
 * Everything else (dev, build, deploy, bench, soak, the tests, the
 * typecheck) finds the agent through the list of Workers derived from the
 * manifests (scripts/lib/workers.ts). Nothing is written unless every check
 * passes first.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateTypes } from "./lib/worker-types.ts";
import { type WorkerEntry, agentWorkers, gatewayWorker, nextDevPort } from "./lib/workers.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const USAGE =
  "usage: npm run agent:new -- <name>   (lowercase letters, digits and single hyphens, 3-40 characters, starting with a letter)";
/** The agent whose wrangler config and tsconfig a new agent starts from (the plain one: no handlers, no chaos). */
const TEMPLATE_AGENT = "agent-custom";

/** Why `name` cannot be a new agent's name, or undefined. */
function nameProblem(name: string, existing: readonly WorkerEntry[], repo: string): string | undefined {
  if (name.length < 3 || name.length > 40) return `"${name}" must be 3 to 40 characters long`;
  // A letter first and single hyphens: a DNS-1123 name that also makes a valid module name in workers/generated.
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(name))
    return `"${name}" must be lowercase letters, digits and single hyphens, starting with a letter`;
  if (existsSync(path.join(repo, "manifests", `${name}.ossa.yaml`)) || existing.some((a) => a.name === name))
    return `an agent named "${name}" already exists (manifests/)`;
  if (existsSync(path.join(repo, "workers", name))) return `workers/${name}/ already exists`;
  return undefined;
}

/** `agent-third` → `AGENT_THIRD`, `billing` → `AGENT_BILLING`. */
function bindingOf(name: string): string {
  return `AGENT_${name
    .replace(/^agent-/, "")
    .replaceAll("-", "_")
    .toUpperCase()}`;
}

/** `agent-third` → `Agent Third`. */
function displayName(name: string): string {
  return name
    .split("-")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(" ");
}

function manifestText(name: string, binding: string, service: string, devPort: number): string {
  const display = displayName(name);
  return `# ${name}: scaffolded by \`npm run agent:new\`; served by the shared agent runtime from
# workers/${name}/. Give it its capabilities, limits and branding, then run
# \`npm run manifests:check\`. OSSA v0.3.1; Zahara's own settings live under extensions.zahara.
apiVersion: ossa/v0.3.1
kind: Agent
metadata:
  name: ${name}
  version: 0.1.0
  description: ${display}, a Zahara agent.
  labels:
    app.kubernetes.io/part-of: zahara
spec:
  # The system prompt of every capability that runs on spec.llm.
  role: |
    You are ${display}. You answer precisely and briefly, and you always answer
    in the exact JSON format you are asked for.
  llm:
    provider: \${LLM_PROVIDER:-openai}
    model: \${LLM_MODEL:-gpt-4o-mini}
    temperature: 0.2
    maxTokens: 512
  tools:
    # Built into the runtime: returns its parameters unchanged.
    - type: function
      name: echo
      description: Returns its parameters unchanged.
      input_schema:
        type: object
      output_schema:
        type: object
    # A capability with no built-in or code handler runs on spec.llm, for example:
    # - type: function
    #   name: summarize
    #   description: Summarizes a text in a few sentences.
    #   input_schema:
    #     type: object
    #     required: [text]
    #     properties:
    #       text: { type: string, minLength: 1, maxLength: 20000 }
    #   output_schema:
    #     type: object
    #     required: [summary]
    #     properties:
    #       summary: { type: string }
  constraints:
    cost:
      maxTokensPerDay: 100000
    performance:
      maxConcurrentRequests: 20
      timeoutSeconds: 30
  safety:
    rate_limiting:
      enabled: true
      requests_per_minute: 300
      burst_limit: 20
extensions:
  zahara:
    binding: ${binding}
    service: ${service}
    dev_port: ${devPort}
    branding:
      display_name: ${display}
      theme: zahara
      show_logo: true
`;
}

function entryText(name: string): string {
  return `/** ${name} Worker: the shared agent runtime serving its compiled manifest. */
import manifest from "../../generated/manifests/${name}";
import { createAgentWorker } from "../../agent-runtime/src";

export { IdempotencyStore } from "../../../durable-objects/idempotency-store/src";

export default createAgentWorker<Env>({ manifest }) satisfies ExportedHandler<Env>;
`;
}

/** The template agent's wrangler config with the new name, service and dev port. */
function wranglerText(template: WorkerEntry, name: string, service: string, devPort: number): string {
  const text = readFileSync(path.join(root, template.config), "utf8")
    .replace(/^name = ".*"$/m, `name = "${service}"`)
    .replace(/^(\[dev\]\nport = )\d+$/m, `$1${devPort}`)
    .replaceAll(template.name, name);
  if (!text.includes(`name = "${service}"\n`) || !text.includes(`port = ${devPort}\n`)) {
    throw new Error(`${template.config} has no name = "…" or [dev] port line to replace`);
  }
  return text;
}

/** The root wrangler.toml with a `[[services]]` entry for the agent after the last one (or at the end). */
function withService(toml: string, binding: string, service: string): string {
  const entry = `[[services]]\nbinding = "${binding}"\nservice = "${service}"\n`;
  const last = toml.lastIndexOf("[[services]]\n");
  if (last === -1) return `${toml.trimEnd()}\n\n${entry}`;
  const end = toml.indexOf("\n\n", last);
  return end === -1 ? `${toml.trimEnd()}\n\n${entry}` : `${toml.slice(0, end + 1)}\n${entry}${toml.slice(end + 1)}`;
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}

async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  if (name === undefined || argv.length > 1 || name.startsWith("-")) {
    console.error(USAGE);
    return 2;
  }
  const agents = agentWorkers(root);
  const problem = nameProblem(name, agents, root);
  if (problem) {
    console.error(`agent:new: ${problem}\n${USAGE}`);
    return 2;
  }
  const binding = bindingOf(name);
  const service = `zahara-${name}`;
  const gatewayToml = readFileSync(path.join(root, "wrangler.toml"), "utf8");
  const clash =
    agents.find((a) => a.binding === binding || a.service === service)?.manifest ??
    (new RegExp(`^(?:binding|name) = "${binding}"$`, "m").test(gatewayToml)
      ? `wrangler.toml (a binding named ${binding})`
      : undefined);
  if (clash) {
    console.error(
      `agent:new: binding ${binding} or service ${service} is already used by ${clash}; choose another name`,
    );
    return 2;
  }
  const template = agents.find((a) => a.name === TEMPLATE_AGENT) ?? agents[0];
  if (!template) {
    console.error(`agent:new: no agent Worker to copy the wrangler config from (workers/${TEMPLATE_AGENT}/)`);
    return 1;
  }
  const devPort = nextDevPort(agents.map((a) => a.devPort));
  const dir = `workers/${name}`;
  // Everything is built in memory first, so a problem found here leaves nothing half-written.
  const files: [string, string][] = [
    [`manifests/${name}.ossa.yaml`, manifestText(name, binding, service, devPort)],
    [`${dir}/src/index.ts`, entryText(name)],
    [`${dir}/wrangler.toml`, wranglerText(template, name, service, devPort)],
    [`${dir}/tsconfig.json`, readFileSync(path.join(root, template.dir, "tsconfig.json"), "utf8")],
    ["wrangler.toml", withService(gatewayToml, binding, service)],
  ];
  for (const [file, text] of files) write(file, text);

  const agent = agentWorkers(root).find((a) => a.name === name);
  if (!agent) {
    console.error(`agent:new: manifests/${name}.ossa.yaml is written but the list of Workers does not show it`);
    return 1;
  }
  try {
    // The gateway routes to every compiled manifest (workers/generated/), and the new Worker imports its own.
    execFileSync(path.join(root, "node_modules", ".bin", "tsx"), ["scripts/manifests-compile.ts"], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
    });
  } catch {
    console.error(
      "agent:new: the files are written, but compiling the manifests failed (above); fix it, then run npm run manifests:compile and npm run types",
    );
    return 1;
  }
  try {
    await generateTypes(root, [agent, gatewayWorker()]);
  } catch (error) {
    console.error(
      `agent:new: the files are written, but ${error instanceof Error ? error.message : String(error)}\nFix it, then run npm run types.`,
    );
    return 1;
  }
  report(agent);
  return 0;
}

/** Says what was written and what comes next. */
function report(agent: WorkerEntry): void {
  const created = [
    agent.manifest,
    `${agent.dir}/src/index.ts`,
    agent.config,
    `${agent.dir}/tsconfig.json`,
    `${agent.dir}/worker-configuration.d.ts`,
  ];
  console.log(`agent:new: ${agent.name} (binding ${agent.binding}, service ${agent.service}, dev port ${agent.devPort})
created:
${created.map((f) => `  ${f}`).join("\n")}
updated:
  wrangler.toml  ([[services]] ${agent.binding} → ${agent.service})
  workers/gateway/worker-configuration.d.ts
  workers/generated/  (npm run manifests:compile)

Next steps:
  1. Give it its capabilities in ${agent.manifest} (echo is built in; a capability with no
     handler runs on spec.llm; code handlers go to createAgentWorker in ${agent.dir}/src/index.ts),
     then run npm run manifests:check.
  2. npm run dev: the agent on http://localhost:${agent.devPort}, called through the gateway with
     POST http://localhost:8000/agents/${agent.name}/execute (a key's scopes name it as ${agent.name}:<task>).
  3. Capabilities on spec.llm need LLM_API_KEY: ${agent.dir}/.dev.vars locally,
     \`wrangler secret put LLM_API_KEY -c ${agent.config}\` once deployed.
  4. npm run typecheck && npm test, then npm run deploy (it deploys every Worker of the list).`);
}

process.exitCode = await main(process.argv.slice(2));
