//! The write path: request handlers queue checked heartbeats; one writer takes whatever has queued (up to
//! `max_batch`), verifies the signatures as a batch across all cores, refuses replays against the highest
//! sequence per worker, stores the rest in one transaction, and only then answers each request. Under load the
//! batches grow by themselves (group commit), so the cost of a durable commit is shared by many heartbeats; the
//! next batch is verified while the previous ones commit, several at once when they share no worker.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use timelock_protocol::{verify_messages, DeviceKey, SignedHeartbeat, HEARTBEAT_DOMAIN};
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

/// A heartbeat as the writer takes it: its keys and numbers, its signature, and the bytes its device key signed
/// ([`timelock_protocol::Heartbeat::signing_bytes`]: its one Borsh serialisation, checked against the signature
/// and then stored). The request's handler encodes it, so that the decoded heartbeat is dropped on the thread
/// that allocated it.
pub struct EncodedHeartbeat {
    pub worker: Key,
    pub lease: Key,
    pub sequence: i64,
    pub timestamp: i64,
    pub signature: [u8; 64],
    pub signed: Vec<u8>,
}

impl EncodedHeartbeat {
    /// `signed`, whose sequence is below 2^63 (the handler refuses the others).
    pub fn new(signed: &SignedHeartbeat) -> Self {
        let beat = &signed.heartbeat;
        EncodedHeartbeat {
            worker: beat.worker,
            lease: beat.lease,
            sequence: beat.sequence as i64,
            timestamp: beat.timestamp,
            signature: signed.signature,
            signed: beat.signing_bytes(),
        }
    }

    /// The row to store, received at `received_at`: the payload is the encoding without the domain prefix.
    pub(crate) fn into_row(self, received_at: i64) -> StoredHeartbeat {
        let mut payload = self.signed;
        payload.drain(..HEARTBEAT_DOMAIN.len());
        StoredHeartbeat {
            worker: self.worker,
            sequence: self.sequence,
            lease: self.lease,
            timestamp: self.timestamp,
            received_at,
            payload,
            signature: self.signature.to_vec(),
        }
    }
}

pub struct Pending {
    pub heartbeat: EncodedHeartbeat,
    /// The worker's registered device key (`None`: no ed25519 point, so the heartbeat cannot verify).
    pub device_key: Option<DeviceKey>,
    /// The oracle's clock when the request arrived.
    pub received_at: i64,
    pub reply: oneshot::Sender<Result<(), Refusal>>,
}

type Sequences = Arc<Mutex<HashMap<Key, i64>>>;

/// Batches committing at once, at most. A durable commit waits for the disk (milliseconds), and Postgres flushes
/// the WAL of every transaction waiting at the time in one go: with several in flight, that wait no longer bounds
/// the rate. Two batches that share a worker never commit at once, so no transaction waits on another's lock of
/// a worker's mark (nor deadlocks with it), and a worker's heartbeats are stored in order.
const COMMITS_IN_FLIGHT: usize = 4;

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
    /// Time spent verifying and encoding batches, in microseconds.
    verify_micros: Arc<AtomicU64>,
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
                verify_micros: metrics.counter(
                    "oracle_ingest_verify_micros_total",
                    "Microseconds spent verifying and encoding heartbeat batches, all cores at once.",
                    "",
                ),
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

    /// Runs until every sender is gone, answering everything that was queued. Up to [`COMMITS_IN_FLIGHT`]
    /// batches commit while the next is verified.
    pub async fn run(self, mut queue: mpsc::Receiver<Pending>) {
        // Verification runs a batch ahead: the next batch is verified while this one waits for room to commit.
        let (verified_tx, mut verified) = mpsc::channel::<(Vec<Pending>, Vec<bool>)>(1);
        let (max_batch, verify_micros) = (self.max_batch, self.counters.verify_micros.clone());
        let verifier = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(max_batch);
            while queue.recv_many(&mut batch, max_batch).await > 0 {
                let batch = std::mem::take(&mut batch);
                let started = std::time::Instant::now();
                let checked = tokio::task::spawn_blocking(move || {
                    let verdicts = verify_in_parallel(&batch);
                    (batch, verdicts)
                })
                .await
                .expect("signature verification does not panic");
                verify_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                if verified_tx.send(checked).await.is_err() {
                    break;
                }
            }
        });
        // The batches committing, each with its workers.
        let mut committing: Vec<(HashSet<Key>, JoinHandle<()>)> = Vec::new();
        while let Some((batch, verdicts)) = verified.recv().await {
            let Some(prepared) = self.prepare(batch, verdicts).await else { continue };
            let workers: HashSet<Key> = prepared.claimed.keys().copied().collect();
            // Room, and no batch of one of these workers still committing.
            loop {
                committing.retain(|(_, handle)| !handle.is_finished());
                let (_, handle) = match committing.iter().position(|(other, _)| !other.is_disjoint(&workers)) {
                    Some(shared) => committing.swap_remove(shared),
                    None if committing.len() >= COMMITS_IN_FLIGHT => committing.remove(0),
                    None => break,
                };
                let _ = handle.await;
            }
            let (store, sequences, counters, outages) =
                (self.store.clone(), self.last_sequence.clone(), self.counters.clone(), self.outages.clone());
            committing.push((workers, tokio::spawn(commit(store, sequences, counters, outages, prepared))));
        }
        let _ = verifier.await;
        for (_, handle) in committing {
            let _ = handle.await;
        }
        tracing::info!("heartbeat writer drained");
    }

    /// Sequence-checks a verified batch (`verdicts`: whose signatures are good), answering the refused; `None`
    /// when nothing is left to store.
    #[tracing::instrument(skip_all, fields(size = batch.len()))]
    async fn prepare(&self, batch: Vec<Pending>, verdicts: Vec<bool>) -> Option<Prepared> {
        let unknown: Vec<Key> = {
            let known = self.last_sequence.lock().expect("sequence lock");
            let mut unknown: Vec<Key> = batch
                .iter()
                .zip(&verdicts)
                .filter(|(p, ok)| **ok && !known.contains_key(&p.heartbeat.worker))
                .map(|(p, _)| p.heartbeat.worker)
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
            let beat = &pending.heartbeat;
            let sequence = beat.sequence;
            let last = known.get_mut(&beat.worker).expect("loaded above");
            if sequence <= *last {
                self.counters.refused_replay.fetch_add(1, Ordering::Relaxed);
                let _ = pending.reply.send(Err(Refusal::Replay { last: *last }));
                continue;
            }
            prepared.claimed.entry(beat.worker).or_insert((*last, sequence)).1 = sequence;
            *last = sequence;
            prepared.rows.push(pending.heartbeat.into_row(pending.received_at));
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
    let items: Vec<(&EncodedHeartbeat, Option<&DeviceKey>)> =
        batch.iter().map(|p| (&p.heartbeat, p.device_key.as_ref())).collect();
    verify_items_in_parallel(&items)
}

pub fn verify_items_in_parallel(items: &[(&EncodedHeartbeat, Option<&DeviceKey>)]) -> Vec<bool> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(cores).max(64);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let signed: Vec<_> =
                        part.iter().map(|(h, key)| (h.signed.as_slice(), &h.signature, *key)).collect();
                    verify_messages(&signed).into_iter().map(|r| r.is_ok()).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("verification thread")).collect()
    })
}
