//! The write path: request handlers queue checked heartbeats; one writer takes whatever has queued (up to
//! `max_batch`), verifies the signatures as a batch across all cores, refuses replays against the highest
//! sequence per worker, stores the rest in one transaction, and only then answers each request. Under load the
//! batches grow by themselves (group commit), so the cost of a durable commit is shared by many heartbeats; and
//! the next batch is verified while the previous one commits.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use timelock_protocol::{verify_batch, SignedHeartbeat};
use timelock_service_kit::Metrics;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::outages::Outages;
use crate::store::{Key, OutageCause, Store, StoredHeartbeat};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    BadSignature,
    /// The sequence is not above the highest stored one.
    Replay {
        last: i64,
    },
    /// The database did not take the batch; nothing of it was stored.
    Storage,
}

pub struct Pending {
    pub heartbeat: SignedHeartbeat,
    pub device_key: Key,
    /// The oracle's clock when the request arrived.
    pub received_at: i64,
    pub reply: oneshot::Sender<Result<(), Refusal>>,
}

type Sequences = Arc<Mutex<HashMap<Key, i64>>>;

/// A checked batch on its way to the database.
struct Prepared {
    rows: Vec<StoredHeartbeat>,
    replies: Vec<oneshot::Sender<Result<(), Refusal>>>,
    /// Per worker: the highest sequence before this batch, and the one it claimed.
    claimed: HashMap<Key, (i64, i64)>,
}

#[derive(Clone)]
struct Counters {
    batches: Arc<AtomicU64>,
    /// Time spent committing batches, in microseconds (with `batches`, the mean commit latency).
    commit_micros: Arc<AtomicU64>,
    stored: Arc<AtomicU64>,
    refused_signature: Arc<AtomicU64>,
    refused_replay: Arc<AtomicU64>,
    storage_errors: Arc<AtomicU64>,
}

pub struct Writer {
    store: Store,
    max_batch: usize,
    last_sequence: Sequences,
    counters: Counters,
    outages: Arc<Outages>,
}

impl Writer {
    pub fn new(store: Store, max_batch: usize, metrics: &Metrics, outages: Arc<Outages>) -> Self {
        let refused = |reason: &str| {
            metrics.counter(
                "oracle_heartbeats_refused_total",
                "Heartbeats refused by the writer.",
                &format!("reason=\"{reason}\""),
            )
        };
        Writer {
            store,
            max_batch: max_batch.max(1),
            last_sequence: Arc::default(),
            counters: Counters {
                batches: metrics.counter("oracle_ingest_batches_total", "Database transactions of heartbeats.", ""),
                commit_micros: metrics.counter(
                    "oracle_ingest_commit_micros_total",
                    "Microseconds spent committing heartbeat batches (divide by the batches for the mean).",
                    "",
                ),
                stored: metrics.counter("oracle_heartbeats_stored_total", "Heartbeats stored and acknowledged.", ""),
                refused_signature: refused("bad_signature"),
                refused_replay: refused("replay"),
                storage_errors: metrics.counter("oracle_storage_errors_total", "Batches the database refused.", ""),
            },
            outages,
        }
    }

    /// Runs until every sender is gone, answering everything that was queued. At most one batch is being
    /// committed while the next is verified.
    pub async fn run(self, mut queue: mpsc::Receiver<Pending>) {
        let mut batch = Vec::with_capacity(self.max_batch);
        let mut committing: Option<JoinHandle<()>> = None;
        while queue.recv_many(&mut batch, self.max_batch).await > 0 {
            let prepared = self.prepare(std::mem::take(&mut batch)).await;
            if let Some(previous) = committing.take() {
                let _ = previous.await;
            }
            if let Some(prepared) = prepared {
                let (store, sequences, counters, outages) =
                    (self.store.clone(), self.last_sequence.clone(), self.counters.clone(), self.outages.clone());
                committing = Some(tokio::spawn(commit(store, sequences, counters, outages, prepared)));
            }
        }
        if let Some(last) = committing {
            let _ = last.await;
        }
        tracing::info!("heartbeat writer drained");
    }

