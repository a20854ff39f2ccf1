/**
 * The deploy's pure parts: reading what wrangler prints (scripts/deploy/
 * wrangler-output.ts), the plan for an account holding part of what the
 * repository needs (scripts/deploy/plan.ts), and the generated config's
 * database ids (scripts/deploy/project.ts).
 */
import { describe, expect, it } from "vitest";
import { dashboardSecretNeeds } from "../../scripts/deploy-secrets";
import { type AccountState, planDeploy } from "../../scripts/deploy/plan";
import { readProject, readRawConfig, withDatabaseIds } from "../../scripts/deploy/project";
import { describeStep } from "../../scripts/deploy/report";
import {
  parseD1List,
  parseOutputFile,
  parsePagesSecrets,
  parseSecretList,
  queueMissing,
  workerMissing,
} from "../../scripts/deploy/wrangler-output";
import { ROOT } from "./harness";

describe("reading wrangler's output", () => {
  it("reads the JSON lists, even after a line of text", () => {
    expect(parseD1List(`note\n[{"uuid":"u1","name":"a","version":"production"},{"uuid":"u2","name":"b"}]`)).toEqual({
      a: "u1",
      b: "u2",
    });
    expect(parseSecretList(`[\n  {"name": "ADMIN_API_KEYS", "type": "secret_text"}\n]`)).toEqual(["ADMIN_API_KEYS"]);
    expect(() => parseD1List("✘ [ERROR] Not logged in")).toThrow("no JSON");
  });

  it("reads pages secret list's lines, colours and all", () => {
    const text = `The "\u001b[34mproduction\u001b[39m" environment of your Pages project "p" has access to the following secrets:\n  - SESSION_SECRET: \u001b[3mValue Encrypted\u001b[23m\n  - GATEWAY_ADMIN_KEY: Value Encrypted\n`;
    expect(parsePagesSecrets(text)).toEqual(["SESSION_SECRET", "GATEWAY_ADMIN_KEY"]);
  });

  it("tells a missing queue or Worker from any other failure", () => {
    expect(queueMissing('✘ [ERROR] Queue "q" does not exist. To create it, run: wrangler queues create q', "q")).toBe(
      true,
    );
    expect(queueMissing("✘ [ERROR] Authentication error [code: 10000]", "q")).toBe(false);
    expect(
      workerMissing(
        '✘ [ERROR] Worker "zahara-gateway" not found.\n\nIf this is a new Worker, run `wrangler deploy` first',
      ),
    ).toBe(true);
    expect(workerMissing("✘ [ERROR] A request to the Cloudflare API failed.")).toBe(false);
  });

  it("keeps the addresses of the output file, not the schedules and queues", () => {
    const lines = [
      { type: "wrangler-session", version: 1 },
      {
        type: "deploy",
        targets: [
          "https://g.example.workers.dev",
          "api.example.com/*",
          "schedule: 17 3 * * *",
          "Producer for q",
          "Consumer for q",
        ],
      },
      { type: "pages-deploy-detailed", url: "https://1.p.pages.dev", alias: "https://main.p.pages.dev" },
    ];
    expect(parseOutputFile(lines.map((l) => JSON.stringify(l)).join("\n"))).toEqual({
      addresses: ["https://g.example.workers.dev", "api.example.com/*"],
      pagesUrl: "https://1.p.pages.dev",
      pagesAlias: "https://main.p.pages.dev",
    });
  });
});

describe("the plan", () => {
  const project = readProject(ROOT);
  const allSecrets = Object.fromEntries(
    project.workers.map((w) => [w.service, w.secrets.filter((s) => s.required).map((s) => s.name)]),
  );
  const partly: AccountState = {
    databases: { "zahara-access": "id-access" },
    queues: [],
    workerSecrets: allSecrets,
    pagesProjects: ["zahara-dashboard"],
    pagesSecrets: project.pages.secrets.map((s) => s.name),
  };

  it("creates only what is missing, the databases before the queue, and deploys the gateway after the agents", () => {
    const plan = planDeploy(project, partly, { workers: {}, pages: [] }, ["--minify"]);
    const kinds = plan.steps.map((s) => s.kind);
    expect(plan.missing).toEqual([]);
    expect(plan.steps.filter((s) => s.kind === "create-d1").map((s) => describeStep(s).command)).toEqual([
      "wrangler d1 create zahara-request-log",
    ]);
    expect(kinds.indexOf("create-d1")).toBeLessThan(kinds.indexOf("create-queue"));
    expect(kinds).not.toContain("create-pages");
    const deploys = plan.steps.flatMap((s) => (s.kind === "deploy-worker" ? [s] : []));
    expect(deploys.map((s) => s.worker)).toEqual(project.workers.map((w) => w.name));
    expect(deploys.at(-1)?.command.args).toEqual(["deploy", "-c", "wrangler.deploy.json", "--minify"]);
    expect(kinds.slice(-2)).toEqual(["build-dashboard", "deploy-pages"]);
  });

  it("only required secrets stop it: SESSION_SECRET is optional with DASHBOARD_AUTH = access", () => {
    const pagesSecrets = ["GATEWAY_ADMIN_KEY", "GATEWAY_CALLER_KEY"];
    expect(
      planDeploy(project, { ...partly, pagesSecrets }, { workers: {}, pages: [] }).missing.map((s) => s.need.name),
    ).toEqual(["SESSION_SECRET"]);
    const access = { ...project, pages: { ...project.pages, secrets: dashboardSecretNeeds("access") } };
    const plan = planDeploy(access, { ...partly, pagesSecrets }, { workers: {}, pages: [] });
    expect(plan.missing).toEqual([]);
    expect(plan.steps.length).toBeGreaterThan(0);
  });

  it("writes the real ids into the generated config, and refuses a database without one", () => {
    const raw = readRawConfig(ROOT, "wrangler.toml");
    const ids = { "zahara-request-log": "id-log", "zahara-access": "id-access" };
    expect(
      withDatabaseIds(raw, ids).d1_databases?.map((d) => [d.database_name, d.database_id, d.migrations_dir]),
    ).toEqual([
      ["zahara-request-log", "id-log", "migrations/request-log"],
      ["zahara-access", "id-access", "migrations/access"],
    ]);
    expect(withDatabaseIds(raw, ids).main).toBe(raw.main);
    expect(() => withDatabaseIds(raw, { "zahara-access": "id-access" })).toThrow("zahara-request-log");
  });
});
