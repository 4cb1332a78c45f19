// Charts: uPlot (≈50 KB) for series over time; plain bars for categories, which need no library.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** Daily bars over time: `days` are Unix seconds at midnight UTC. */
export function DailyBars({ days, values, label, format }: { days: number[]; values: number[]; label: string; format: (v: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(260, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 200,
        legend: { show: false },
        cursor: { points: { show: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          { stroke: "#8a94a6", grid: { stroke: "#1f2733" } },
          { stroke: "#8a94a6", grid: { stroke: "#1f2733" }, size: 70, values: (_u, ticks) => ticks.map(format) },
        ],
        series: [
          {},
          {
            label,
            fill: "rgba(94, 234, 212, 0.55)",
            stroke: "#5eead4",
            paths: uPlot.paths.bars!({ size: [0.6, 40] }),
            points: { show: false },
          },
        ],
      },
      [days, values],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 200 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days, values, label, format]);
  return <div ref={box} className="chart" aria-label={label} role="img" />;
}

/** Horizontal bars, one per category, split into parts (e.g. rented and available). */
export function Bars({
  rows,
  parts,
}: {
  rows: { label: string; values: number[] }[];
  parts: { name: string; color: string }[];
}) {
  const max = Math.max(1, ...rows.map((r) => r.values.reduce((a, b) => a + b, 0)));
  return (
    <div className="bars">
      <div className="legend">
        {parts.map((p) => (
          <span key={p.name}>
            <i style={{ background: p.color }} /> {p.name}
          </span>
        ))}
      </div>
      {rows.map((row) => (
        <div className="bar-row" key={row.label}>
          <span className="bar-label">{row.label}</span>
          <span className="bar-track">
            {row.values.map((v, i) => (
              <span
                key={parts[i].name}
                className="bar-part"
                title={`${parts[i].name}: ${v}`}
                style={{ width: `${(v / max) * 100}%`, background: parts[i].color }}
              />
            ))}
          </span>
          <span className="bar-value">{row.values.reduce((a, b) => a + b, 0)}</span>
        </div>
      ))}
    </div>
  );
}
