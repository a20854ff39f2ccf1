/**
 * Which secret-configured (bootstrap) keys a deployment accepts. Outside
 * local development a plaintext entry of `GATEWAY_API_KEYS`, `ADMIN_API_KEYS`
 * or `METRICS_SCRAPE_TOKEN` shorter than {@link MIN_BOOTSTRAP_KEY_CHARS} is
 * refused: such keys are operator-chosen and guessable (the development keys
 * are 14 to 24 characters). A `sha256:` entry cannot be measured and is
 * accepted. Pure: the gateway applies it when it reads the secrets (and
 * reports the refusals on `/health`), `npm run deploy` before it uploads them.
 */

/** Shortest plaintext bootstrap key accepted outside local development. */
export const MIN_BOOTSTRAP_KEY_CHARS = 32;

/** The secrets that hold bootstrap keys. */
export const BOOTSTRAP_SECRETS = ["GATEWAY_API_KEYS", "ADMIN_API_KEYS", "METRICS_SCRAPE_TOKEN"] as const;

/** Whether one entry of a bootstrap secret is a plaintext key too short to accept. */
export function isShortPlaintext(entry: string): boolean {
  const e = entry.trim();
  return e.length > 0 && !e.toLowerCase().startsWith("sha256:") && e.length < MIN_BOOTSTRAP_KEY_CHARS;
}

/** The entries of a comma-separated secret value. */
export function secretEntries(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * What is wrong with the bootstrap secrets of `env`, one sentence each (never
 * a key), e.g. `ADMIN_API_KEYS: 1 key shorter than 32 characters is refused`.
 */
export function bootstrapKeyProblems(
  env: Partial<Record<(typeof BOOTSTRAP_SECRETS)[number], string | undefined>>,
): string[] {
  const problems: string[] = [];
  for (const name of BOOTSTRAP_SECRETS) {
    const short = secretEntries(env[name]).filter(isShortPlaintext).length;
    if (short > 0)
      problems.push(
        `${name}: ${short} key${short === 1 ? "" : "s"} shorter than ${MIN_BOOTSTRAP_KEY_CHARS} characters ${short === 1 ? "is" : "are"} refused`,
      );
  }
  return problems;
}
