/** The dependency audit's decision (scripts/audit-policy.ts) on npm audit's JSON, the allow list and the date. */
import { describe, expect, it } from "vitest";
import { decide, parseAudit } from "../../scripts/audit-policy";

const TODAY = "2026-12-02";

/** What `npm audit --json` (report version 2) prints for one advisory on hono and a package that depends on it. */
const VULNERABLE = JSON.stringify({
  auditReportVersion: 2,
  vulnerabilities: {
    hono: {
      name: "hono",
      severity: "high",
      isDirect: true,
      via: [
        {
          source: 1100001,
          name: "hono",
          dependency: "hono",
          title: "Path confusion in a router",
          url: "https://github.com/advisories/GHSA-aaaa-bbbb-cccc",
          severity: "high",
          range: "<4.13.20",
        },
      ],
      effects: ["some-wrapper"],
      range: "<4.13.20",
      nodes: ["node_modules/hono"],
      fixAvailable: true,
    },
    "some-wrapper": {
      name: "some-wrapper",
      severity: "high",
      isDirect: true,
      via: ["hono"],
      effects: [],
      range: "*",
      nodes: ["node_modules/some-wrapper"],
      fixAvailable: false,
    },
  },
  metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 2, critical: 0, total: 2 } },
});
const CLEAN = JSON.stringify({
  auditReportVersion: 2,
  vulnerabilities: {},
  metadata: { vulnerabilities: { total: 0 } },
});
/** What npm prints when the registry answers 405 to the bulk advisory POST (this machine's registry). */
const ENDPOINT_405 = JSON.stringify({
  message: "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
  statusCode: 405,
  body: "",
  error: { summary: "", detail: "" },
});

const exception = (overrides: Record<string, string> = {}) => ({
  package: "hono",
  advisory: "GHSA-aaaa-bbbb-cccc",
  reason: "we never use that router",
  review_by: "2027-01-31",
  ...overrides,
});

describe("npm audit decision", () => {
  it("clean: exit 0 and prints no vulnerabilities", () => {
    expect(decide(parseAudit(CLEAN, 0), [], TODAY, false)).toEqual({ exitCode: 0, lines: ["no vulnerabilities"] });
  });

  it("a finding: exit 1 naming package, severity, advisory title and path; a dependent package is not listed twice", () => {
    const audit = parseAudit(VULNERABLE, 1);
    expect(audit).toEqual({
      findings: [
        {
          package: "hono",
          severity: "high",
          title: "Path confusion in a router",
          advisory: "https://github.com/advisories/GHSA-aaaa-bbbb-cccc",
          path: "node_modules/hono",
        },
      ],
    });
    const decision = decide(audit, [], TODAY, false);
    expect(decision.exitCode).toBe(1);
    expect(decision.lines).toEqual([
      "vulnerable: hono  high  Path confusion in a router  https://github.com/advisories/GHSA-aaaa-bbbb-cccc  node_modules/hono",
    ]);
  });

  it("an exception naming the package and advisory (GHSA id, URL or numeric id) with a future review date passes", () => {
    for (const advisory of ["GHSA-aaaa-bbbb-cccc", "https://github.com/advisories/GHSA-aaaa-bbbb-cccc"]) {
      const decision = decide(parseAudit(VULNERABLE, 1), [exception({ advisory })], TODAY, false);
      expect(decision.exitCode).toBe(0);
      expect(decision.lines[0]).toMatch(/^excepted until 2027-01-31: hono .*\(we never use that router\)$/);
    }
    const noUrl = VULNERABLE.replace('"url":"https://github.com/advisories/GHSA-aaaa-bbbb-cccc",', "");
    expect(decide(parseAudit(noUrl, 1), [exception({ advisory: "1100001" })], TODAY, false).exitCode).toBe(0);
    // The review date itself still counts.
    expect(decide(parseAudit(VULNERABLE, 1), [exception({ review_by: TODAY })], TODAY, false).exitCode).toBe(0);
  });

  it("an exception for another package or advisory does not cover the finding", () => {
    expect(decide(parseAudit(VULNERABLE, 1), [exception({ package: "zod" })], TODAY, false).exitCode).toBe(1);
    expect(
      decide(parseAudit(VULNERABLE, 1), [exception({ advisory: "GHSA-zzzz-zzzz-zzzz" })], TODAY, false).exitCode,
    ).toBe(1);
  });

  it("an expired review date fails, even with nothing left to except", () => {
    const expired = decide(parseAudit(VULNERABLE, 1), [exception({ review_by: "2026-12-01" })], TODAY, false);
    expect(expired.exitCode).toBe(1);
    expect(expired.lines[0]).toMatch(/^expired exception: hono GHSA-aaaa-bbbb-cccc \(review by 2026-12-01\)/);
    expect(decide(parseAudit(CLEAN, 0), [exception({ review_by: "2026-12-01" })], TODAY, false).exitCode).toBe(1);
  });

  it("a malformed allow list fails, naming what is missing", () => {
    expect(decide(parseAudit(CLEAN, 0), { invalid: "not JSON" }, TODAY, false)).toEqual({
      exitCode: 1,
      lines: ["audit-exceptions.json must be a JSON array"],
    });
    const missing = decide(
      parseAudit(CLEAN, 0),
      [{ package: "hono", advisory: "GHSA-aaaa-bbbb-cccc", review_by: "31/01/2027" }],
      TODAY,
      false,
    );
    expect(missing).toEqual({ exitCode: 1, lines: ["exception 0: needs reason, review_by (YYYY-MM-DD)"] });
  });

  it("an unreachable advisories endpoint: exit 2 saying so, or 0 with AUDIT_OFFLINE_OK", () => {
    const audit = parseAudit(ENDPOINT_405, 1);
    expect(audit).toEqual({
      unavailable: "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
    });
    const strict = decide(audit, [], TODAY, false);
    expect(strict.exitCode).toBe(2);
    expect(strict.lines[0]).toBe(
      "audit endpoint unavailable: 405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk; not checked",
    );
    expect(decide(audit, [], TODAY, true)).toEqual({ exitCode: 0, lines: [strict.lines[0]] });
    expect(decide(parseAudit("", null), [], TODAY, false)).toEqual({
      exitCode: 2,
      lines: [
        "audit endpoint unavailable: npm audit exited null without a JSON report; not checked",
        "(set AUDIT_OFFLINE_OK=1 to accept this)",
      ],
    });
    expect(
      parseAudit(
        JSON.stringify({ error: { code: "ENOTFOUND", summary: "getaddrinfo ENOTFOUND registry.npmjs.org" } }),
        1,
      ),
    ).toEqual({ unavailable: "getaddrinfo ENOTFOUND registry.npmjs.org" });
  });
});
