/**
 * The soak's load: `concurrency` clients, each with one request in flight,
 * sending each phase's requests through the gateway with a request id of
 * their own, and recording what came back. Clients behave like a careful
 * SDK: after a 429 or 503 with `Retry-After` they wait that long (at most
 * {@link RETRY_AFTER_CAP_MS}) before their next request. A phase may pause
 * the load for a restart: no new request starts, in-flight ones finish, the
 * hook runs, and the load resumes against the (possibly new) gateway URL.
 */
import type { PhaseWindow } from "./checks";
import { type Phase, SOAK_DEADLINE_MS } from "./phases";

/** Longest wait a client takes for a `Retry-After`. */
export const RETRY_AFTER_CAP_MS = 1000;
/** A request with no answer this long after its deadline counts as dropped (and is aborted). */
export const CLIENT_GRACE_MS = 10_000;

/** What one request got. */
export interface SoakResponse {
  requestId: string;
  phase: number;
  task: string;
  /** HTTP status; 0 when no response came (network error or client timeout). */
  status: number;
  /** The error's `code`, for error responses. */
  code?: string;
  /** `X-Request-Id` of the response. */
  headerId: string | null;
  /** `request_id` (success) or `error.request_id` of the JSON body. */
  bodyId: string | null;
  /** Whether the body was JSON in the expected shape (a result, or the one error shape). */
  shapeOk: boolean;
  latencyMs: number;
  deadlineMs: number;
  /** Network error or timeout message when status is 0. */
  error?: string;
  /** In flight when a hard restart killed the runtime (it may have no answer). */
  cut?: boolean;
  /** When the answer (or the error) came, epoch ms. */
  endedAt?: number;
}

/** Where and how to send. */
export interface LoadSettings {
  /** The gateway's base URL now (it changes across a restart). */
  gatewayUrl: () => URL;
  callerKey: string;
  concurrency: number;
  /** Prefix of every request id (unique per run). */
  idPrefix: string;
  /** Called when a phase's `restartAfter` is reached: with no request in flight (drained), or with `cut` in flight (hard). */
  onRestart?: (phase: Phase, cut: ReadonlySet<string>) => Promise<void>;
  /** Called once per answered request (progress). */
  onResponse?: (r: SoakResponse) => void;
  random?: () => number;
}

const FAIL_STATUSES = [500, 502, 503] as const;
const ERROR_KEYS = ["code", "duration_ms", "error", "request_id", "service"];

function bodyFor(phase: Phase, random: () => number): { task: string; parameters: Record<string, unknown> } {
  if (phase.llmShare && random() < phase.llmShare)
    return {
      task: "summarize",
      parameters: { text: "The soak test sends this text to the LLM double to spend tokens." },
    };
  const parameters: Record<string, unknown> = {};
  if (phase.delayMs > 0) parameters.delay_ms = phase.delayMs;
  if (phase.failRate > 0) {
    parameters.fail_status = FAIL_STATUSES[Math.floor(random() * FAIL_STATUSES.length)];
    parameters.fail_rate = phase.failRate;
  }
  return { task: "chaos", parameters };
}

/** Reads the ids and shape from a response body. */
export function readBody(text: string, status: number): { bodyId: string | null; code?: string; shapeOk: boolean } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { bodyId: null, shapeOk: false };
  }
  if (typeof body !== "object" || body === null) return { bodyId: null, shapeOk: false };
  const b = body as Record<string, unknown>;
  const bodyId = typeof b.request_id === "string" ? b.request_id : null;
  if (status < 400) return { bodyId, shapeOk: "result" in b && bodyId !== null };
  const keys = Object.keys(b)
    .filter((k) => k !== "details")
    .sort();
  const shapeOk =
    JSON.stringify(keys) === JSON.stringify(ERROR_KEYS) &&
    typeof b.code === "string" &&
    !/\n\s+at |\.ts:\d+|\.js:\d+/.test(text);
  return { bodyId, ...(typeof b.code === "string" ? { code: b.code } : {}), shapeOk };
}

