/**
 * What `npm run deploy` prints, pure: the plan (the lookups, the secrets and
 * where each stands, the ordered steps with their commands), the message
 * that stops a deploy missing a required secret (each secret and the command
 * that sets it), and the addresses the deploys reported.
 */
import type { Command, Plan, SecretStatus, Step } from "./plan";

/** A command as the operator would type it. */
export function commandText(command: Command): string {
  const line = [command.program, ...command.args].join(" ");
  return command.cwd ? `(in ${command.cwd}/) ${line}` : line;
}

function ifMissing(on: boolean): string {
  return on ? ", if missing" : "";
}

/** One step: what it does, and its command. */
export function describeStep(step: Step): { what: string; command: string } {
  switch (step.kind) {
    case "create-d1":
      return {
        what: `create the D1 database ${step.database}${ifMissing(step.ifMissing)}`,
        command: commandText(step.command),
      };
    case "create-queue":
      return { what: `create the queue ${step.queue}${ifMissing(step.ifMissing)}`, command: commandText(step.command) };
    case "write-config":
      return {
        what: `write ${step.to}: ${step.from} with the ids of ${step.databases.join(", ")} (removed after the deploy)`,
        command: "(no command)",
      };
    case "migrate":
      return { what: `apply the remote migrations of ${step.database}`, command: commandText(step.command) };
    case "deploy-worker": {
      const secrets = step.secrets.length > 0 ? ` --secrets-file <temporary file: ${step.secrets.join(", ")}>` : "";
      return { what: `deploy ${step.worker}`, command: commandText(step.command) + secrets };
    }
    case "build-dashboard":
      return { what: "build the dashboard", command: commandText(step.command) };
    case "create-pages":
      return {
        what: `create the Pages project ${step.project}${ifMissing(step.ifMissing)}`,
        command: commandText(step.command),
      };
    case "pages-secrets":
      return {
        what: `upload the dashboard's handed-over secrets (${step.secrets.join(", ")})`,
        command: `${commandText(step.command)} <temporary file>`,
      };
    case "deploy-pages":
      return { what: `deploy the Pages project ${step.project}`, command: commandText(step.command) };
  }
}

const STATE_TEXT: Record<SecretStatus["state"], string> = {
  set: "set",
  "handed over": "handed over (uploaded by this deploy)",
  missing: "not set",
  unknown: "checked at deploy",
};

function pad(text: string, width: number): string {
  return text.padEnd(width);
}

/** The secrets, one line each: target, name, required or optional, state, purpose. */
export function describeSecrets(secrets: readonly SecretStatus[]): string[] {
  const t = Math.max(...secrets.map((s) => s.target.length));
  const n = Math.max(...secrets.map((s) => s.need.name.length));
  return secrets.map((s) => {
    const state = s.state === "missing" && s.need.required ? "MISSING" : STATE_TEXT[s.state];
    return `  ${pad(s.target, t)}  ${pad(s.need.name, n)}  ${pad(s.need.required ? "required" : "optional", 8)}  ${state}: ${s.need.purpose}`;
  });
}

/** The plan as printed before a deploy, or for `--dry-run` (with the lookups it would start with). */
export function describePlan(plan: Plan, lookups?: readonly Command[]): string {
  const out: string[] = [];
  if (lookups) {
    out.push("Dry run: nothing is called. A deploy first looks up, read-only (needs a Cloudflare login):");
    for (const c of lookups)
      out.push(
        `  ${commandText(c)}${c.args[0] === "pages" && c.args[1] === "secret" ? "   (if the project exists)" : ""}`,
      );
    out.push("");
  }
  out.push("Secrets (a required one neither set nor handed over stops the deploy before anything changes):");
  out.push(...describeSecrets(plan.secrets), "");
  out.push(lookups ? "Then:" : "Plan:");
  if (plan.steps.length === 0) out.push("  nothing: required secrets are missing");
  plan.steps.forEach((step, i) => {
    const { what, command } = describeStep(step);
    out.push(`  ${String(i + 1).padStart(2)}. ${what}`, `      ${command}`);
  });
  return out.join("\n");
}

/** The message of a deploy stopped by missing secrets: each one, and how to set it. */
export function describeMissing(missing: readonly SecretStatus[]): string {
  const out = ["Stopped before changing anything: required secrets are missing."];
  for (const s of missing) {
    out.push(`  ${s.target} needs ${s.need.name}: ${s.need.purpose}`);
    if (!s.exists) out.push(`    not deployed yet: hand it to this deploy (below)`);
    else if (s.kind === "worker")
      out.push(`    npx wrangler secret put ${s.need.name} -c ${s.config ?? "wrangler.toml"}`);
    else out.push(`    npx wrangler pages secret put ${s.need.name} --project-name ${s.target}`);
  }
  out.push(
    "Or hand them to the deploy, which uploads them: NAME=value npm run deploy, or npm run deploy -- --secrets-file <dotenv file>",
    "(gateway and dashboard secrets only; see docs/deploy.md).",
  );
  return out.join("\n");
}

/** Where each deployed target answers, as wrangler reported it. */
export interface Deployed {
  name: string;
  addresses: string[];
  /** Why there is no address, when none is expected. */
  note?: string;
}

export function describeDeployed(deployed: readonly Deployed[]): string {
  const w = Math.max(...deployed.map((d) => d.name.length));
  const lines = deployed.map(
    (d) =>
      `  ${pad(d.name, w)}  ${d.addresses.length > 0 ? d.addresses.join("  ") : (d.note ?? "no address reported")}`,
  );
  return ["Deployed:", ...lines].join("\n");
}