    /// Verifies and sequence-checks a batch, answering the refused; `None` when nothing is left to store.
    #[tracing::instrument(skip_all, fields(size = batch.len()))]
    async fn prepare(&self, batch: Vec<Pending>) -> Option<Prepared> {
        let (batch, verdicts) = tokio::task::spawn_blocking(move || {
            let verdicts = verify_in_parallel(&batch);
            (batch, verdicts)
        })
        .await
        .expect("signature verification does not panic");

        let unknown: Vec<Key> = {
            let known = self.last_sequence.lock().expect("sequence lock");
            let mut unknown: Vec<Key> = batch
                .iter()
                .zip(&verdicts)
                .filter(|(p, ok)| **ok && !known.contains_key(&p.heartbeat.heartbeat.worker))
                .map(|(p, _)| p.heartbeat.heartbeat.worker)
                .collect();
            unknown.sort_unstable();
            unknown.dedup();
            unknown
        };
        if !unknown.is_empty() {
            match self.store.last_sequences(&unknown).await {
                Ok(found) => {
                    let mut known = self.last_sequence.lock().expect("sequence lock");
                    for worker in unknown {
                        known.entry(worker).or_insert(found.get(&worker).copied().unwrap_or(i64::MIN));
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "reading last sequences");
                    self.outages.failed(OutageCause::Database);
                    self.counters.storage_errors.fetch_add(1, Ordering::Relaxed);
                    for pending in batch {
                        let _ = pending.reply.send(Err(Refusal::Storage));
                    }
                    return None;
                }
            }
        }

        let mut prepared = Prepared { rows: Vec::new(), replies: Vec::new(), claimed: HashMap::new() };
        let mut known = self.last_sequence.lock().expect("sequence lock");
        for (pending, verified) in batch.into_iter().zip(verdicts) {
            if !verified {
                self.counters.refused_signature.fetch_add(1, Ordering::Relaxed);
                let _ = pending.reply.send(Err(Refusal::BadSignature));
                continue;
            }
            let beat = &pending.heartbeat.heartbeat;
            let sequence = beat.sequence as i64;
            let last = known.get_mut(&beat.worker).expect("loaded above");
            if sequence <= *last {
                self.counters.refused_replay.fetch_add(1, Ordering::Relaxed);
                let _ = pending.reply.send(Err(Refusal::Replay { last: *last }));
                continue;
            }
            prepared.claimed.entry(beat.worker).or_insert((*last, sequence)).1 = sequence;
            *last = sequence;
            prepared.rows.push(StoredHeartbeat::from_verified(&pending.heartbeat, pending.received_at));
            prepared.replies.push(pending.reply);
        }
        (!prepared.rows.is_empty()).then_some(prepared)
    }
}

async fn commit(store: Store, sequences: Sequences, counters: Counters, outages: Arc<Outages>, prepared: Prepared) {
    let started = std::time::Instant::now();
    match store.insert_heartbeats(&prepared.rows).await {
        Ok(inserted) => {
            counters.commit_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            outages.recovered(OutageCause::Database).await;
            counters.batches.fetch_add(1, Ordering::Relaxed);
            for ((row, reply), new) in prepared.rows.iter().zip(prepared.replies).zip(inserted) {
                if new {
                    counters.stored.fetch_add(1, Ordering::Relaxed);
                    let _ = reply.send(Ok(()));
                } else {
                    // Already stored, by another writer or before a restart: a replay, not a failure.
                    counters.refused_replay.fetch_add(1, Ordering::Relaxed);
                    let _ = reply.send(Err(Refusal::Replay { last: row.sequence }));
                }
            }
        }
        Err(error) => {
            tracing::error!(%error, rows = prepared.rows.len(), "storing heartbeats");
            outages.failed(OutageCause::Database);
            counters.storage_errors.fetch_add(1, Ordering::Relaxed);
            // Nothing of the batch was stored: the sequences it claimed are free again, unless a later batch
            // has already claimed higher ones.
            let mut known = sequences.lock().expect("sequence lock");
            for (worker, (before, claimed)) in prepared.claimed {
                if known.get(&worker) == Some(&claimed) {
                    known.insert(worker, before);
                }
            }
            drop(known);
            for reply in prepared.replies {
                let _ = reply.send(Err(Refusal::Storage));
            }
        }
    }
}

/// Batch verification split over the machine's cores; `true` where the signature is good.
pub fn verify_in_parallel(batch: &[Pending]) -> Vec<bool> {
    let items: Vec<(&SignedHeartbeat, Key)> = batch.iter().map(|p| (&p.heartbeat, p.device_key)).collect();
    verify_items_in_parallel(&items)
}

pub fn verify_items_in_parallel(items: &[(&SignedHeartbeat, Key)]) -> Vec<bool> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(cores).max(64);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || verify_batch(part).into_iter().map(|r| r.is_ok()).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("verification thread")).collect()
    })
}
