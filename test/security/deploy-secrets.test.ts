/**
 * `npm run deploy`'s check of the secrets it is handed (scripts/deploy-secrets.ts):
 * short plaintext bootstrap keys, values committed in a `.dev.vars.example`
 * and a short `SESSION_SECRET` are refused before anything is deployed, and
 * no message quotes a value.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { developmentValues, parseDotenv, pickSecrets, secretProblems } from "../../scripts/deploy-secrets";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LONG = "k".repeat(40);

describe("deploy secrets", () => {
  it("refuses short bootstrap keys and development values, never quoting them", () => {
    const dev = developmentValues(ROOT);
    expect(dev.has("zahara-dev-admin-key")).toBe(true);
    const problems = secretProblems(
      {
        GATEWAY_API_KEYS: `${LONG}, short-key`,
        ADMIN_API_KEYS: "zahara-dev-admin-key",
        SESSION_SECRET: "tiny",
        METRICS_SCRAPE_TOKEN: `sha256:${"a".repeat(64)}`,
      },
      dev,
    );
    expect(problems).toEqual([
      "GATEWAY_API_KEYS has 1 plaintext key(s) shorter than 32 characters",
      "ADMIN_API_KEYS holds a development value from a .dev.vars.example",
      "ADMIN_API_KEYS has 1 plaintext key(s) shorter than 32 characters",
      "SESSION_SECRET is shorter than 32 bytes",
    ]);
    for (const p of problems)
      for (const value of ["short-key", "zahara-dev-admin-key", "tiny"]) expect(p).not.toContain(value);
    expect(secretProblems({ GATEWAY_API_KEYS: LONG, ADMIN_API_KEYS: `${LONG}x`, SESSION_SECRET: LONG }, dev)).toEqual(
      [],
    );
  });

  it("reads the secrets from a dotenv file when one is given, else from the environment", () => {
    const file = parseDotenv(`# comment\nGATEWAY_API_KEYS="${LONG}"\nUNRELATED=1\n\nADMIN_API_KEYS=${LONG}\n`);
    expect(
      pickSecrets(["GATEWAY_API_KEYS", "ADMIN_API_KEYS", "METRICS_SCRAPE_TOKEN"], { METRICS_SCRAPE_TOKEN: LONG }, file),
    ).toEqual({
      GATEWAY_API_KEYS: LONG,
      ADMIN_API_KEYS: LONG,
    });
    expect(
      pickSecrets(["METRICS_SCRAPE_TOKEN", "ADMIN_API_KEYS"], { METRICS_SCRAPE_TOKEN: LONG, ADMIN_API_KEYS: "" }),
    ).toEqual({ METRICS_SCRAPE_TOKEN: LONG });
  });
});
