import type { TracingVars } from "../../shared/observability/tracing-config";
/** Bindings the agent runtime reads. Each agent Worker's generated `Env` must satisfy this. */
import type { IdempotencyStore } from "../../../durable-objects/idempotency-store/src";

/** Minimal shape of the Workers AI binding the runtime uses. */
export interface WorkersAiBinding {
  run(model: string, inputs: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
}

/** Environment of an agent Worker (vars, secrets and optional bindings). */
export interface AgentRuntimeEnv extends TracingVars {
  /** `debug` | `info` | `warn` | `error` (default `info`). */
  LOG_LEVEL?: string;
  /** Body limit for `POST /run` in bytes (default 1 MiB). */
  MAX_BODY_BYTES?: string;
  /** `"true"` turns on the `chaos` capability even if the manifest does not. */
  CHAOS_ENABLED?: string;
  /** Base URL of an OpenAI-compatible API, e.g. `https://api.openai.com/v1`. */
  LLM_BASE_URL?: string;
  /** Secret: API key for the OpenAI-compatible endpoint. */
  LLM_API_KEY?: string;
  /** Overrides `${LLM_PROVIDER:-...}` references in the manifest. */
  LLM_PROVIDER?: string;
  /** Overrides `${LLM_MODEL:-...}` references in the manifest. */
  LLM_MODEL?: string;
  /** `openai` (default, any OpenAI-compatible endpoint) or `workers-ai` (uses the `AI` binding). */
  LLM_BACKEND?: string;
  /** Milliseconds to wait for the LLM provider (default 30000). */
  LLM_TIMEOUT_MS?: string;
  /** Largest LLM provider response read, in bytes (default 4 MiB; a streamed answer too); over it 502 `LLM_PROVIDER_ERROR`. */
  LLM_MAX_RESPONSE_BYTES?: string;
  /** Workers AI binding, when `LLM_BACKEND=workers-ai`. */
  AI?: WorkersAiBinding;
  /**
   * Durable Object namespace of `IdempotencyStore` (one object per
   * `Idempotency-Key`). Without it `POST /run` runs without dedupe.
   */
  IDEMPOTENCY?: DurableObjectNamespace<IdempotencyStore>;
}
