import { lazy, Suspense, useMemo, useState } from "react";

import { api, ApiError, type Daily, type Payout, type Slash, type Stats, type WorkerView, type SupplierView, type ClusterView, type LeaseView, type Page } from "../api";
import { Bars } from "../bars";
import { percent, time, tokens } from "../format";
import { Addr, Amount, Show, Stat, useEnv, useLoad } from "../ui";

// uPlot loads after the totals are on screen.
const DailyChart = lazy(() => import("../chart").then((m) => ({ default: m.DailyChart })));

export function Explorer() {
  const [stats] = useLoad(() => api<Stats>("/v1/stats"), [], 5_000);
  const [activity] = useLoad(recentActivity, [], 5_000);
  const [daily] = useLoad(() => api<Daily>("/v1/stats/daily", { days: 14 }), [], 10_000);
  return (
    <>
      <h1>Network</h1>
      <Show loaded={stats} what="network totals">
        {(s) => <Totals stats={s} />}
      </Show>
      <Search />
      <div className="grid2">
        <section className="card">
          <h2>GPUs by model</h2>
          <Show loaded={stats} what="GPUs" isEmpty={(s) => s.by_model_and_region.length === 0} empty="No GPUs are registered yet.">
            {(s) => <ByModel stats={s} />}
          </Show>
        </section>
        <section className="card">
          <h2>GPUs by region</h2>
          <Show loaded={stats} what="GPUs" isEmpty={(s) => s.by_model_and_region.length === 0} empty="No GPUs are registered yet.">
            {(s) => <ByRegion stats={s} />}
          </Show>
        </section>
      </div>
      <div className="grid2">
        <section className="card">
          <h2>Volume paid per day</h2>
          <Show loaded={daily} what="daily volume" isEmpty={(d) => d.days.every((x) => x.volume_paid === 0)} empty="Nothing has been paid in the last 14 days.">
            {(d) => <Volume daily={d} />}
          </Show>
        </section>
        <section className="card">
          <h2>Median booked price per GPU-hour</h2>
          <Show loaded={daily} what="prices" isEmpty={(d) => d.days.every((x) => x.prices.length === 0)} empty="No lease was booked in the last 14 days.">
            {(d) => <Prices daily={d} />}
          </Show>
        </section>
      </div>
      <section className="card">
        <h2>Median listed price per GPU-hour, now</h2>
        <Show loaded={stats} what="prices" isEmpty={(s) => s.median_price_by_model.length === 0} empty="No workers are listed yet.">
          {(s) => (
            <table>
              <thead>
                <tr>
                  <th>Model</th>
                  <th className="num">Median price</th>
                </tr>
              </thead>
              <tbody>
                {s.median_price_by_model.map((m) => (
                  <tr key={m.gpu_model}>
                    <td>{m.gpu_model}</td>
                    <td className="num">
                      <Amount units={BigInt(Math.round(m.median_price_per_gpu_hour))} mint="pay" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Show>
      </section>
      <section className="card">
        <h2>Recent events</h2>
        <Show loaded={activity} what="events" isEmpty={(a) => a.events.length === 0} empty="No payouts or slashes yet.">
          {(a) => <Events events={a.events} />}
        </Show>
      </section>
    </>
  );
}

function Totals({ stats }: { stats: Stats }) {
  return (
    <div className="stats" data-testid="totals">
      <Stat label="GPUs" testid="gpus_total">{stats.gpus_total}</Stat>
      <Stat label="Available" testid="gpus_available">{stats.gpus_available}</Stat>
      <Stat label="Rented" testid="gpus_rented">{stats.gpus_rented}</Stat>
      <Stat label="Utilisation" testid="utilization">{percent(stats.utilization)}</Stat>
      <Stat label="Paid, last 24 h" testid="volume_paid_24h">
        <Amount units={BigInt(stats.volume_paid_24h)} mint="pay" />
      </Stat>
    </div>
  );
}

const RENTED = { name: "rented", color: "#5eead4" };
const AVAILABLE = { name: "available", color: "#3b82f6" };
const OTHER = { name: "unavailable", color: "#334155" };

function grouped(stats: Stats, key: "gpu_model" | "region") {
  const rows = new Map<string, number[]>();
  for (const r of stats.by_model_and_region) {
    const v = rows.get(r[key]) ?? [0, 0, 0];
    v[0] += r.gpus_rented;
    v[1] += r.gpus_available;
    v[2] += r.gpus_total - r.gpus_rented - r.gpus_available;
    rows.set(r[key], v);
  }
  return [...rows].map(([label, values]) => ({ label, values }));
}

const ByModel = ({ stats }: { stats: Stats }) => <Bars rows={grouped(stats, "gpu_model")} parts={[RENTED, AVAILABLE, OTHER]} />;
const ByRegion = ({ stats }: { stats: Stats }) => <Bars rows={grouped(stats, "region")} parts={[RENTED, AVAILABLE, OTHER]} />;

type Event = { at: number | null; kind: string; supplier: string; amount: number; mint: "pay" | "stake"; signature: string; id: string };

async function recentActivity() {
  const [payouts, slashes] = await Promise.all([
    api<Page<Payout>>("/v1/payouts", { limit: 20 }),
    api<Page<Slash>>("/v1/slashes", { limit: 20 }),
  ]);
  const events: Event[] = [
    ...payouts.items.map((p) => ({ at: p.block_time, kind: p.kind, supplier: p.supplier, amount: p.amount, mint: "pay" as const, signature: p.signature, id: p.id })),
    ...slashes.items.map((s) => ({ at: s.block_time, kind: "slash", supplier: s.supplier, amount: s.amount, mint: "stake" as const, signature: s.signature, id: s.id })),
  ].sort((a, b) => (b.at ?? 0) - (a.at ?? 0));
  return { events: events.slice(0, 20) };
}

/** Token units of the payment mint, as chart axes show them. */
function usePayFormat() {
  const { program } = useEnv();
  const decimals = program?.paymentDecimals ?? 0;
  const scale = 10 ** decimals;
  return useMemo(
    () => ({ scale, format: (v: number) => tokens(BigInt(Math.round(v * scale)), decimals, 2) }),
    [scale, decimals],
  );
}

function Volume({ daily }: { daily: Daily }) {
  const { scale, format } = usePayFormat();
  const days = useMemo(() => daily.days.map((d) => d.day), [daily]);
  const series = useMemo(() => [{ label: "paid", values: daily.days.map((d) => d.volume_paid / scale) }], [daily, scale]);
  return (
    <Suspense fallback={<div className="chart" />}>
      <DailyChart days={days} series={series} bars format={format} label="volume paid per day" />
    </Suspense>
  );
}

function Prices({ daily }: { daily: Daily }) {
  const { scale, format } = usePayFormat();
  const days = useMemo(() => daily.days.map((d) => d.day), [daily]);
  const series = useMemo(() => {
    const models = [...new Set(daily.days.flatMap((d) => d.prices.map((p) => p.gpu_model)))].sort();
    return models.map((model) => ({
      label: model,
      values: daily.days.map((d) => {
        const price = d.prices.find((p) => p.gpu_model === model);
        return price ? price.median_price_per_gpu_hour / scale : null;
      }),
    }));
  }, [daily, scale]);
  return (
    <Suspense fallback={<div className="chart" />}>
      <DailyChart days={days} series={series} format={format} label="median booked price per GPU-hour" />
    </Suspense>
  );
}

function Events({ events }: { events: Event[] }) {
  return (
    <div className="scroll">
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Event</th>
            <th className="hide-narrow">Supplier</th>
            <th className="num">Amount</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td>{time(e.at)}</td>
              <td>
                <span className={`tag ${e.kind}`}>{e.kind}</span>
              </td>
              <td className="hide-narrow">
                <Addr value={e.supplier} href={`#/search/${e.supplier}`} />
              </td>
              <td className="num">
                <Amount units={BigInt(e.amount)} mint={e.mint} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type Found =
  | { kind: "worker"; value: WorkerView }
  | { kind: "supplier"; value: SupplierView }
  | { kind: "cluster"; value: ClusterView }
  | { kind: "lease"; value: LeaseView }
  | { kind: "renter"; value: ClusterView[] };

/** What an address is: an account the indexer mirrors, a supplier's authority or a renter. */
export async function lookUp(text: string): Promise<Found[]> {
  const trimmed = text.trim();
  const { getAddressDecoder, getBase58Encoder, address } = await import("@solana/kit");
  const { supplierAddress } = await import("../client/pda");
  let key: string;
  try {
    const bytes = getBase58Encoder().encode(trimmed);
    if (bytes.length !== 32) throw new Error();
    key = getAddressDecoder().decode(bytes);
  } catch {
    throw new Error(`"${trimmed}" is not a Solana address (32 bytes in base58)`);
  }
  const one = async <T,>(path: string): Promise<T | null> =>
    api<T>(path).catch((e) => {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    });
  const [worker, supplier, cluster, lease, authorityOf, clusters] = await Promise.all([
    one<WorkerView>(`/v1/workers/${key}`),
    one<SupplierView>(`/v1/suppliers/${key}`),
    one<ClusterView>(`/v1/clusters/${key}`),
    one<LeaseView>(`/v1/leases/${key}`),
    supplierAddress(address(key)).then((s) => one<SupplierView>(`/v1/suppliers/${s}`)),
    api<Page<ClusterView>>("/v1/clusters", { renter: key, limit: 50 }),
  ]);
  const found: Found[] = [];
  if (worker) found.push({ kind: "worker", value: worker });
  if (supplier) found.push({ kind: "supplier", value: supplier });
  if (authorityOf) found.push({ kind: "supplier", value: authorityOf });
  if (cluster) found.push({ kind: "cluster", value: cluster });
  if (lease) found.push({ kind: "lease", value: lease });
  if (clusters.items.length > 0) found.push({ kind: "renter", value: clusters.items });
  return found;
}

function Search() {
  const initial = decodeURIComponent(location.hash.match(/^#\/search\/(.+)$/)?.[1] ?? "");
  const [text, setText] = useState(initial);
  const [query, setQuery] = useState(initial);
  return (
    <section className="card">
      <form
        className="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(text);
          history.replaceState(null, "", text ? `#/search/${encodeURIComponent(text.trim())}` : "#/");
        }}
      >
        <input
          aria-label="address"
          placeholder="Search an address: worker, supplier, cluster, lease, renter"
          title="Any address: a worker, a supplier or its authority, a cluster, a lease or a renter"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit">Search</button>
      </form>
      {query && <SearchResult query={query} />}
    </section>
  );
}

function SearchResult({ query }: { query: string }) {
  const [found] = useLoad(() => lookUp(query), [query]);
  return (
    <Show loaded={found} what="the address" isEmpty={(f) => f.length === 0} empty="Nothing on this network has that address.">
      {(items) => (
        <div className="found">
          {items.map((f, i) => (
            <div key={i} className="found-item">
              <h3>{f.kind}</h3>
              <Fields value={f.kind === "renter" ? { clusters: f.value.map((c) => `${c.cluster_id} (${c.status})`).join(", ") } : f.value} />
            </div>
          ))}
        </div>
      )}
    </Show>
  );
}

const MONEY = /(stake|staked|unbonding|locked|free|reserved|slashed_total|collateral|bonded)/;
const PAY = /(price|rate|paid|fees|deposited|refunded|earnings|gross)/;

function Fields({ value }: { value: object }) {
  return (
    <dl className="fields">
      {Object.entries(value).map(([k, v]) => (
        <div key={k}>
          <dt>{k.replace(/_/g, " ")}</dt>
          <dd>
            {typeof v === "string" && v.length >= 32 ? (
              <Addr value={v} href={`#/search/${v}`} />
            ) : typeof v === "number" && (k.endsWith("_ts") || k.endsWith("_at") || k === "jailed_until") ? (
              time(v as number)
            ) : typeof v === "number" && PAY.test(k) ? (
              <Amount units={BigInt(v)} mint="pay" />
            ) : typeof v === "number" && MONEY.test(k) ? (
              <Amount units={BigInt(v)} mint="stake" />
            ) : (
              String(v ?? "—")
            )}
          </dd>
        </div>
      ))}
    </dl>
  );
}
