/**
 * The decision of `scripts/audit.ts`, pure: the JSON that `npm audit --omit=dev --json`
 * printed (and its exit code), the allow list `audit-exceptions.json` and today's date in,
 * an exit code and the lines to print out. No I/O, so test/security/audit.test.ts runs it.
 *
 * Exit codes: 0 clean (or every finding excepted, or the endpoint was unavailable and
 * `offlineOk`), 1 findings not excepted / an expired or malformed exception, 2 the
 * advisories endpoint could not be asked (npm printed no report) and not `offlineOk`.
 *
 * An exception: `{ "package": "name", "advisory": "GHSA-… | https://github.com/advisories/GHSA-… | 1234567",
 * "reason": "why it does not apply to us", "review_by": "YYYY-MM-DD" }`. It covers the findings of
 * that package and advisory until `review_by` (inclusive); after that it fails the audit.
 */

/** One advisory that applies to one installed package. */
export interface Finding {
  package: string;
  severity: string;
  title: string;
  /** The advisory's URL (GitHub advisory database), or its numeric id when npm gave no URL. */
  advisory: string;
  /** Where it is installed (`node_modules/…`), comma-separated when there are several copies. */
  path: string;
}

/** One entry of `audit-exceptions.json`. */
export interface AuditException {
  package: string;
  advisory: string;
  reason: string;
  review_by: string;
}

/** What to do. */
export interface AuditDecision {
  exitCode: 0 | 1 | 2;
  lines: string[];
}

type Via = { source?: unknown; name?: unknown; title?: unknown; url?: unknown; severity?: unknown };
type Vulnerability = { name?: unknown; severity?: unknown; via?: unknown; nodes?: unknown };

/** The findings in an npm audit (report version 2) JSON, or a reason when it holds no report. */
export function parseAudit(stdout: string, exitCode: number | null): { findings: Finding[] } | { unavailable: string } {
  let json: {
    vulnerabilities?: Record<string, Vulnerability>;
    message?: unknown;
    error?: { code?: unknown; summary?: unknown };
  };
  try {
    json = JSON.parse(stdout) as typeof json;
  } catch {
    return { unavailable: `npm audit exited ${exitCode} without a JSON report` };
  }
  if (
    typeof json !== "object" ||
    json === null ||
    typeof json.vulnerabilities !== "object" ||
    json.vulnerabilities === null
  ) {
    const reason = [json?.message, json?.error?.summary, json?.error?.code].find(
      (r) => typeof r === "string" && r.trim() !== "",
    );
    return { unavailable: String(reason ?? `npm audit exited ${exitCode} without a report`) };
  }
  const findings: Finding[] = [];
  for (const [name, vuln] of Object.entries(json.vulnerabilities)) {
    const nodes = Array.isArray(vuln.nodes) ? vuln.nodes.map(String) : [];
    // Object entries are advisories against this package; string entries only name a vulnerable dependency.
    for (const via of Array.isArray(vuln.via) ? (vuln.via as unknown[]) : []) {
      if (typeof via !== "object" || via === null) continue;
      const v = via as Via;
      findings.push({
        package: typeof v.name === "string" ? v.name : name,
        severity: String(v.severity ?? vuln.severity ?? "unknown"),
        title: String(v.title ?? "(no title)"),
        advisory: typeof v.url === "string" && v.url ? v.url : String(v.source ?? "unknown"),
        path: nodes.join(", ") || name,
      });
    }
  }
  return { findings };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Problems with the allow list's shape (empty when it is usable). */
export function checkExceptions(value: unknown): string[] {
  if (!Array.isArray(value)) return ["audit-exceptions.json must be a JSON array"];
  return value.flatMap((e: unknown, i) => {
    const x = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
    const bad = ["package", "advisory", "reason", "review_by"].filter(
      (k) => typeof x[k] !== "string" || (x[k] as string).trim() === "",
    );
    if (typeof x.review_by === "string" && !DATE.test(x.review_by)) bad.push("review_by (YYYY-MM-DD)");
    return bad.length > 0 ? [`exception ${i}: needs ${bad.join(", ")}`] : [];
  });
}

/** True when `exception` names `finding`'s advisory: its URL, its GHSA id (the URL's last segment) or its numeric id. */
export function covers(exception: AuditException, finding: Finding): boolean {
  if (exception.package !== finding.package) return false;
  const ids = new Set([finding.advisory, finding.advisory.split("/").pop() ?? ""]);
  return ids.has(exception.advisory.trim());
}

/** The decision for one audit run. `today` is `YYYY-MM-DD` (UTC). */
export function decide(
  audit: { findings: Finding[] } | { unavailable: string },
  exceptions: unknown,
  today: string,
  offlineOk: boolean,
): AuditDecision {
  if ("unavailable" in audit) {
    const line = `audit endpoint unavailable: ${audit.unavailable}; not checked`;
    return {
      exitCode: offlineOk ? 0 : 2,
      lines: offlineOk ? [line] : [line, "(set AUDIT_OFFLINE_OK=1 to accept this)"],
    };
  }
  const problems = checkExceptions(exceptions);
  if (problems.length > 0) return { exitCode: 1, lines: problems };
  const list = exceptions as AuditException[];
  const lines: string[] = [];
  let failed = false;
  for (const e of list.filter((x) => x.review_by < today)) {
    failed = true;
    lines.push(
      `expired exception: ${e.package} ${e.advisory} (review by ${e.review_by}): review it, then move the date or remove it`,
    );
  }
  for (const f of audit.findings) {
    const excepted = list.find((e) => covers(e, f));
    const text = `${f.package}  ${f.severity}  ${f.title}  ${f.advisory}  ${f.path}`;
    if (excepted) lines.push(`excepted until ${excepted.review_by}: ${text} (${excepted.reason})`);
    else {
      failed = true;
      lines.push(`vulnerable: ${text}`);
    }
  }
  if (audit.findings.length === 0 && !failed) lines.push("no vulnerabilities");
  return { exitCode: failed ? 1 : 0, lines };
}