/** An error and its cause (undici's "fetch failed" says nothing without it). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause =
    err.cause instanceof Error
      ? ` (${(err.cause as Error & { code?: string }).code ?? err.cause.name}: ${err.cause.message})`
      : "";
  return `${err.name}: ${err.message}${cause}`;
}

async function sendOne(
  settings: LoadSettings,
  phaseIndex: number,
  phase: Phase,
  requestId: string,
  random: () => number,
): Promise<{ r: SoakResponse; waitMs: number }> {
  const body = bodyFor(phase, random);
  const started = performance.now();
  const base = { requestId, phase: phaseIndex, task: body.task, deadlineMs: SOAK_DEADLINE_MS };
  try {
    const res = await fetch(new URL("/agents/agent-demo/execute", settings.gatewayUrl()), {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-API-Key": settings.callerKey,
        "X-Request-Id": requestId,
        "X-Timeout-Ms": String(SOAK_DEADLINE_MS),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(SOAK_DEADLINE_MS + CLIENT_GRACE_MS),
    });
    const text = await res.text();
    const latencyMs = performance.now() - started;
    const read = readBody(text, res.status);
    const retryAfter = Number(res.headers.get("Retry-After"));
    const waitMs =
      (res.status === 429 || res.status === 503) && retryAfter > 0
        ? Math.min(RETRY_AFTER_CAP_MS, retryAfter * 1000) * (0.5 + random() / 2)
        : 0;
    return {
      r: {
        ...base,
        status: res.status,
        headerId: res.headers.get("X-Request-Id"),
        latencyMs,
        endedAt: Date.now(),
        ...read,
      },
      waitMs,
    };
  } catch (err) {
    const latencyMs = performance.now() - started;
    return {
      r: {
        ...base,
        status: 0,
        headerId: null,
        bodyId: null,
        shapeOk: false,
        latencyMs,
        endedAt: Date.now(),
        error: `${describe(err)} after ${Math.round(latencyMs)} ms`,
      },
      waitMs: 0,
    };
  }
}

/** Runs every phase in order: one record per request sent, and when each phase ran. */
export async function runPhases(
  phases: readonly Phase[],
  settings: LoadSettings,
): Promise<{ responses: SoakResponse[]; windows: PhaseWindow[] }> {
  const random = settings.random ?? Math.random;
  const out: SoakResponse[] = [];
  const windows: PhaseWindow[] = [];
  let seq = 0;
  for (const [phaseIndex, phase] of phases.entries()) {
    const start = Date.now();
    let next = 0;
    let answered = 0;
    const inFlight = new Set<string>();
    let cut: ReadonlySet<string> = new Set();
    let gate: Promise<void> | undefined;
    let drained: (() => void) | undefined;
    const restart = (hook: NonNullable<LoadSettings["onRestart"]>) => {
      gate = (async () => {
        if (phase.restartMode === "hard") cut = new Set(inFlight);
        else
          await new Promise<void>((resolve) => {
            drained = resolve;
            if (inFlight.size === 0) resolve();
          });
        await hook(phase, cut);
        gate = undefined;
      })();
    };
    const client = async () => {
      for (;;) {
        while (gate) await gate;
        if (next >= phase.requests) return;
        const notBefore = start + ((phase.minDurationMs ?? 0) * next) / phase.requests;
        next++;
        if (Date.now() < notBefore) await new Promise((r) => setTimeout(r, notBefore - Date.now()));
        while (gate) await gate;
        const requestId = `${settings.idPrefix}-${String(++seq).padStart(5, "0")}`;
        inFlight.add(requestId);
        const { r, waitMs } = await sendOne(settings, phaseIndex, phase, requestId, random);
        inFlight.delete(requestId);
        if (cut.has(requestId)) r.cut = true;
        out.push(r);
        answered++;
        settings.onResponse?.(r);
        if (phase.restartAfter !== undefined && answered === phase.restartAfter && settings.onRestart && !gate)
          restart(settings.onRestart);
        if (gate && inFlight.size === 0) drained?.();
        if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      }
    };
    await Promise.all(Array.from({ length: settings.concurrency }, client));
    windows.push({ start, end: Date.now() });
  }
  return { responses: out, windows };
}
