/**
 * Dependency audit of the production dependencies: `npx tsx scripts/audit.ts`.
 *
 * Runs `npm audit --omit=dev --json` and decides with scripts/audit-policy.ts:
 * - exit 0 and "no vulnerabilities" when npm reports none;
 * - exit 1 listing each finding (package, severity, advisory title and URL, installed path)
 *   unless `audit-exceptions.json` (repository root) lists it with a reason and a review-by
 *   date that has not passed; an expired or malformed exception also fails;
 * - when the advisories endpoint cannot be asked (npm prints no report: a registry that
 *   answers 405 to the bulk advisory POST, no network, …): "audit endpoint unavailable:
 *   <reason>; not checked", exit 0 only with AUDIT_OFFLINE_OK=1, else 2.
 *
 * audit-exceptions.json is a JSON array of
 *   { "package": "name", "advisory": "GHSA-xxxx-xxxx-xxxx" (or the advisory URL, or npm's numeric id),
 *     "reason": "why it does not affect Zahara", "review_by": "YYYY-MM-DD" }
 * See SECURITY.md, "Dependency audit".
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { decide, parseAudit } from "./audit-policy.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const exceptionsFile = `${root}audit-exceptions.json`;

function readExceptions(): unknown {
  if (!existsSync(exceptionsFile)) return [];
  try {
    return JSON.parse(readFileSync(exceptionsFile, "utf8")) as unknown;
  } catch (error) {
    return { invalid: String(error) };
  }
}

const run = spawnSync("npm", ["audit", "--omit=dev", "--json"], {
  cwd: root,
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
  timeout: 120_000,
});
const audit = run.error
  ? { unavailable: `npm could not run: ${run.error.message}` }
  : parseAudit(run.stdout, run.status);
const decision = decide(
  audit,
  readExceptions(),
  new Date().toISOString().slice(0, 10),
  process.env.AUDIT_OFFLINE_OK === "1",
);
for (const line of decision.lines) (decision.exitCode === 0 ? console.log : console.error)(line);
process.exit(decision.exitCode);
