/**
 * A small SVG line chart: one or more series over time, with a y-axis scale,
 * a legend, and a text summary for screen readers (the chart itself is
 * presentational). No chart library.
 */

/** One line. */
export interface Series {
  name: string;
  /** CSS colour (chosen for contrast on white). */
  color: string;
  points: { t: number; v: number | null }[];
}

/** Props of {@link LineChart}. */
export interface LineChartProps {
  title: string;
  series: Series[];
  /** Formats a y value (axis labels and the summary). */
  format: (v: number) => string;
  height?: number;
}

const W = 480;
// The plot stretches to its box (lines keep their width); the axis labels are HTML beside it, so they never stretch or clip.
const PAD = { left: 4, right: 8, top: 8, bottom: 8 };

/** Renders the chart; an empty state when there are fewer than two samples. */
export function LineChart({ title, series, format, height = 160 }: LineChartProps) {
  const all = series.flatMap((s) => s.points);
  const ts = all.map((p) => p.t);
  const vs = all.flatMap((p) => (p.v === null ? [] : [p.v]));
  const latest = series
    .map(
      (s) =>
        `${s.name} ${(() => {
          const v = [...s.points].reverse().find((p) => p.v !== null)?.v;
          return v === undefined || v === null ? "n/a" : format(v);
        })()}`,
    )
    .join(", ");
  if (ts.length < 2 || vs.length === 0) {
    return (
      <figure class="chart">
        <figcaption>{title}</figcaption>
        <p class="muted chart__empty">{ts.length < 2 ? "Collecting samples…" : "No requests in the last minute"}</p>
      </figure>
    );
  }
  const [t0, t1] = [Math.min(...ts), Math.max(...ts)];
  const vMax = Math.max(...vs, 0) || 1;
  const x = (t: number) => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => height - PAD.bottom - (v / vMax) * (height - PAD.top - PAD.bottom);
  const path = (s: Series) => {
    let d = "";
    s.points.forEach((p, i) => {
      if (p.v === null) return;
      const pen = i > 0 && s.points[i - 1]?.v !== null;
      const lone = !pen && (i === s.points.length - 1 || s.points[i + 1]?.v === null);
      // A sample with no neighbour is drawn as a short dash, so it is visible.
      d += lone
        ? `M${(x(p.t) - 3).toFixed(1)},${y(p.v).toFixed(1)}h6`
        : `${pen ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`;
    });
    return d;
  };
  return (
    <figure class="chart">
      <figcaption>
        {title} <span class="muted">(now: {latest})</span>
      </figcaption>
      <div class="chart__plot">
        <div class="chart__axis" aria-hidden="true">
          {/* Invisible: gives the axis the width of its longest label. */}
          <span class="chart__sizer">
            {[1, 0.5, 0].map((f) => format(vMax * f)).reduce((a, b) => (b.length > a.length ? b : a))}
          </span>
          {[1, 0.5, 0].map((f) => (
            <span key={f} class="chart__label" style={{ top: `${(y(vMax * f) / height) * 100}%` }}>
              {format(vMax * f)}
            </span>
          ))}
        </div>
        <svg
          viewBox={`0 0 ${W} ${height}`}
          role="img"
          aria-label={`${title}. Latest: ${latest}`}
          preserveAspectRatio="none"
        >
          {[0, 0.5, 1].map((f) => (
            <line
              key={f}
              x1={PAD.left}
              x2={W - PAD.right}
              y1={y(vMax * f)}
              y2={y(vMax * f)}
              class="chart__grid"
              vector-effect="non-scaling-stroke"
            />
          ))}
          {series.map((s) => (
            <path
              key={s.name}
              d={path(s)}
              fill="none"
              stroke={s.color}
              stroke-width="2"
              stroke-linecap="round"
              vector-effect="non-scaling-stroke"
            />
          ))}
        </svg>
      </div>
      <ul class="chart__legend">
        {series.map((s) => (
          <li key={s.name}>
            <span class="chart__swatch" style={{ background: s.color }} aria-hidden="true" /> {s.name}
          </li>
        ))}
      </ul>
    </figure>
  );
}
