// Horizontal bars for categories: plain elements, no chart library.

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
