//! The write path: request handlers queue checked heartbeats; one writer task takes whatever has queued (up to
//! `max_batch`), verifies the signatures as a batch across all cores, refuses replays against the highest
//! sequence per worker, stores the rest in one transaction, and only then answers each request. Under load the
//! batches grow by themselves (group commit), so the cost of a durable commit is shared by many heartbeats.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use timelock_protocol::{verify_batch, SignedHeartbeat};
use timelock_service_kit::Metrics;
use tokio::sync::{mpsc, oneshot};

use crate::store::{Key, Store, StoredHeartbeat};

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
    pub reply: oneshot::Sender<Result<(), Refusal>>,
}

pub struct Writer {
    store: Store,
    max_batch: usize,
    last_sequence: HashMap<Key, i64>,
    batches: Arc<AtomicU64>,
    stored: Arc<AtomicU64>,
    refused_signature: Arc<AtomicU64>,
    refused_replay: Arc<AtomicU64>,
    storage_errors: Arc<AtomicU64>,
}

impl Writer {
    pub fn new(store: Store, max_batch: usize, metrics: &Metrics) -> Self {
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
            last_sequence: HashMap::new(),
            batches: metrics.counter("oracle_ingest_batches_total", "Database transactions of heartbeats.", ""),
            stored: metrics.counter("oracle_heartbeats_stored_total", "Heartbeats stored and acknowledged.", ""),
            refused_signature: refused("bad_signature"),
            refused_replay: refused("replay"),
            storage_errors: metrics.counter("oracle_storage_errors_total", "Batches the database refused.", ""),
        }
    }

    /// Runs until every sender is gone, answering everything that was queued.
    pub async fn run(mut self, mut queue: mpsc::Receiver<Pending>) {
        let mut batch = Vec::with_capacity(self.max_batch);
        while queue.recv_many(&mut batch, self.max_batch).await > 0 {
            self.write(std::mem::take(&mut batch)).await;
        }
        tracing::info!("heartbeat writer drained");
    }

    #[tracing::instrument(skip_all, fields(size = batch.len()))]
    async fn write(&mut self, batch: Vec<Pending>) {
        let (batch, verdicts) = tokio::task::spawn_blocking(move || {
            let verdicts = verify_in_parallel(&batch);
            (batch, verdicts)
        })
        .await
        .expect("signature verification does not panic");

        let mut accepted = Vec::with_capacity(batch.len());
        let mut unknown: Vec<Key> = Vec::new();
        for (pending, verified) in batch.iter().zip(&verdicts) {
            let worker = pending.heartbeat.heartbeat.worker;
            if *verified && !self.last_sequence.contains_key(&worker) && !unknown.contains(&worker) {
                unknown.push(worker);
            }
        }
        if !unknown.is_empty() {
            match self.store.last_sequences(&unknown).await {
                Ok(found) => {
                    for worker in unknown {
                        self.last_sequence.insert(worker, found.get(&worker).copied().unwrap_or(i64::MIN));
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "reading last sequences");
                    return self.fail(batch);
                }
            }
        }

        let mut before: HashMap<Key, i64> = HashMap::new();
        let mut rows = Vec::with_capacity(batch.len());
        for (pending, verified) in batch.into_iter().zip(verdicts) {
            if !verified {
                self.refused_signature.fetch_add(1, Ordering::Relaxed);
                let _ = pending.reply.send(Err(Refusal::BadSignature));
                continue;
            }
            let beat = &pending.heartbeat.heartbeat;
            let sequence = beat.sequence as i64;
            let last = self.last_sequence.get_mut(&beat.worker).expect("loaded above");
            if sequence <= *last {
                self.refused_replay.fetch_add(1, Ordering::Relaxed);
                let _ = pending.reply.send(Err(Refusal::Replay { last: *last }));
                continue;
            }
            before.entry(beat.worker).or_insert(*last);
            *last = sequence;
            rows.push(StoredHeartbeat::from_verified(&pending.heartbeat));
            accepted.push(pending.reply);
        }
        if rows.is_empty() {
            return;
        }
        match self.store.insert_heartbeats(&rows).await {
            Ok(()) => {
                self.batches.fetch_add(1, Ordering::Relaxed);
                self.stored.fetch_add(rows.len() as u64, Ordering::Relaxed);
                for reply in accepted {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(error) => {
                tracing::error!(%error, rows = rows.len(), "storing heartbeats");
                self.storage_errors.fetch_add(1, Ordering::Relaxed);
                // Nothing of the batch was stored: the sequences it claimed are free again.
                self.last_sequence.extend(before);
                for reply in accepted {
                    let _ = reply.send(Err(Refusal::Storage));
                }
            }
        }
    }

    fn fail(&self, batch: Vec<Pending>) {
        self.storage_errors.fetch_add(1, Ordering::Relaxed);
        for pending in batch {
            let _ = pending.reply.send(Err(Refusal::Storage));
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
