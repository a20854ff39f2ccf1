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
const PAD = { left: 48, right: 8, top: 8, bottom: 20 };

/** Renders the chart; an empty state when there are fewer than two samples. */
export function LineChart({ title, series, format, height = 160 }: LineChartProps) {
  const all = series.flatMap((s) => s.points);
  const ts = all.map((p) => p.t);
  const vs = all.flatMap((p) => (p.v === null ? [] : [p.v]));
  const latest = series.map((s) => `${s.name} ${(() => { const v = [...s.points].reverse().find((p) => p.v !== null)?.v; return v === undefined || v === null ? "n/a" : format(v); })()}`).join(", ");
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
    let pen = false;
    for (const p of s.points) {
      if (p.v === null) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`;
      pen = true;
    }
    return d;
  };
  return (
    <figure class="chart">
      <figcaption>
        {title} <span class="muted">(now: {latest})</span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${height}`} role="img" aria-label={`${title}. Latest: ${latest}`} preserveAspectRatio="none">
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(vMax * f)} y2={y(vMax * f)} class="chart__grid" />
            <text x={PAD.left - 4} y={y(vMax * f) + 4} text-anchor="end" class="chart__label">
              {format(vMax * f)}
            </text>
          </g>
        ))}
        {series.map((s) => (
          <path key={s.name} d={path(s)} fill="none" stroke={s.color} stroke-width="2" />
        ))}
      </svg>
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
