/**
 * `npm run deploy`: deploys Zahara to the Cloudflare account of the current
 * wrangler login (CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, or
 * `wrangler login`), creating what is missing. First, before any call, it
 * checks the secrets handed over (scripts/deploy-secrets.ts: from the
 * environment or `--secrets-file <dotenv file>`; short bootstrap keys and
 * development values are refused). Then it looks up, read-only, the D1
 * databases, the Queues, each Worker's and the Pages project's secrets and
 * the Pages projects; stops, naming them, if a required secret is neither set
 * nor handed over; else creates the missing D1 databases and Queues, writes
 * each Worker's generated config with the real database ids, applies the
 * remote D1 migrations, deploys the agents, then the gateway (its service
 * bindings need them), builds the dashboard and deploys it to its Pages
 * project (created if missing), and prints the addresses wrangler reports.
 * The plan is in scripts/deploy/plan.ts, the running in scripts/deploy/execute.ts.
 *
 * `--dry-run` prints the plan and calls nothing. Other arguments go to the
 * Workers' `wrangler deploy`. ZAHARA_WRANGLER and ZAHARA_VITE name other
 * wrangler and vite programs (a path, or a name looked up on PATH), and
 * ZAHARA_DEPLOY_ROOT another checkout: the tests use them (test/deploy/).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  DASHBOARD_SECRETS,
  GATEWAY_SECRETS,
  developmentValues,
  parseDotenv,
  pickSecrets,
  secretProblems,
} from "./deploy-secrets";
import { type Tools, discover, execute } from "./deploy/execute";
import { type HandedOver, lookupCommands, planDeploy } from "./deploy/plan";
import { readProject } from "./deploy/project";
import { describeDeployed, describeMissing, describePlan } from "./deploy/report";

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const root = path.resolve(process.env.ZAHARA_DEPLOY_ROOT || here);

const args = process.argv.slice(2);
const dryRun = args.includes("--dry-run");
const deployArgs = args.filter((a) => a !== "--dry-run");
const fileAt = deployArgs.indexOf("--secrets-file");
const secretsFile = fileAt >= 0 ? deployArgs[fileAt + 1] : undefined;
if (fileAt >= 0) deployArgs.splice(fileAt, 2);
if (fileAt >= 0 && !secretsFile) {
  console.error("--secrets-file needs a path");
  process.exit(2);
}
const fromFile = secretsFile ? parseDotenv(readFileSync(path.resolve(secretsFile), "utf8")) : undefined;
const gatewaySecrets = pickSecrets(GATEWAY_SECRETS, process.env, fromFile);
const dashboardSecrets = pickSecrets(DASHBOARD_SECRETS, process.env, fromFile);
const problems = secretProblems({ ...gatewaySecrets, ...dashboardSecrets }, developmentValues(root));
if (problems.length > 0) {
  console.error(`Refusing to deploy:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(1);
}

const project = readProject(root);
const gateway = project.workers.find((w) => w.kind === "gateway");
const handed: HandedOver = {
  workers: gateway ? { [gateway.name]: Object.keys(gatewaySecrets) } : {},
  pages: Object.keys(dashboardSecrets),
};

if (dryRun) {
  console.log(describePlan(planDeploy(project, undefined, handed, deployArgs), lookupCommands(project)));
  process.exit(0);
}

const tools: Tools = {
  root,
  wrangler: process.env.ZAHARA_WRANGLER || path.join(here, "node_modules", ".bin", "wrangler"),
  vite: process.env.ZAHARA_VITE || path.join(here, "node_modules", ".bin", "vite"),
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
};

try {
  const account = await discover(tools, project);
  const plan = planDeploy(project, account, handed, deployArgs);
  console.log(`\n${describePlan(plan)}`);
  if (plan.missing.length > 0) {
    console.error(`\n${describeMissing(plan.missing)}`);
    process.exit(1);
  }
  const deployed = await execute(tools, project, plan, account, {
    workers: gateway ? { [gateway.name]: gatewaySecrets } : {},
    pages: dashboardSecrets,
  });
  console.log(`\n${describeDeployed(deployed)}`);
} catch (error) {
  console.error(`\nDeploy failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
