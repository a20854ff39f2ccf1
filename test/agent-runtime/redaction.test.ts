/**
 * Secrets never reach an agent's log lines: the LLM key, and the OTLP
 * collector's headers (as configured, each value, and the token after its
 * auth scheme). A request whose path carries them is logged with the path,
 * so every form must come out as [REDACTED].
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { otlpHeaderSecrets } from "../../workers/shared/observability/tracing-config";
import { agentFrom, demoManifest } from "./helpers";

const TOKEN = "otlp-token-4f9c2a";
const TENANT = "tenant-secret-77b1";
const HEADERS = `Authorization=Bearer%20${TOKEN},x-tenant=${TENANT}`;
const LLM_KEY = "llm-key-0d3e5b7a";

afterEach(() => vi.restoreAllMocks());

describe("agent log redaction", () => {
  it("otlpHeaderSecrets: the setting, each decoded value, and the token after its scheme", () => {
    expect(otlpHeaderSecrets(HEADERS)).toEqual([HEADERS, `Bearer ${TOKEN}`, TOKEN, TENANT]);
    expect(otlpHeaderSecrets(undefined)).toEqual([]);
    expect(otlpHeaderSecrets("  ")).toEqual([]);
  });

  it("the LLM key and every form of the OTLP headers are redacted from the request's log line", async () => {
    const lines: string[] = [];
    for (const m of ["log", "warn", "error"] as const)
      vi.spyOn(console, m).mockImplementation((l: string) => void lines.push(String(l)));
    const { call } = agentFrom(
      demoManifest(),
      {},
      { LLM_API_KEY: LLM_KEY, OTEL_EXPORTER_OTLP_HEADERS: HEADERS, LOG_LEVEL: "debug" },
    );
    const res = await call(`/${TOKEN}/${TENANT}/${LLM_KEY}/Bearer%20${TOKEN}`);
    expect(res.status).toBe(404);
    const logged = lines.join("\n");
    expect(logged).toContain("request completed");
    expect(logged).toContain("[REDACTED]");
    for (const secret of [TOKEN, TENANT, LLM_KEY]) expect(logged).not.toContain(secret);
  });
});
