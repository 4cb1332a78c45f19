import { useState } from "react";

import { all, api, ApiError, type Page, type Slash, type SupplierView, type WorkerView, type SupplierTotals } from "../api";
import { claimEarnings, setAvailable, stakeDeposit, stakeUnbond, stakeWithdraw, unjail } from "../actions";
import { parseTokens, time } from "../format";
import { supplierAddress } from "../client/pda";
import { useConnection, type Connected } from "../wallet";
import { Action, Addr, Amount, Show, Stat, useEnv, useLoad } from "../ui";
import { NeedWallet } from "./Clusters";

export function Supplier() {
  const wallet = useConnection();
  if (!wallet) return <NeedWallet what="your supplier account" />;
  return <SupplierPage wallet={wallet} />;
}

async function loadSupplier(authority: string) {
  const address = await supplierAddress(authority as never);
  const supplier = await api<SupplierView>(`/v1/suppliers/${address}`).catch((e) => {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  });
  if (!supplier) return null;
  const [totals, workers, slashes] = await Promise.all([
    api<SupplierTotals>(`/v1/suppliers/${address}/totals`),
    all<WorkerView>("/v1/workers", { supplier: address }, 500).then((ws) => ws.sort((a, b) => a.worker_index - b.worker_index)),
    api<Page<Slash>>("/v1/slashes", { supplier: address, limit: 20 }),
  ]);
  return { supplier, totals, workers, slashes: slashes.items };
}

function SupplierPage({ wallet }: { wallet: Connected }) {
  const { chain, program } = useEnv();
  const [loaded, reload] = useLoad(() => loadSupplier(wallet.address), [wallet.address], 3_000);
  const [amount, setAmount] = useState("");
  const stakeUnits = () => parseTokens(amount, program?.stakeDecimals ?? 9);
  const now = Date.now() / 1000;
  return (
    <>
      <h1>Supplier</h1>
      <Show
        loaded={loaded}
        what="your supplier account"
        isEmpty={(s) => s === null}
        empty="This wallet is not a registered supplier (register and add workers with `timelock supplier register` and `timelock worker register`)."
      >
        {(s) => {
          const { supplier: sup, totals, workers, slashes } = s!;
          return (
            <>
              <section className="card">
                <h2>
                  Stake <Addr value={sup.address} href={`#/search/${sup.address}`} />
                </h2>
                <div className="stats">
                  <Stat label="Staked" testid="staked"><Amount units={BigInt(sup.staked)} mint="stake" /></Stat>
                  <Stat label="Locked"><Amount units={BigInt(sup.locked)} mint="stake" /></Stat>
                  <Stat label="Free"><Amount units={BigInt(sup.free)} mint="stake" /></Stat>
                  <Stat label="Unbonding"><Amount units={BigInt(sup.unbonding)} mint="stake" /></Stat>
                  <Stat label="Unbond ready" when>{sup.unbonding > 0 ? time(sup.unbond_ready_at) : "—"}</Stat>
                  <Stat label="Slashed"><Amount units={BigInt(sup.slashed_total)} mint="stake" /></Stat>
                </div>
                <div className="actions">
                  <label className="inline">
                    <input inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} placeholder="amount" aria-label="stake amount" />
                  </label>
                  <Action label="Stake" run={async (p) => { await stakeDeposit(chain, wallet, stakeUnits(), p); reload(); return "Staked"; }} />
                  <Action label="Unbond" run={async (p) => { await stakeUnbond(chain, wallet, stakeUnits(), p); reload(); return "Unbonding started"; }} />
                  <Action label="Withdraw unbonded" disabled={sup.unbonding === 0 || sup.unbond_ready_at > now} run={async (p) => { await stakeWithdraw(chain, wallet, p); reload(); return "Withdrawn"; }} />
                </div>
              </section>
              <section className="card">
                <h2>Earnings</h2>
                <div className="stats">
                  <Stat label="Unclaimed" testid="earnings_unclaimed"><Amount units={BigInt(sup.earnings_unclaimed)} mint="pay" /></Stat>
                  <Stat label="Claimed" testid="earnings_claimed"><Amount units={BigInt(sup.earnings_claimed)} mint="pay" /></Stat>
                  <Stat label="Earned, all time" testid="earned_total"><Amount units={BigInt(totals.earned_total)} mint="pay" /></Stat>
                  <Stat label="Active leases">{sup.active_leases}</Stat>
                  <Stat label="Faults">{sup.fault_count}</Stat>
                </div>
                <div className="actions">
                  <Action label="Claim earnings" kind="primary" disabled={sup.earnings_unclaimed === 0} run={async (p) => { await claimEarnings(chain, wallet, p); reload(); return "Claimed to your wallet"; }} />
                </div>
              </section>
              <section className="card">
                <h2>Workers</h2>
                {workers.length === 0 ? (
                  <div className="state empty">No worker registered yet.</div>
                ) : (
                  <div className="scroll">
                    <table>
                      <thead>
                        <tr>
                          <th className="hide-narrow">#</th>
                          <th>Worker</th>
                          <th className="hide-narrow">GPUs</th>
                          <th className="num hide-narrow">Price / GPU-h</th>
                          <th>Status</th>
                          <th className="hide-narrow">Faults</th>
                          <th>Actions</th>
                        </tr>
                      </thead>
                      <tbody>
                        {workers.map((w) => (
                          <tr key={w.address}>
                            <td className="hide-narrow">{w.worker_index}</td>
                            <td><Addr value={w.address} href={`#/search/${w.address}`} /></td>
                            <td className="hide-narrow">{w.gpu_count} × {w.gpu_model}</td>
                            <td className="num hide-narrow"><Amount units={BigInt(w.price_per_gpu_hour)} mint="pay" /></td>
                            <td>
                              {w.jailed_until > 0 ? <span className="tag slash">jailed since {time(w.jailed_until)}</span> : w.active_lease ? <span className="tag ok">rented</span> : w.available ? <span className="tag">available</span> : <span className="tag">off</span>}
                            </td>
                            <td className="hide-narrow">{w.fault_count}</td>
                            <td>
                              <div className="actions tight">
                              <Action label={w.available ? "Set unavailable" : "Set available"} run={async (p) => { await setAvailable(chain, wallet, w.worker_index, !w.available, p); reload(); return "Saved"; }} />
                              {w.jailed_until > 0 && <Action label="Unjail" run={async (p) => { await unjail(chain, wallet, w.worker_index, p); reload(); return "Unjailed"; }} />}
                              </div>
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )}
              </section>
              <section className="card">
                <h2>Slashes</h2>
                {slashes.length === 0 ? (
                  <div className="state empty">Never slashed.</div>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th>When</th>
                        <th>Lease</th>
                        <th className="num">Amount</th>
                      </tr>
                    </thead>
                    <tbody>
                      {slashes.map((x) => (
                        <tr key={x.id}>
                          <td>{time(x.block_time)}</td>
                          <td><Addr value={x.lease} href={x.lease ? `#/search/${x.lease}` : undefined} /></td>
                          <td className="num"><Amount units={BigInt(x.amount)} mint="stake" /></td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
            </>
          );
        }}
      </Show>
    </>
  );
}
