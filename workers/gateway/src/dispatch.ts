/**
 * Calls an agent's `POST /run` over its service binding (no public URL hop),
 * forwarding the request id, under one deadline, and maps what comes back:
 * success, the agent's own 4xx relayed, its 5xx as 502, no answer as 502,
 * and the deadline as 504.
 */
import type { AgentInfo } from "../../shared/agents";
import { ZaharaError, isErrorBody } from "../../shared/errors";
import { REQUEST_ID_HEADER } from "../../shared/request-id";

/** A successful agent answer. */
export interface AgentResult {
  result: unknown;
  usage?: unknown;
}

/** One call to an agent. */
export interface AgentCall {
  agent: AgentInfo;
  binding: Fetcher;
  task: string;
  parameters: Record<string, unknown>;
  requestId: string;
  /** Milliseconds left for the whole call. */
  timeoutMs: number;
  /** The caller's abort signal (client gone). */
  signal?: AbortSignal;
}

const RELAYED_HEADERS = ["Retry-After", "Allow"];

async function readJson(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    return undefined;
  }
}

/** Calls the agent; resolves with its result or throws a {@link ZaharaError}. */
export async function callAgent({ agent, binding, task, parameters, requestId, timeoutMs, signal }: AgentCall): Promise<AgentResult> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
  let res: Response;
  let body: unknown;
  try {
    res = await binding.fetch(`https://${agent.name}.agent.internal/run`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", [REQUEST_ID_HEADER]: requestId },
      body: JSON.stringify({ task, parameters }),
      signal: combined,
    });
    body = await readJson(res);
  } catch (err) {
    if (timeout.signal.aborted) {
      throw new ZaharaError("UPSTREAM_TIMEOUT", {
        message: `Agent "${agent.name}" did not answer within ${timeoutMs} ms`,
        details: { agent: agent.name, timeout_ms: timeoutMs },
      });
    }
    throw new ZaharaError("UPSTREAM_UNREACHABLE", { message: `Agent "${agent.name}" could not be reached`, details: { agent: agent.name }, cause: err });
  } finally {
    clearTimeout(timer);
  }
  if (res.ok && typeof body === "object" && body !== null && "result" in body) {
    const { result, usage } = body as AgentResult;
    return usage === undefined ? { result } : { result, usage };
  }
  if (res.status >= 400 && res.status < 500) {
    const headers: Record<string, string> = {};
    for (const name of RELAYED_HEADERS) {
      const v = res.headers.get(name);
      if (v) headers[name] = v;
    }
    throw ZaharaError.relayed(res.status, isErrorBody(body) ? body : {}, agent.name, headers);
  }
  const agentError = isErrorBody(body) ? body : undefined;
  throw new ZaharaError("UPSTREAM_FAILED", {
    message: agentError ? `Agent "${agent.name}" failed: ${agentError.error}` : `Agent "${agent.name}" answered ${res.status}`,
    details: {
      agent: agent.name,
      agent_status: res.status,
      ...(agentError ? { agent_code: agentError.code } : {}),
      ...(agentError?.details ? { agent_details: agentError.details } : {}),
    },
  });
}
