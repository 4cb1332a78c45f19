// Series over time: uPlot (≈50 KB), loaded when a chart is first shown.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const COLORS = ["#5eead4", "#3b82f6", "#f59e0b", "#a78bfa", "#f472b6", "#84cc16"];

export interface Series {
  label: string;
  /** One value per day; null where there is none (a line skips it). */
  values: (number | null)[];
}

/** Daily series: bars for one quantity, lines for several. `days` are Unix seconds at UTC midnight. */
export function DailyChart({
  days,
  series,
  bars,
  format,
  label,
}: {
  days: number[];
  series: Series[];
  bars?: boolean;
  format: (v: number) => string;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(260, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 200,
        legend: { show: series.length > 1 },
        cursor: { points: { show: !bars } },
        // Half a day either side, so that the first and last days' bars are whole.
        scales: {
          x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
        },
        axes: [
          { stroke: "#8a94a6", grid: { stroke: "#1f2733" } },
          { stroke: "#8a94a6", grid: { stroke: "#1f2733" }, size: 70, values: (_u, ticks) => ticks.map(format) },
        ],
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length],
            width: 2,
            value: (_u: uPlot, v: number | null) => (v == null ? "—" : format(v)),
            ...(bars
              ? { fill: "rgba(94, 234, 212, 0.55)", paths: uPlot.paths.bars!({ size: [0.6, 40] }), points: { show: false } }
              : { spanGaps: true, points: { show: true, size: 6 } }),
          })),
        ],
      },
      [days, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 200 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days, series, bars, format]);
  return <div ref={box} className="chart" aria-label={label} role="img" />;
}
