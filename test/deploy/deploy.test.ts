/**
 * `npm run deploy` run whole against a stand-in wrangler on PATH (see
 * harness.ts): on a fresh account it creates both D1 databases, the queue
 * and the Pages project, writes the created ids into the generated config
 * that the migrations and the gateway's deploy read, and uploads the
 * handed-over secrets; on an account where everything exists it creates
 * nothing; a required secret neither set nor handed over stops it after the
 * read-only lookups, naming the secret and its command; a failing command
 * stops it; `--dry-run` and a refused secret call nothing at all.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeAccount } from "./fake-wrangler";
import { ROOT, agentDeploys, lookups, makeBin, runDeploy } from "./harness";
import { listWorkers } from "../../scripts/lib/workers";

const LONG = (c: string): string => c.repeat(40);
const GATEWAY_SECRETS = { GATEWAY_API_KEYS: LONG("g"), ADMIN_API_KEYS: LONG("a") };
const DASHBOARD_SECRETS = { GATEWAY_ADMIN_KEY: LONG("a"), GATEWAY_CALLER_KEY: LONG("g"), SESSION_SECRET: LONG("s") };
const SERVICES = listWorkers(ROOT).map((w) => w.service);

const fresh = (): FakeAccount => ({ databases: [], queues: [], workers: {}, pages: {} });
const existing = (): FakeAccount => ({
  databases: [
    { name: "zahara-request-log", uuid: "5f0c3c0e-0000-4000-8000-000000000001" },
    { name: "zahara-access", uuid: "5f0c3c0e-0000-4000-8000-000000000002" },
    { name: "someone-elses-db", uuid: "5f0c3c0e-0000-4000-8000-000000000003" },
  ],
  queues: ["zahara-request-log"],
  workers: Object.fromEntries(
    SERVICES.map((s) => [s, s === "zahara-gateway" ? Object.keys(GATEWAY_SECRETS) : ["LLM_API_KEY"]]),
  ),
  pages: { "zahara-dashboard": Object.keys(DASHBOARD_SECRETS) },
});

const MIGRATIONS = [
  "wrangler d1 migrations apply zahara-request-log --remote -c wrangler.deploy.json",
  "wrangler d1 migrations apply zahara-access --remote -c wrangler.deploy.json",
];
const PAGES_DEPLOY =
  "(in dashboard/) wrangler pages deploy dist --project-name zahara-dashboard --branch main --commit-dirty=true";

let bin: string;
let secretsFile: string;
beforeAll(() => {
  bin = makeBin();
  secretsFile = path.join(mkdtempSync(path.join(tmpdir(), "zahara-secrets-")), "prod.secrets");
  writeFileSync(
    secretsFile,
    Object.entries({ ...GATEWAY_SECRETS, ...DASHBOARD_SECRETS })
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
  );
});
afterAll(() => {
  rmSync(bin, { recursive: true, force: true });
  rmSync(path.dirname(secretsFile), { recursive: true, force: true });
});

describe.concurrent("npm run deploy against a stand-in wrangler", () => {
  it("on a fresh account creates the databases, the queue and the Pages project, and deploys in order", async () => {
    const run = await runDeploy(bin, fresh(), ["--secrets-file", secretsFile]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([
      ...lookups(false),
      "wrangler d1 create zahara-request-log",
      "wrangler d1 create zahara-access",
      "wrangler queues create zahara-request-log",
      "wrangler d1 list --json",
      ...MIGRATIONS,
      ...agentDeploys(),
      "wrangler deploy -c wrangler.deploy.json --secrets-file <file>",
      "vite build -c dashboard/vite.config.ts",
      "(in dashboard/) wrangler pages project create zahara-dashboard --production-branch main",
      "(in dashboard/) wrangler pages secret bulk --project-name zahara-dashboard <file>",
      PAGES_DEPLOY,
    ]);
    // The ids the creates returned reached the migrations and the gateway's deploy.
    const ids = Object.fromEntries(run.account.databases.map((d) => [d.name, d.uuid]));
    for (const call of run.raw.filter((c) => c.args.includes("wrangler.deploy.json")))
      expect(call.databaseIds).toEqual(ids);
    const gateway = run.raw.find((c) => c.args[0] === "deploy" && c.args.includes("--secrets-file"));
    expect(gateway?.secretNames).toEqual(Object.keys(GATEWAY_SECRETS));
    expect(gateway?.secretsMode).toBe("600");
    expect(run.raw.find((c) => c.args[2] === "bulk")?.secretNames).toEqual(Object.keys(DASHBOARD_SECRETS));
    expect(run.account.queues).toEqual(["zahara-request-log"]);
    expect(run.account.pages["zahara-dashboard"]).toEqual(Object.keys(DASHBOARD_SECRETS));
    expect(run.stdout).toContain("https://zahara-gateway.fake.workers.dev");
    expect(run.stdout).toContain("https://0a1b2c3d.zahara-dashboard.pages.dev");
    expect(run.stdout).not.toContain(LONG("s"));
    expect(existsSync(path.join(run.root, "wrangler.deploy.json"))).toBe(false);
  });

  it("on an account where everything exists creates nothing, migrates and deploys in order", async () => {
    const run = await runDeploy(bin, existing(), []);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([
      ...lookups(true),
      ...MIGRATIONS,
      ...agentDeploys(),
      "wrangler deploy -c wrangler.deploy.json",
      "vite build -c dashboard/vite.config.ts",
      PAGES_DEPLOY,
    ]);
    for (const call of run.raw.filter((c) => c.args.includes("wrangler.deploy.json"))) {
      expect(call.databaseIds).toEqual({
        "zahara-request-log": "5f0c3c0e-0000-4000-8000-000000000001",
        "zahara-access": "5f0c3c0e-0000-4000-8000-000000000002",
      });
    }
    expect(run.stdout).toMatch(
      /dashboard\s+https:\/\/0a1b2c3d\.zahara-dashboard\.pages\.dev {2}https:\/\/main\.zahara-dashboard\.pages\.dev/,
    );
    expect(run.stdout).toMatch(/agent-\S+\s+no public address/);
  });

  it("stops after the lookups, naming each missing required secret and how to set it", async () => {
    const account = existing();
    account.workers["zahara-gateway"] = ["GATEWAY_API_KEYS"];
    account.pages["zahara-dashboard"] = ["GATEWAY_ADMIN_KEY", "GATEWAY_CALLER_KEY"];
    const run = await runDeploy(bin, account, []);
    expect(run.code).toBe(1);
    expect(run.calls).toEqual(lookups(true));
    expect(run.stderr).toContain("Stopped before changing anything: required secrets are missing.");
    expect(run.stderr).toContain("zahara-gateway needs ADMIN_API_KEYS");
    expect(run.stderr).toContain("npx wrangler secret put ADMIN_API_KEYS -c wrangler.toml");
    expect(run.stderr).toContain("zahara-dashboard needs SESSION_SECRET");
    expect(run.stderr).toContain("npx wrangler pages secret put SESSION_SECRET --project-name zahara-dashboard");
    expect(run.stderr).not.toContain("METRICS_SCRAPE_TOKEN");
  });

  it("on a fresh account without handed-over secrets stops before creating anything", async () => {
    const run = await runDeploy(bin, fresh(), [], { ADMIN_API_KEYS: LONG("a") });
    expect(run.code).toBe(1);
    expect(run.calls).toEqual(lookups(false));
    expect(run.stderr).toContain("zahara-gateway needs GATEWAY_API_KEYS");
    expect(run.stderr).not.toContain("needs ADMIN_API_KEYS");
    expect(run.stderr).toContain("not deployed yet: hand it to this deploy");
    expect(run.account).toEqual(fresh());
  });

  it("a failing command stops the deploy and removes the generated config", async () => {
    const run = await runDeploy(bin, { ...existing(), failing: "deploy" }, []);
    expect(run.code).toBe(1);
    expect(run.calls).toEqual([...lookups(true), ...MIGRATIONS, agentDeploys()[0]]);
    expect(run.stderr).toContain(`Deploy failed: ${agentDeploys()[0]} failed (exit 1)`);
    expect(existsSync(path.join(run.root, "wrangler.deploy.json"))).toBe(false);
  });

  it("--dry-run prints the plan and calls nothing", async () => {
    const run = await runDeploy(bin, fresh(), ["--dry-run"]);
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([]);
    expect(run.stdout).toContain("Dry run: nothing is called.");
    for (const line of [
      ...lookups(true),
      "wrangler d1 create zahara-access",
      "create the Pages project zahara-dashboard, if missing",
      PAGES_DEPLOY,
    ]) {
      expect(run.stdout).toContain(line);
    }
    expect(run.stdout).toMatch(/zahara-gateway\s+ADMIN_API_KEYS\s+required/);
    expect(run.stdout).toMatch(/zahara-gateway\s+METRICS_SCRAPE_TOKEN\s+optional/);
  });

  it("refuses a development secret before any call", async () => {
    const run = await runDeploy(bin, fresh(), [], { ADMIN_API_KEYS: "zahara-dev-admin-key" });
    expect(run.code).toBe(1);
    expect(run.calls).toEqual([]);
    expect(run.stderr).toContain("ADMIN_API_KEYS holds a development value");
  });
});
