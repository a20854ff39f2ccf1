/**
 * One agent's card: health, breaker state with force open/close, rate-limit
 * and token-budget use, in-flight requests, recent rates and latency, and the
 * breaker's history (from the guard's snapshot and `/v1/stats`), and how to
 * connect to it over MCP and A2A.
 */
import { useState } from "preact/hooks";
import { type GuardView, type StatsWindow, api } from "../../api";
import { AgentConnect } from "./agent-connect";

const STATE_LABEL: Record<string, string> = {
  closed: "Closed",
  open: "Open",
  half_open: "Half-open",
  isolated: "Isolated (forced open)",
};

const ms = (v: number | null) => (v === null ? "n/a" : `${Math.round(v)} ms`);
const pct = (v: number | null) => (v === null ? "n/a" : `${(v * 100).toFixed(1)}%`);

/** Props of {@link AgentCard}. */
export interface AgentCardProps {
  name: string;
  health: string | undefined;
  guard: GuardView | undefined;
  window: StatsWindow | undefined;
  onChanged: () => void;
  /** The gateway's public URL (for the MCP and A2A addresses), or null. */
  gatewayUrl: string | null;
}

/** The card. */
export function AgentCard({ name, health, guard, window: w, onChanged, gatewayUrl }: AgentCardProps) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | undefined>();
  const [reason, setReason] = useState("");
  const state = guard?.breaker.state;
  async function change(action: "open" | "close") {
    setBusy(true);
    const res = await api.gateway.post(
      `/v1/agents/${encodeURIComponent(name)}/breaker/${action}`,
      reason.trim() ? { reason: reason.trim() } : {},
    );
    setBusy(false);
    setMessage(
      res.ok
        ? { text: action === "open" ? "Breaker forced open." : "Breaker closed.", error: false }
        : { text: `${res.error.error} (${res.error.code})`, error: true },
    );
    onChanged();
  }
  return (
    <article class="agent-card" aria-labelledby={`agent-${name}`}>
      <header class="agent-card__head">
        <h2 id={`agent-${name}`}>{name}</h2>
        <span class={`badge badge--${health === "ok" ? "ok" : "bad"}`}>{health ?? "unknown"}</span>
        <span class={`badge badge--${state ?? "unknown"}`} data-testid={`breaker-${name}`}>
          {state ? (STATE_LABEL[state] ?? state) : "breaker unknown"}
        </span>
      </header>
      <dl class="facts">
        <div>
          <dt>Requests/s (1 min)</dt>
          <dd>{w ? w.rate_per_s.toFixed(2) : "n/a"}</dd>
        </div>
        <div>
          <dt>Error rate (1 min)</dt>
          <dd>{w ? pct(w.error_rate) : "n/a"}</dd>
        </div>
        <div>
          <dt>p50 / p95 / p99</dt>
          <dd>{w ? `${ms(w.p50_ms)} / ${ms(w.p95_ms)} / ${ms(w.p99_ms)}` : "n/a"}</dd>
        </div>
        <div>
          <dt>In flight</dt>
          <dd>{guard ? guard.in_flight : "n/a"}</dd>
        </div>
        <div>
          <dt>Rate limit</dt>
          <dd>{guard?.rate_limit ? `${guard.rate_limit.remaining} of ${guard.rate_limit.limit}/min left` : "none"}</dd>
        </div>
        <div>
          <dt>Tokens today</dt>
          <dd>
            {guard?.tokens ? (
              <>
                <meter
                  min={0}
                  max={guard.tokens.used + guard.tokens.reserved + guard.tokens.remaining}
                  value={guard.tokens.used + guard.tokens.reserved}
                  aria-label="Token budget used"
                />{" "}
                {guard.tokens.used.toLocaleString()} used, {guard.tokens.remaining.toLocaleString()} left
              </>
            ) : (
              "no budget"
            )}
          </dd>
        </div>
        <div>
          <dt>Retry budget</dt>
          <dd>{guard ? `${guard.retry_budget.available} retries available` : "n/a"}</dd>
        </div>
      </dl>
      <div class="agent-card__actions">
        <label>
          Reason <span class="muted">(audit log)</span>
          <input
            type="text"
            maxLength={200}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
            placeholder="e.g. maintenance"
          />
        </label>
        <button
          type="button"
          class="button"
          disabled={busy || !guard || state === "isolated"}
          onClick={() => void change("open")}
        >
          Force open
        </button>
        <button
          type="button"
          class="button button--quiet"
          disabled={busy || !guard || state === "closed"}
          onClick={() => void change("close")}
        >
          Close breaker
        </button>
        {message ? (
          <span role="status" class={message.error ? "error" : "muted"}>
            {message.text}
          </span>
        ) : null}
      </div>
      <details>
        <summary>Breaker history ({guard?.transitions.length ?? 0})</summary>
        {guard && guard.transitions.length > 0 ? (
          <ol class="history">
            {[...guard.transitions]
              .reverse()
              .slice(0, 20)
              .map((t) => (
                <li key={`${t.at}-${t.to}`}>
                  <time dateTime={t.at}>{new Date(t.at).toLocaleTimeString()}</time> {STATE_LABEL[t.from] ?? t.from} →{" "}
                  <strong>{STATE_LABEL[t.to] ?? t.to}</strong>
                  <span class="muted"> — {t.cause}</span>
                </li>
              ))}
          </ol>
        ) : (
          <p class="muted">No transitions yet.</p>
        )}
      </details>
      <AgentConnect name={name} gatewayUrl={gatewayUrl} />
    </article>
  );
}
