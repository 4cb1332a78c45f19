//! Attestation rounds: every epoch the oracle judges each lease from its start to the window's end under the
//! Time-Lock policy and posts the cumulative proven seconds and fault count on chain, batched many leases per
//! transaction. Values are cumulative and the chain keeps each oracle's latest vote, so a round repeated after a
//! crash or a failed send changes nothing; only leases whose values rose since this oracle's last vote on chain
//! are sent, which keeps fees proportional to news rather than to the number of leases.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use timelock::state::{Cluster, Config as ProgramConfig, Gpu, Lease, Worker, Workload};
use timelock::LeaseReport;
use timelock_protocol::evidence::{self, LeaseEvidence};
use timelock_protocol::merkle;
use timelock_protocol::policy::{judge, Evidence, Expectation, Judgement, Undeclared};
use timelock_protocol::GpuSample;
use timelock_sdk::client::{Client, ClientError, SendOptions};
use timelock_sdk::ix::RenterPayment;

use crate::chain::{Chain, WorkerInfo};
use crate::config::Config;
use crate::outages::Outages;
use crate::store::{EvidenceRow, Store, WorkloadHistory};
use crate::tables::LookupTables;

#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error("chain: {0}")]
    Chain(#[from] ClientError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundReport {
    pub window_end: i64,
    /// Leases judged this round.
    pub judged: usize,
    /// `(lease, proven_secs, faults)` sent on chain.
    pub sent: Vec<(Pubkey, u32, u16)>,
    pub transactions: usize,
    pub failed_transactions: usize,
}

pub struct Attestor {
    /// Where the rounds tell the API this oracle's place in the oracle set.
    pub turns: Arc<crate::api::Turns>,
    pub chain: Arc<Chain>,
    pub store: Store,
    pub config: Config,
    pub signer: Arc<Keypair>,
    pub outages: Arc<Outages>,
    pub tables: LookupTables,
}

/// A verdict this oracle owes an open dispute.
struct Owed {
    lease: Pubkey,
    worker: Pubkey,
    disputer: Pubkey,
    /// Where a rejected dispute's bond goes (the config as this round read it).
    treasury: Pubkey,
    /// The dispute the verdict is for: the chain refuses it for any other.
    dispute_opened_at: i64,
    /// The cluster's payment accounts (the token program is read from the mint when sending).
    payment: RenterPayment,
    evidence: LeaseEvidence,
}

struct Judged {
    lease: Pubkey,
    report: LeaseReport,
    evidence: LeaseEvidence,
    judged_from: i64,
    heartbeats: usize,
}

