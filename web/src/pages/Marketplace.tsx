import { useMemo, useState } from "react";

import { all, api, type Page, type Stats, type WorkerView } from "../api";
import { book, escrowTotal } from "../actions";
import { COMPLIANCE, complianceNames, parseTokens } from "../format";
import { useConnection } from "../wallet";
import { Action, Addr, Amount, Show, useEnv, useLoad } from "../ui";

/** Every filter `/v1/workers` has, as the form holds them (text until sent). */
interface Filters {
  gpu_model: string;
  min_gpus: string;
  min_vram_gib: string;
  region: string;
  min_connectivity_tier: string;
  compliance: number;
  green: "" | "true" | "false";
  max_price: string;
  available: "" | "true" | "false";
  sort: string;
}

const NONE: Filters = {
  gpu_model: "",
  min_gpus: "",
  min_vram_gib: "",
  region: "",
  min_connectivity_tier: "",
  compliance: 0,
  green: "",
  max_price: "",
  available: "true",
  sort: "price",
};

export function Marketplace() {
  const { chain, program } = useEnv();
  const wallet = useConnection();
  const [filters, setFilters] = useState<Filters>(NONE);
  const [sent, setSent] = useState<Filters>(NONE);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [gpusWanted, setGpusWanted] = useState("");
  const [hours, setHours] = useState("1");
  const [booked, setBooked] = useState<string | null>(null);
  const [stats] = useLoad(() => api<Stats>("/v1/stats"), []);
  const models = stats.state === "ready" ? [...new Set(stats.value.by_model_and_region.map((r) => r.gpu_model))] : [];
  const regions = stats.state === "ready" ? [...new Set(stats.value.by_model_and_region.map((r) => r.region))] : [];

  const query = useMemo(() => {
    const decimals = program?.paymentDecimals ?? 6;
    return {
      gpu_model: sent.gpu_model,
      min_gpus: sent.min_gpus,
      min_vram_gib: sent.min_vram_gib,
      region: sent.region,
      min_connectivity_tier: sent.min_connectivity_tier,
      compliance: sent.compliance || undefined,
      green: sent.green,
      max_price: sent.max_price ? parseTokens(sent.max_price, decimals).toString() : undefined,
      available: sent.available,
      sort: sent.sort,
    };
  }, [sent, program]);
  const [workers, reload] = useLoad(() => all<WorkerView>("/v1/workers", query, 1_000), [query], 10_000);
  const list = workers.state === "ready" ? workers.value : [];
  const chosen = list.filter((w) => picked.has(w.address));
  const hoursNumber = Number(hours);
  const hoursValid = Number.isInteger(hoursNumber) && hoursNumber >= 1 && hoursNumber <= 8_784;
  const total = hoursValid ? escrowTotal(chosen, hoursNumber) : 0n;
  const gpus = chosen.reduce((n, w) => n + w.gpu_count, 0);
  const tooLong = chosen.filter((w) => hoursValid && hoursNumber > w.max_lease_hours);

  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setFilters({ ...filters, [k]: e.target.value });
  const apply = () => {
    try {
      if (filters.max_price) parseTokens(filters.max_price, program?.paymentDecimals ?? 6);
      setFilterError(null);
      setSent(filters);
      setPicked(new Set());
    } catch (e) {
      setFilterError(`max price: ${(e as Error).message}`);
    }
  };
  const [filterError, setFilterError] = useState<string | null>(null);
  /** The cheapest bookable workers (in the current order) until they hold N GPUs. */
  const pickCheapest = () => {
    const n = Number(gpusWanted);
    if (!Number.isInteger(n) || n < 1) return setFilterError("GPUs wanted: a whole number of at least 1");
    const next = new Set<string>();
    let have = 0;
    for (const w of [...list].filter((w) => w.bookable).sort((a, b) => a.price_per_gpu_hour - b.price_per_gpu_hour)) {
      if (have >= n) break;
      next.add(w.address);
      have += w.gpu_count;
    }
    setFilterError(have < n ? `only ${have} bookable GPUs match these filters` : null);
    setPicked(next);
  };

  return (
    <>
      <h1>Marketplace</h1>
      <section className="card">
        <form
          className="filters"
          onSubmit={(e) => {
            e.preventDefault();
            apply();
          }}
        >
          <label>
            Model
            <select value={filters.gpu_model} onChange={set("gpu_model")}>
              <option value="">any</option>
              {models.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </label>
          <label>
            Min GPUs
            <input inputMode="numeric" value={filters.min_gpus} onChange={set("min_gpus")} placeholder="any" />
          </label>
          <label>
            Min VRAM (GiB)
            <input inputMode="numeric" value={filters.min_vram_gib} onChange={set("min_vram_gib")} placeholder="any" />
          </label>
          <label>
            Region
            <select value={filters.region} onChange={set("region")}>
              <option value="">any</option>
              {regions.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <label>
            Min tier
            <select value={filters.min_connectivity_tier} onChange={set("min_connectivity_tier")}>
              <option value="">any</option>
              {[1, 2, 3, 4].map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
          <label>
            Max price / GPU-h
            <input inputMode="decimal" value={filters.max_price} onChange={set("max_price")} placeholder="any" />
          </label>
          <label>
            Green energy
            <select value={filters.green} onChange={set("green")}>
              <option value="">any</option>
              <option value="true">yes</option>
              <option value="false">no</option>
            </select>
          </label>
          <label>
            Bookable
            <select value={filters.available} onChange={set("available")}>
              <option value="true">now</option>
              <option value="">any</option>
              <option value="false">not now</option>
            </select>
          </label>
          <label>
            Sort
            <select value={filters.sort} onChange={set("sort")}>
              <option value="price">cheapest first</option>
              <option value="-price">dearest first</option>
              <option value="-gpus">most GPUs first</option>
              <option value="-registered">newest first</option>
            </select>
          </label>
          <fieldset>
            <legend>Compliance</legend>
            {COMPLIANCE.map(([bit, name]) => (
              <label key={bit} className="check">
                <input
                  type="checkbox"
                  checked={(filters.compliance & bit) !== 0}
                  onChange={(e) => setFilters({ ...filters, compliance: e.target.checked ? filters.compliance | bit : filters.compliance & ~bit })}
                />
                {name}
              </label>
            ))}
          </fieldset>
          <div className="form-actions">
            <button type="submit" className="primary">Apply filters</button>
            <button type="button" onClick={() => { setFilters(NONE); setSent(NONE); setPicked(new Set()); }}>Reset</button>
          </div>
        </form>
        {filterError && <div className="state error" role="alert">{filterError}</div>}
      </section>

      <section className="card">
        <h2>Workers</h2>
        <Show loaded={workers} what="workers" isEmpty={(w) => w.length === 0} empty="No worker matches these filters.">
          {(ws) => (
            <div className="scroll">
              <table className="workers">
                <thead>
                  <tr>
                    <th />
                    <th>Worker</th>
                    <th>GPUs</th>
                    <th className="hide-narrow">VRAM</th>
                    <th className="hide-narrow">Region</th>
                    <th className="hide-narrow">Tier</th>
                    <th className="hide-narrow">Compliance</th>
                    <th className="num">Price / GPU-h</th>
                    <th className="hide-narrow">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {ws.map((w) => (
                    <tr key={w.address} className={picked.has(w.address) ? "picked" : ""}>
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`pick ${w.address}`}
                          disabled={!w.bookable}
                          checked={picked.has(w.address)}
                          onChange={(e) => {
                            const next = new Set(picked);
                            if (e.target.checked) next.add(w.address);
                            else next.delete(w.address);
                            setPicked(next);
                          }}
                        />
                      </td>
                      <td>
                        <Addr value={w.address} href={`#/search/${w.address}`} />
                      </td>
                      <td>
                        {w.gpu_count} × {w.gpu_model}
                      </td>
                      <td className="hide-narrow">{w.vram_gib} GiB</td>
                      <td className="hide-narrow">
                        {w.region}
                        {w.green_energy && <span className="tag ok green" title="green energy">green</span>}
                      </td>
                      <td className="hide-narrow">{w.connectivity_tier}</td>
                      <td className="hide-narrow">{complianceNames(w.compliance)}</td>
                      <td className="num">
                        <Amount units={BigInt(w.price_per_gpu_hour)} mint="pay" />
                      </td>
                      <td className="hide-narrow">{w.bookable ? <span className="tag ok">bookable</span> : w.jailed_until > 0 ? <span className="tag slash">jailed</span> : w.active_lease ? <span className="tag">rented</span> : <span className="tag">off</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Show>
      </section>

      <section className="card booking">
        <h2>Book</h2>
        <div className="book-row">
          <label>
            GPUs wanted
            <input inputMode="numeric" value={gpusWanted} onChange={(e) => setGpusWanted(e.target.value)} placeholder="e.g. 16" />
          </label>
          <button type="button" onClick={pickCheapest}>Pick cheapest</button>
          <label>
            Hours
            <input inputMode="numeric" value={hours} onChange={(e) => setHours(e.target.value)} aria-invalid={!hoursValid} />
          </label>
        </div>
        {!hoursValid && <div className="state error" role="alert">Hours: a whole number from 1 to 8,784 (a year).</div>}
        {tooLong.length > 0 && (
          <div className="state error" role="alert">
            {tooLong.length} picked worker(s) accept at most {Math.min(...tooLong.map((w) => w.max_lease_hours))} hours.
          </div>
        )}
        <div className="summary" data-testid="booking-summary">
          <span>
            {chosen.length} worker(s), {gpus} GPUs, {hoursValid ? hoursNumber : "?"} h
          </span>
          <span>
            Escrow total: <strong data-testid="escrow-total"><Amount units={total} mint="pay" /></strong>
          </span>
        </div>
        {!wallet ? (
          <div className="state empty">Connect a wallet to book.</div>
        ) : (
          <Action
            label={`Book ${gpus} GPUs`}
            kind="primary"
            disabled={chosen.length === 0 || !hoursValid || tooLong.length > 0}
            run={async (progress) => {
              const { clusterId, signatures } = await book(chain, wallet, chosen, hoursNumber, progress);
              setPicked(new Set());
              setBooked(`${clusterId}`);
              reload();
              return `Booked cluster ${clusterId} in ${signatures.length} transaction(s).`;
            }}
          />
        )}
        {booked && (
          <p>
            See it under <a href="#/clusters">My clusters</a>.
          </p>
        )}
      </section>
    </>
  );
}

export type { Page };
