// Series over time: uPlot (≈50 KB), loaded when a chart is first shown.
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
        // Half a day either side, so that the first and last days' bars are whole.
        scales: { x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
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