impl Attestor {
    /// One round up to the chain's clock minus the allowed clock skew (late heartbeats settle first).
    #[tracing::instrument(skip_all, fields(oracle = %self.signer.pubkey()))]
    pub async fn round(&self) -> Result<RoundReport, AttestError> {
        let chain_now = self.chain.read(|client| client.backend.unix_timestamp()).await?;
        let window_end = chain_now - self.config.max_clock_skew_secs;
        let me = self.signer.pubkey();
        let (params, leases, clusters, workers, workloads) = self
            .chain
            .read(move |client| {
                let params = client.account::<ProgramConfig>(&timelock_sdk::pda::config().0)?.params;
                let leases = client.search::<Lease>(&[])?;
                let cluster_keys: Vec<Pubkey> =
                    leases.iter().map(|(_, l)| l.cluster).collect::<BTreeSet<_>>().into_iter().collect();
                let worker_keys: Vec<Pubkey> =
                    leases.iter().map(|(_, l)| l.worker).collect::<BTreeSet<_>>().into_iter().collect();
                let clusters: HashMap<Pubkey, Cluster> = cluster_keys
                    .iter()
                    .zip(client.accounts::<Cluster>(&cluster_keys)?)
                    .filter_map(|(k, c)| Some((*k, c?)))
                    .collect();
                let workers: HashMap<Pubkey, WorkerInfo> = worker_keys
                    .iter()
                    .zip(client.accounts::<Worker>(&worker_keys)?)
                    .filter_map(|(k, w)| Some((*k, WorkerInfo::from_account(&w?))))
                    .collect();
                let workload_keys: Vec<Pubkey> =
                    cluster_keys.iter().map(|c| timelock_sdk::pda::workload(c).0).collect();
                let workloads: Vec<Workload> =
                    client.accounts::<Workload>(&workload_keys)?.into_iter().flatten().collect();
                Ok((params, leases, clusters, workers, workloads))
            })
            .await?;
        if let Some(index) = params.oracles.iter().position(|o| *o == me) {
            self.turns.learn(index, params.oracles.len());
        }
        // Each version of a workload is kept as it is first seen, so intervals are judged against the list in
        // force when their heartbeats arrived (a renter's later edit cannot make a past interval foreign).
        for workload in &workloads {
            self.store.record_workload(workload).await?;
        }
        // Their heartbeats are kept while they are open (`retention.rs`).
        let open: Vec<[u8; 32]> = leases.iter().map(|(address, _)| address.to_bytes()).collect();
        self.store.record_open_leases(&open, chain_now).await?;
        let cluster_keys: Vec<[u8; 32]> = clusters.keys().map(|k| k.to_bytes()).collect();
        let histories = self.store.workloads(&cluster_keys).await?;

        let mut report = RoundReport { window_end, ..RoundReport::default() };
        let mut judged = Vec::new();
        let mut owed_verdicts = Vec::new();
        let earliest = leases.iter().map(|(_, l)| l.start_ts).min().unwrap_or(window_end);
        let outages = self.outages.during(earliest, window_end).await?;
        for (address, lease) in &leases {
            let (Some(cluster), Some(worker)) = (clusters.get(&lease.cluster), workers.get(&lease.worker)) else {
                continue;
            };
            let end = lease.end_ts(cluster.end_ts);
            // Reports count what was seen since the lease's start, or since its last dispute resolution (the
            // chain adds them to what the resolution decided); judging always starts at the lease's start so that
            // runs and outages straddling a resolution stay whole.
            let since = lease.evidence_since();
            let judge_end = end.min(window_end);
            // An open dispute this oracle has not re-judged yet: the quorum of re-judgments decides it. It is judged
            // up to the contested window (or the lease's end), once this oracle's own window has reached it.
            let rejudge_end = lease.disputed_as_of.min(end);
            let owes_verdict = lease.is_disputed()
                && rejudge_end <= judge_end
                && !lease.votes.iter().any(|v| v.oracle == me && v.verdict_for == lease.dispute_opened_at);
            let nothing_new = judge_end <= since || lease.proven_secs >= lease.max_secs(cluster.end_ts);
            if nothing_new && !owes_verdict {
                continue;
            }
            let received = self.store.lease_heartbeats(&address.to_bytes(), lease.start_ts, judge_end).await?;
            let heartbeat_leaves: Vec<merkle::Hash> =
                received.iter().map(|(o, signature)| evidence::heartbeat_leaf(o.received_at, signature)).collect();
            let heartbeats: Vec<_> = received.into_iter().map(|(observation, _)| observation).collect();
            // A challenge that failed while this oracle was itself down (the answer could not reach it) is void.
            let challenges: Vec<_> = self
                .store
                .challenge_results(&me.to_bytes(), &address.to_bytes(), judge_end)
                .await?
                .into_iter()
                .filter(|(issued, r)| r.passed || !outages.iter().any(|o| o.from <= r.at && *issued < o.to))
                .map(|(_, result)| result)
                .collect();
            let renter = self.store.renter_sights(&address.to_bytes(), lease.start_ts, judge_end).await?;
            // The same evidence, judged up to the window's end and, for an open dispute this oracle owes a
            // verdict, up to the window the dispute contests.
            let (verdict, rejudged) = {
                let registered_gpus = |gpus: &[GpuSample]| {
                    Gpu::set_digest_of_uuids(gpus.iter().map(|g| g.uuid.as_str())) == worker.gpu_set
                };
                let workload: &dyn timelock_protocol::policy::Workload =
                    histories.get(&lease.cluster.to_bytes()).map_or(&Undeclared, |h: &WorkloadHistory| h);
                let expect = Expectation {
                    gpu_count: usize::from(worker.gpu_count),
                    gpu_model: &worker.gpu_model,
                    registered_gpus: &registered_gpus,
                    workload,
                };
                let policy = self.config.policy();
                let seen =
                    Evidence { heartbeats: &heartbeats, challenges: &challenges, outages: &outages, renter: &renter };
                let verdict = judge(lease.start_ts, judge_end, seen, expect, policy);
                (verdict, owes_verdict.then(|| judge(lease.start_ts, rejudge_end, seen, expect, policy)))
            };
            self.store
                .record_intervals(&me.to_bytes(), &address.to_bytes(), verdict.start, verdict.step, &verdict.reasons)
                .await?;
            if let Some(rejudged) = rejudged {
                let heard = heartbeats.partition_point(|o| o.received_at < rejudge_end);
                let totals = counted(&rejudged, since);
                let evidence =
                    committed(address, rejudge_end, totals, lease.resolutions, &heartbeat_leaves[..heard], &rejudged);
                let payment = RenterPayment {
                    renter: cluster.renter,
                    cluster_id: cluster.cluster_id,
                    payment_mint: cluster.payment_mint,
                    renter_tokens: Pubkey::default(),
                    token_program: Pubkey::default(),
                };
                let owed = Owed {
                    lease: *address,
                    worker: lease.worker,
                    disputer: lease.disputer,
                    treasury: params.treasury,
                    dispute_opened_at: lease.dispute_opened_at,
                    payment,
                    evidence,
                };
                owed_verdicts.push((owed, lease.start_ts, heard));
            }
            if nothing_new {
                continue;
            }
            report.judged += 1;
            let (proven_secs, faults) = counted(&verdict, since);
            let mine = lease.votes.iter().find(|v| v.oracle == me);
            // A resolution clears every vote, so after one this oracle has none and reports afresh.
            let news = mine.is_none_or(|v| u64::from(proven_secs) > v.proven_secs || u64::from(faults) > v.faults);
            if news {
                let resolution = lease.resolutions;
                let evidence =
                    committed(address, window_end, (proven_secs, faults), resolution, &heartbeat_leaves, &verdict);
                judged.push(Judged {
                    lease: *address,
                    report: LeaseReport { proven_secs, faults, resolution },
                    evidence,
                    judged_from: lease.start_ts,
                    heartbeats: heartbeat_leaves.len(),
                });
            }
        }

        if !judged.is_empty() {
            self.send_reports(window_end, judged, &mut report).await?;
        }
        // After the reports, and never failing the round: a dispute's verdict is retried next round.
        for (owed, judged_from, heartbeats) in owed_verdicts {
            self.give_verdict(owed, judged_from, heartbeats).await;
        }
        tracing::info!(
            window_end,
            judged = report.judged,
            sent = report.sent.len(),
            transactions = report.transactions,
            failed = report.failed_transactions,
            "attestation round"
        );
        Ok(report)
    }

