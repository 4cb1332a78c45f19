import { useState } from "react";
import { address } from "@solana/kit";

import { all, api, type ClusterView, type LeaseIntervals, type LeaseView } from "../api";
import { closeCluster, dispute, endCluster, extend, removeWorker, settle } from "../actions";
import { duration, time } from "../format";
import { useConnection, type Connected } from "../wallet";
import { Action, Addr, Amount, Show, Stat, useEnv, useLoad } from "../ui";

export function Clusters() {
  const wallet = useConnection();
  if (!wallet) return <NeedWallet what="your clusters" />;
  return <RenterClusters wallet={wallet} />;
}

export function NeedWallet({ what }: { what: string }) {
  return (
    <>
      <div className="state empty">Connect a wallet (top right) to see {what}.</div>
    </>
  );
}

function RenterClusters({ wallet }: { wallet: Connected }) {
  const [clusters, reload] = useLoad(
    () => all<ClusterView>("/v1/clusters", { renter: wallet.address }, 200),
    [wallet.address],
    3_000,
  );
  return (
    <>
      <h1>My clusters</h1>
      <Show loaded={clusters} what="clusters" isEmpty={(c) => c.length === 0} empty={<>You have no cluster yet: book one in the <a href="#/market">marketplace</a>.</>}>
        {(cs) => (
          <>
            {cs.map((c) => (
              <ClusterCard key={c.address} cluster={c} wallet={wallet} reload={reload} />
            ))}
          </>
        )}
      </Show>
    </>
  );
}

function ClusterCard({ cluster: c, wallet, reload }: { cluster: ClusterView; wallet: Connected; reload: () => void }) {
  const { chain } = useEnv();
  const [leases, reloadLeases] = useLoad(() => all<LeaseView>("/v1/leases", { cluster: c.address }, 200), [c.address], 3_000);
  const [hours, setHours] = useState("1");
  const id = BigInt(c.cluster_id);
  const done = (text: string) => () => {
    reload();
    reloadLeases();
    return text;
  };
  const open = c.status === "open";
  return (
    <section className="card cluster" data-testid={`cluster-${c.cluster_id}`}>
      <h2>
        Cluster {c.cluster_id} <span className={`tag ${c.status}`}>{c.status}</span>
      </h2>
      <div className="stats">
        <Stat label="Ends" when>{time(c.end_ts)}</Stat>
        <Stat label="Hours">{c.hours}</Stat>
        <Stat label="Deposited"><Amount units={BigInt(c.deposited)} mint="pay" /></Stat>
        <Stat label="Paid to suppliers"><Amount units={BigInt(c.paid_to_suppliers)} mint="pay" /></Stat>
        <Stat label="Refunded"><Amount units={BigInt(c.refunded)} mint="pay" /></Stat>
      </div>
      <div className="actions">
        <label className="inline">
          <input inputMode="numeric" value={hours} onChange={(e) => setHours(e.target.value)} aria-label="hours to extend" />h
        </label>
        <Action label="Extend" disabled={!open} run={async (p) => { await extend(chain, wallet, id, Number(hours), p); return done(`Extended by ${hours} h`)(); }} />
        <Action label="End early" kind="danger" disabled={!open} run={async (p) => { await endCluster(chain, wallet, id, p); return done("Ended")(); }} />
        <Action label="Close" disabled={c.leases_open > 0} run={async (p) => { await closeCluster(chain, wallet, id, p); return done("Closed: the escrow's remainder is refunded")(); }} />
      </div>
      <Show loaded={leases} what="leases" isEmpty={(l) => l.length === 0} empty="No worker in this cluster.">
        {(ls) => (
          <div className="leases">
            {ls.map((l) => (
              <LeaseRow key={l.address} lease={l} cluster={c} wallet={wallet} done={done} />
            ))}
          </div>
        )}
      </Show>
    </section>
  );
}

function LeaseRow({ lease: l, cluster: c, wallet, done }: { lease: LeaseView; cluster: ClusterView; wallet: Connected; done: (t: string) => () => string }) {
  const { chain } = useEnv();
  const [why, setWhy] = useState(false);
  const id = BigInt(c.cluster_id);
  const renter = address(c.renter);
  const paidSecs = l.hourly_rate > 0 ? Math.floor((l.gross_paid * 3_600) / l.hourly_rate) : 0;
  return (
    <div className="lease" data-testid={`lease-${l.address}`}>
      <div className="lease-head">
        <span>
          Worker <Addr value={l.worker} href={`#/search/${l.worker}`} /> · {l.gpu_count} GPUs at <Amount units={BigInt(l.price_per_gpu_hour)} mint="pay" />/GPU-h
        </span>
        {l.disputed && <span className="tag slash">disputed</span>}
        {l.removed_at > 0 && <span className="tag">removed</span>}
      </div>
      <div className="stats small">
        <Stat label="Proven" testid="proven_secs"><span data-secs={l.proven_secs}>{duration(l.proven_secs)}</span></Stat>
        <Stat label="Final" testid="final_secs"><span data-secs={l.final_secs}>{duration(l.final_secs)}</span></Stat>
        <Stat label="Paid" testid="paid_secs"><span data-secs={paidSecs}>{duration(paidSecs)}</span></Stat>
        <Stat label="Faults">{l.faults}</Stat>
        <Stat label="Paid out"><Amount units={BigInt(l.gross_paid)} mint="pay" /></Stat>
      </div>
      <div className="actions">
        <button type="button" onClick={() => setWhy(!why)}>{why ? "Hide" : "Why not paid?"}</button>
        <Action label="Settle" run={async (p) => { await settle(chain, wallet, renter, id, address(l.address), p); return done("Settled")(); }} />
        <Action label="Dispute" kind="danger" disabled={l.disputed} run={async (p) => { await dispute(chain, wallet, renter, id, address(l.address), p); return done("Dispute opened: the oracles re-judge the lease")(); }} />
        <Action label="Remove worker" kind="danger" disabled={l.removed_at > 0 || c.status !== "open"} run={async (p) => { await removeWorker(chain, wallet, id, address(l.worker), p); return done("Removed")(); }} />
      </div>
      {why && <Unpaid lease={l.address} />}
    </div>
  );
}

function Unpaid({ lease }: { lease: string }) {
  const [intervals] = useLoad(() => api<LeaseIntervals>(`/v1/leases/${lease}/intervals`, { limit: 500 }), [lease], 10_000);
  return (
    <Show loaded={intervals} what="the oracles' verdicts">
      {(answer) => {
        if (answer.oracles.length === 0) return <div className="state empty">This indexer asks no oracle (oracle_urls is empty).</div>;
        const heard = answer.oracles.find((o) => "intervals" in o);
        if (!heard || !("intervals" in heard)) {
          return <div className="state error">No oracle answered: {answer.oracles.map((o) => ("error" in o ? o.error : "")).join("; ")}</div>;
        }
        const unpaid = heard.intervals.filter((i) => i.reason !== "proven");
        if (unpaid.length === 0) return <div className="state empty">Every interval the oracle judged was proven.</div>;
        return (
          <table className="intervals">
            <thead>
              <tr>
                <th>From</th>
                <th>To</th>
                <th>Why not paid</th>
              </tr>
            </thead>
            <tbody>
              {unpaid.slice(-20).map((i) => (
                <tr key={i.start}>
                  <td>{time(i.start)}</td>
                  <td>{time(i.end)}</td>
                  <td>
                    <span className="tag slash">{i.reason.replace(/_/g, " ")}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        );
      }}
    </Show>
  );
}
