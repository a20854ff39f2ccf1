/**
 * LLM configuration as given (the manifest's `spec.llm` plus env vars) and as
 * resolved (a concrete endpoint, model and key, or `null` when not configured).
 */
import { parseByteLimit } from "../../../shared/http/json-body";
import type { ZaharaAgentManifest } from "../../../shared/manifest";
import type { AgentRuntimeEnv, WorkersAiBinding } from "../env";

/** Default OpenAI-compatible base URLs for providers that offer one. */
export const PROVIDER_BASE_URLS: Readonly<Record<string, string>> = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com/v1",
  google: "https://generativelanguage.googleapis.com/v1beta/openai",
  groq: "https://api.groq.com/openai/v1",
  mistral: "https://api.mistral.ai/v1",
  together: "https://api.together.xyz/v1",
  fireworks: "https://api.fireworks.ai/inference/v1",
  deepseek: "https://api.deepseek.com/v1",
  ollama: "http://localhost:11434/v1",
};

/** Providers that need no API key (local servers). */
const KEYLESS_PROVIDERS = new Set(["ollama", "custom"]);

/** Default time to wait for the provider. */
export const DEFAULT_LLM_TIMEOUT_MS = 30_000;

/** Default cap on the provider's response body: 4 MiB. */
export const DEFAULT_LLM_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** A resolved OpenAI-compatible chat-completions target. */
export interface OpenAiTarget {
  backend: "openai";
  provider: string;
  baseUrl: string;
  apiKey?: string;
  model: string;
  temperature?: number;
  maxTokens?: number;
  /** `constraints.cost.maxTokensPerRequest`: the most `max_tokens` a call may ask of the provider. */
  maxTokensPerRequest?: number;
  timeoutMs: number;
  /** Largest response body read from the provider (`LLM_MAX_RESPONSE_BYTES`). */
  maxResponseBytes: number;
}

/** A resolved Workers AI target. */
export interface WorkersAiTarget {
  backend: "workers-ai";
  provider: string;
  binding: WorkersAiBinding;
  model: string;
  temperature?: number;
  maxTokens?: number;
  /** `constraints.cost.maxTokensPerRequest`: the most `max_tokens` a call may ask of the provider. */
  maxTokensPerRequest?: number;
  timeoutMs: number;
  /** Largest streamed answer read from the binding (`LLM_MAX_RESPONSE_BYTES`). */
  maxResponseBytes: number;
}

/** Where an LLM capability runs. */
export type LlmTarget = OpenAiTarget | WorkersAiTarget;

const ENV_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

/** Resolves a `${VAR:-default}` manifest value against `env`; plain values pass through. */
export function resolveEnvRef(value: string, env: Record<string, unknown>): string | undefined {
  const m = ENV_REF.exec(value.trim());
  if (!m) return value;
  const fromEnv = env[m[1] as string];
  if (typeof fromEnv === "string" && fromEnv.trim() !== "") return fromEnv.trim();
  return m[2] || undefined;
}

/** Default Workers AI model when the manifest names a non-Workers-AI model. */
export const DEFAULT_WORKERS_AI_MODEL = "@cf/meta/llama-3.1-8b-instruct";

/** Resolves the manifest's `spec.llm` against the environment; `null` means not configured. */
export function resolveLlmTarget(manifest: ZaharaAgentManifest, env: AgentRuntimeEnv): LlmTarget | null {
  const llm = manifest.spec.llm;
  if (!llm) return null;
  const vars = env as Record<string, unknown>;
  const provider = resolveEnvRef(String(llm.provider), vars)?.toLowerCase();
  const model = resolveEnvRef(String(llm.model), vars);
  if (!provider || !model) return null;
  const timeout = Number(env.LLM_TIMEOUT_MS);
  const perRequest = manifest.spec.constraints?.cost?.maxTokensPerRequest;
  const common = {
    provider,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_LLM_TIMEOUT_MS,
    maxResponseBytes: parseByteLimit(env.LLM_MAX_RESPONSE_BYTES, DEFAULT_LLM_MAX_RESPONSE_BYTES),
    ...(typeof llm.temperature === "number" ? { temperature: llm.temperature } : {}),
    ...(typeof llm.maxTokens === "number" ? { maxTokens: llm.maxTokens } : {}),
    ...(perRequest !== undefined && perRequest > 0 ? { maxTokensPerRequest: perRequest } : {}),
  };
  if (env.LLM_BACKEND?.trim().toLowerCase() === "workers-ai") {
    if (!env.AI) return null;
    return {
      backend: "workers-ai",
      binding: env.AI,
      model: model.startsWith("@cf/") ? model : DEFAULT_WORKERS_AI_MODEL,
      ...common,
    };
  }
  const baseUrl = (env.LLM_BASE_URL?.trim() || PROVIDER_BASE_URLS[provider])?.replace(/\/+$/, "");
  if (!baseUrl) return null;
  const apiKey = env.LLM_API_KEY?.trim() || undefined;
  if (!apiKey && !KEYLESS_PROVIDERS.has(provider) && !env.LLM_BASE_URL) return null;
  return { backend: "openai", baseUrl, model, ...(apiKey ? { apiKey } : {}), ...common };
}