    /// Sends the round's reports in as few transactions as fit and records what each carried.
    async fn send_reports(
        &self,
        window_end: i64,
        judged: Vec<Judged>,
        report: &mut RoundReport,
    ) -> Result<(), AttestError> {
        let me = self.signer.pubkey();
        let reports: Vec<(Pubkey, LeaseReport)> = judged.iter().map(|j| (j.lease, j.report)).collect();
        let leaves: HashMap<Pubkey, merkle::Hash> = judged.iter().map(|j| (j.lease, j.evidence.leaf())).collect();
        let leaves_of = |chunk: &[(Pubkey, LeaseReport)]| -> Vec<merkle::Hash> {
            chunk.iter().map(|(lease, _)| leaves[lease]).collect()
        };
        let tables = self.tables.usable().await;
        let through_tables = !tables.is_empty();
        let paying = self.config.priority_fee > 0;
        let root_of = |chunk: &[(Pubkey, LeaseReport)]| merkle::root(&leaves_of(chunk));
        let batches = timelock_sdk::batch::lease_attest(me, window_end, &reports, &tables, paying, root_of);
        // The attest instruction ends each batch; its accounts past the fixed four are its leases, in order.
        let leases_per_tx: Vec<usize> =
            batches.iter().map(|b| b.last().map_or(0, |ix| ix.accounts.len().saturating_sub(4))).collect();
        let signer = self.signer.clone();
        let priority_fee = self.config.priority_fee;
        let to_send = batches.clone();
        let outcome = self
            .chain
            .read(move |client| {
                let options = SendOptions { priority_fee, ..client.options };
                let sender = Client { backend: client.backend.clone(), options };
                let signers: [&(dyn Signer + Sync); 1] = [signer.as_ref()];
                Ok(sender.send_batches_with_tables(&to_send, &signers, &tables, |_| {}))
            })
            .await?;
        report.transactions = batches.len();
        report.failed_transactions = outcome.failures.len();
        if through_tables && !outcome.failures.is_empty() {
            self.tables.failed();
        }
        let failed: BTreeSet<usize> = outcome.failures.iter().map(|(i, _)| *i).collect();
        let mut signatures = outcome.signatures.iter();
        let mut offset = 0;
        let mut evidence = Vec::with_capacity(judged.len());
        for (index, size) in leases_per_tx.into_iter().enumerate() {
            let in_tx = &judged[offset..offset + size];
            let part: Vec<_> =
                in_tx.iter().map(|j| (j.lease.to_bytes(), j.report.proven_secs, j.report.faults)).collect();
            offset += size;
            let tx_leaves: Vec<merkle::Hash> = in_tx.iter().map(|j| leaves[&j.lease]).collect();
            let root = merkle::root(&tx_leaves);
            // Signatures come for the transactions that landed, in order.
            let landed = !failed.contains(&index);
            let signature = if landed { signatures.next().map(ToString::to_string) } else { None };
            evidence.extend(in_tx.iter().enumerate().map(|(position, j)| EvidenceRow {
                evidence: j.evidence,
                judged_from: j.judged_from,
                heartbeats: j.heartbeats,
                root,
                position,
                leaves: tx_leaves.len(),
                proof: merkle::proof(&tx_leaves, position),
                signature: signature.clone(),
            }));
            if !landed {
                let error = outcome.failures.iter().find(|(i, _)| *i == index).map_or("", |(_, e)| e.as_str());
                tracing::warn!(transaction = index, %error, "attestation transaction failed; retried next round");
                self.store.record_reports(&me.to_bytes(), window_end, &part, Err(error)).await?;
            } else {
                let signature = signature.unwrap_or_default();
                self.store.record_reports(&me.to_bytes(), window_end, &part, Ok(&signature)).await?;
                report.sent.extend(part.iter().map(|(l, p, f)| (Pubkey::new_from_array(*l), *p, *f)));
            }
        }
        self.store.record_evidence(&me.to_bytes(), &evidence).await?;
        // The leases sent go in the oracle's lookup tables for the next rounds.
        let judged: Vec<Pubkey> = judged.iter().map(|j| j.lease).collect();
        self.tables.maintain(&judged).await;
        Ok(())
    }

