/**
 * The breaker's state over a simulated run, as a band of coloured stretches
 * drawn on the same horizontal scale as `LineChart` (so it lines up under the
 * outcomes chart), with a legend and a text version for screen readers.
 */
import { type PlotBreakerState, type StateRun, stateRuns } from "./sim-plot";

/** LineChart's width and side padding (clinic/line-chart.tsx), so the band lines up with its plot area. */
const W = 480;
const PAD = { left: 48, right: 8 };
const H = 20;

/** Labels and colours (fills are light; the legend text carries the meaning). */
export const STATE_STYLE: Record<PlotBreakerState, { label: string; fill: string }> = {
  closed: { label: "Closed", fill: "#4ac26b" },
  half_open: { label: "Half-open", fill: "#d4a72c" },
  open: { label: "Open", fill: "#cf222e" },
  isolated: { label: "Isolated", fill: "#6e7781" },
};

function describe(runs: StateRun[]): string {
  return runs
    .map(
      (r) =>
        `${STATE_STYLE[r.state].label.toLowerCase()} ${r.from === r.to ? `at ${r.from} s` : `${r.from}–${r.to} s`}`,
    )
    .join(", ");
}

/** Props of {@link BreakerBand}. */
export interface BreakerBandProps {
  breaker: readonly { t: number; state: PlotBreakerState }[];
}

/** The band. */
export function BreakerBand({ breaker }: BreakerBandProps) {
  const runs = stateRuns(breaker);
  if (runs.length === 0) return null;
  const t0 = runs[0]?.from ?? 0;
  const t1 = runs.at(-1)?.to ?? 0;
  // LineChart puts sample t at x(t); a second's stretch here spans half a second either side of it.
  const span = Math.max(1, t1 - t0);
  const x = (t: number) => PAD.left + ((Math.min(Math.max(t, t0), t1) - t0) / span) * (W - PAD.left - PAD.right);
  const seen = (Object.keys(STATE_STYLE) as PlotBreakerState[]).filter((s) => runs.some((r) => r.state === s));
  const text = describe(runs);
  return (
    <figure class="builder-band">
      <figcaption>Breaker state</figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`Breaker state by second: ${text}`}
      >
        {runs.map((r) => (
          <rect
            key={r.from}
            x={x(r.from - 0.5)}
            width={Math.max(0.5, x(r.to + 0.5) - x(r.from - 0.5))}
            y={0}
            height={H}
            fill={STATE_STYLE[r.state].fill}
          >
            <title>{`${STATE_STYLE[r.state].label}: ${r.from}–${r.to} s`}</title>
          </rect>
        ))}
      </svg>
      <ul class="chart__legend">
        {seen.map((s) => (
          <li key={s}>
            <span class="chart__swatch" style={{ background: STATE_STYLE[s].fill }} aria-hidden="true" />{" "}
            {STATE_STYLE[s].label}
          </li>
        ))}
      </ul>
    </figure>
  );
}
