/** Helpers for agent runtime tests: build an agent Worker from a manifest and call it in-process. */
import { createExecutionContext, env } from "cloudflare:test";
import { createAgentWorker } from "../../workers/agent-runtime/src";
import type { CapabilityHandler } from "../../workers/agent-runtime/src";
import agentDemo from "../../workers/generated/manifests/agent-demo";
import type { ZaharaAgentManifest } from "../../workers/shared/manifest";

const ctx = createExecutionContext();

/** A copy of agent-demo's manifest with `patch` applied to a deep clone. */
export function demoManifest(patch: (m: ZaharaAgentManifest) => void = () => {}): ZaharaAgentManifest {
  const m = structuredClone(agentDemo) as ZaharaAgentManifest;
  patch(m);
  return m;
}

/** Builds an agent Worker and returns a caller that POSTs `/run` (or any path) with `envPatch` applied. */
export function agentFrom(
  manifest: ZaharaAgentManifest,
  handlers: Record<string, CapabilityHandler> = {},
  envPatch: Record<string, unknown> = {},
) {
  const worker = createAgentWorker({ manifest, handlers });
  const call = (path: string, init?: RequestInit) =>
    worker.fetch(new Request(`https://agent.test${path}`, init), { ...env, ...envPatch } as Env, ctx);
  const run = (task: string, parameters: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    call("/run", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify({ task, parameters }),
    });
  return { call, run };
}

/** A completion request as the OpenAI double lists it at `GET /v1/__requests__` (JSON over HTTP: it runs in Node). */
export interface LlmRequest {
  messages: { role: string; content: string }[];
  max_tokens?: number;
  stream?: boolean;
}

/** The completion requests the double received whose user message holds `marker` (oldest first). */
export async function llmRequests(marker: string): Promise<LlmRequest[]> {
  const all = (await (await fetch(`${env.LLM_BASE_URL}/__requests__`)).json()) as LlmRequest[];
  return all.filter((r) => r.messages.some((m) => m.role === "user" && m.content.includes(marker)));
}