    /// Sends this oracle's re-judgment of a disputed lease and records the evidence it commits to. A failure is
    /// logged; the next round tries again (the chain has no verdict of this oracle for the dispute yet).
    async fn give_verdict(&self, owed: Owed, judged_from: i64, heartbeats: usize) {
        let leaf = owed.evidence.leaf();
        let (signer, priority_fee) = (self.signer.clone(), self.config.priority_fee);
        let e = owed.evidence;
        let sent: Result<_, ClientError> = self
            .chain
            .read(move |client| {
                let mut payment = owed.payment;
                payment.token_program = client.account_raw(&payment.payment_mint)?.owner;
                let ixs = timelock_sdk::ix::lease_dispute_verdict(
                    signer.pubkey(),
                    payment,
                    owed.worker,
                    owed.disputer,
                    owed.treasury,
                    owed.dispute_opened_at,
                    u64::from(e.proven_secs),
                    u64::from(e.faults),
                    leaf,
                );
                let sender =
                    Client { backend: client.backend.clone(), options: SendOptions { priority_fee, ..client.options } };
                sender.send(&ixs, &[signer.as_ref()])
            })
            .await;
        let signature = match sent {
            Ok(signature) => Some(signature.to_string()),
            Err(error) => {
                tracing::warn!(lease = %owed.lease, %error, "dispute verdict not sent; retried next round");
                return;
            }
        };
        tracing::info!(lease = %owed.lease, proven_secs = e.proven_secs, faults = e.faults, "dispute verdict given");
        // The verdict's evidence is its own one-leaf tree: the root on chain is the leaf.
        let row = EvidenceRow {
            evidence: e,
            judged_from,
            heartbeats,
            root: leaf,
            position: 0,
            leaves: 1,
            proof: Vec::new(),
            signature,
        };
        if let Err(error) = self.store.record_evidence(&self.signer.pubkey().to_bytes(), &[row]).await {
            tracing::warn!(lease = %owed.lease, %error, "a given verdict's evidence was not recorded");
        }
    }
}

/// A judgement's totals from `since` on, as a report carries them.
fn counted(judgement: &Judgement, since: i64) -> (u32, u16) {
    let (proven, faults) = judgement.counted_from(since);
    (u32::try_from(proven).unwrap_or(u32::MAX), u16::try_from(faults).unwrap_or(u16::MAX))
}

/// What a report or a dispute verdict commits to for a lease: its totals, the heartbeats judged and the verdicts.
fn committed(
    lease: &Pubkey,
    window_end: i64,
    (proven_secs, faults): (u32, u16),
    resolution: u8,
    heartbeat_leaves: &[merkle::Hash],
    judgement: &Judgement,
) -> LeaseEvidence {
    LeaseEvidence {
        lease: lease.to_bytes(),
        window_end,
        proven_secs,
        faults,
        resolution,
        heartbeats_root: evidence::heartbeats_root(heartbeat_leaves),
        verdicts_digest: evidence::verdicts_digest(judgement.start, judgement.step, &judgement.reasons),
    }
}
