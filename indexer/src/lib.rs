//! `timelock-indexer`: mirrors the program's accounts and events into Postgres ([`store`]) from a [`source`]
//! and serves the query API ([`api`]).

pub mod api;
pub mod decode;
pub mod openapi;
pub mod read_barrier;
pub mod rows;
pub mod source;
pub mod store;
pub mod worker_model;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use timelock_service_kit::{Metrics, Readiness, WriterLock};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::source::Source;
use crate::store::{Batch, Checkpoint, PreparedBatch, Progress, Store};

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(default)]
pub struct Config {
    pub listen: String,
    pub database_url: String,
    pub rpc_url: String,
    /// `processed`, `confirmed` or `finalized`.
    pub commitment: String,
    pub program_id: String,
    pub poll_interval_ms: u64,
    pub request_timeout_secs: u64,
    /// `/ready` turns 503 when ingestion has not succeeded for this long.
    pub ready_max_silence_secs: u64,
    /// `/ready` turns 503 while ingestion reads this many slots or more behind the chain's head.
    pub ready_max_lag_slots: u64,
    /// Oracle services (`http://host:port`) that `GET /v1/leases/{address}/intervals` asks why each interval
    /// of a lease was or was not paid; none by default. In the environment: a comma-separated list, or a TOML
    /// array (`["http://o1:8780", "http://o2:8780"]`).
    #[serde(deserialize_with = "api::intervals::url_list")]
    pub oracle_urls: Vec<String>,
    /// The web console's static files (`make console` builds them into `web/dist`), served at `/`.
    pub console_dir: PathBuf,
    /// The Solana RPC URL the console's browser uses (`/v1/console-config`). When empty: `rpc_url` on `localnet`,
    /// else the cluster's public endpoint (`rpc_url` may carry a provider's key, which browsers must not see).
    pub console_rpc_url: String,
    /// The cluster the console names: `localnet`, `devnet`, `testnet` or `mainnet-beta`.
    pub console_cluster: String,
    /// Serve the worker list and worker reads from a copy of the live workers in memory, which every request
    /// first brings up to what Postgres holds (`worker_model`); when false, every such request is a query.
    pub workers_in_memory: bool,
    /// Optional TOML file this was read from (for logs).
    pub config_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8790".into(),
            database_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            rpc_url: "http://127.0.0.1:8899".into(),
            commitment: "confirmed".into(),
            program_id: timelock::ID.to_string(),
            poll_interval_ms: 400,
            request_timeout_secs: 5,
            ready_max_silence_secs: 60,
            ready_max_lag_slots: 300,
            oracle_urls: Vec::new(),
            console_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/dist")),
            console_rpc_url: String::new(),
            console_cluster: "localnet".into(),
            workers_in_memory: true,
            config_file: None,
        }
    }
}

/// Why the indexer did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Settings(#[from] timelock_service_kit::ConfigError),
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The database URL is not repeated here: it may hold a password.
    #[error("cannot connect to the database: {0}")]
    Database(#[source] sqlx::Error),
    #[error("database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error(transparent)]
    Writer(#[from] timelock_service_kit::WriterLockError),
    #[error("cannot read the workers into memory: {0}")]
    Workers(#[from] worker_model::SyncError),
}

/// Why an ingest step failed (it is retried from the stored checkpoint).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("database: {0}")]
    Store(#[from] sqlx::Error),
    #[error("source: {0}")]
    Source(#[from] source::SourceError),
}

pub struct RunningIndexer {
    pub addr: SocketAddr,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    ingest: Option<JoinHandle<()>>,
    writer_lock: Option<WriterLock>,
}

/// The ingest loop's name in `/ready`.
const INGEST: &str = "ingest";
/// The finality pass's name in `/ready`.
const FINALITY: &str = "finality";
/// How far behind the head ingestion reads, in `/ready`.
const LAG: &str = "lag";

/// Runs migrations, serves the API and (when a source is given) ingests from it every `poll_interval`.
pub async fn start<S: Source + 'static>(
    config: &Config,
    pool: PgPool,
    source: Option<S>,
) -> Result<RunningIndexer, StartError> {
    let oracles = api::intervals::Oracles::new(&config.oracle_urls, Duration::from_secs(config.request_timeout_secs))
        .map_err(StartError::Config)?;
    let store = Store::new(pool.clone());
    store.migrate().await?;
    // One ingesting indexer per database (read replicas, without a source, take no lock): two would race each
    // other's checkpoint and finality passes.
    let writer_lock = match source {
        Some(_) => Some(WriterLock::acquire(&pool, "timelock-indexer").await?),
        None => None,
    };
    // Every start first re-reads every program account, before the API serves a row: rows written by an older
    // indexer (a column added since, a state missed while it was down) are current from the first request. If
    // the node cannot be read now, the API starts anyway and the ingest loop takes the snapshot first.
    let mut source = source;
    let snapshotted = match source.as_mut() {
        // A first start (no checkpoint yet) snapshots in its first batch anyway.
        Some(source) if store.checkpoint(source.name()).await.map_err(StartError::Database)?.is_none() => true,
        Some(source) => match snapshot(source, &store).await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "the start-up snapshot failed; the ingest loop retries it first");
                false
            }
        },
        None => true,
    };
    let metrics = Arc::new(Metrics::default());
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|source| StartError::Listen { addr: config.listen.clone(), source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen { addr: config.listen.clone(), source })?;
    let (stop, stopped) = watch::channel(false);
    let readiness = Readiness::default();
    if source.is_some() {
        readiness.register(INGEST, Duration::from_secs(config.ready_max_silence_secs.max(1)));
    }
    // The API gets connections of its own, whose statements Postgres cancels after the request timeout: no
    // anonymous query can hold a connection ingestion needs, or run on after its request has been answered.
    let api_pool = api_pool(&pool, Duration::from_secs(config.request_timeout_secs));
    // Read before the API serves, so that no request waits for the whole table.
    let workers = match config.workers_in_memory {
        true => Some(Arc::new(worker_model::WorkerModel::load(&pool).await?)),
        false => None,
    };
    let state = Arc::new(api::ApiState {
        pool: api_pool,
        metrics: metrics.clone(),
        readiness: readiness.clone(),
        stats: tokio::sync::Mutex::default(),
        oracles,
        console: api::console::Console::new(config).map_err(StartError::Config)?,
        workers,
    });
    let router = api::router(state, Duration::from_secs(config.request_timeout_secs));
    let mut server_stopped = stopped.clone();
    let server = tokio::spawn(timelock_service_kit::serve(listener, router, async move {
        let _ = server_stopped.wait_for(|s| *s).await;
    }));
    let interval = Duration::from_millis(config.poll_interval_ms.max(10));
    let ingest = source.map(|source| {
        let pace = Pace { interval, max_lag_slots: config.ready_max_lag_slots };
        tokio::spawn(ingest(source, snapshotted, store.clone(), pace, stopped, metrics.clone(), readiness))
    });
    tracing::info!(%addr, "indexer listening");
    Ok(RunningIndexer { addr, store, metrics, stop, server, ingest, writer_lock })
}

/// A batch being stored on a task of its own.
struct Storing {
    storing: JoinHandle<(sqlx::Result<()>, Batch)>,
    /// How far it has got, for the batch stored after it.
    follows: watch::Receiver<Progress>,
    /// Its transactions.
    signatures: HashSet<String>,
}

impl Storing {
    /// The batch once stored, or why it was not.
    async fn stored(self) -> Result<Batch, IngestError> {
        match self.storing.await {
            Ok((stored, batch)) => Ok(stored.map(|()| batch)?),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: the runtime is shutting down.
            Err(_) => Err(IngestError::Store(sqlx::Error::WorkerCrashed)),
        }
    }
}

/// How often the ingest loop polls, and how far behind the head it may read before `/ready` says so.
struct Pace {
    interval: Duration,
    max_lag_slots: u64,
}

/// Applies batches until stopped. A failed step is retried from the stored checkpoint after a pause.
async fn ingest<S: Source>(
    mut source: S,
    snapshotted: bool,
    store: Store,
    pace: Pace,
    mut stopped: watch::Receiver<bool>,
    metrics: Arc<Metrics>,
    readiness: Readiness,
) {
    let Pace { interval, max_lag_slots } = pace;
    let events = metrics.counter("indexer_events_total", "Events applied.", "");
    let accounts = metrics.counter("indexer_account_updates_total", "Account states applied.", "");
    let errors = metrics.counter("indexer_source_errors_total", "Failed ingest steps (retried).", "");
    let slot = metrics.gauge("indexer_checkpoint_slot", "Slot of the newest applied transaction.", "");
    let rolled_back = metrics.counter("indexer_rolled_back_total", "Transactions undone after a fork switch.", "");
    let undecided = metrics.gauge(
        "indexer_finality_undecided",
        "Transactions below finality the node could neither find nor prove gone (kept, asked again).",
        "",
    );
    let stalls: Vec<_> = source::Stall::REASONS
        .iter()
        .map(|reason| {
            let help = "1 while ingestion cannot go on from the checkpoint, by why.";
            (*reason, metrics.gauge("indexer_stalled", help, &format!("reason=\"{reason}\"")))
        })
        .collect();
    let lag = metrics.gauge("indexer_chain_lag_slots", "Slots between the chain's head and what is read.", "");
    let batch_micros =
        metrics.counter("indexer_batch_micros_total", "Microseconds spent reading and storing batches.", "");
    let batches = metrics.counter("indexer_batches_total", "Batches read and stored.", "");
    let name = source.name().to_string();
    // The stall last reported, so that one lasting many steps is logged once.
    let mut last_stall: Option<source::Stall> = None;
    // Until the start-up snapshot is stored (see `start`), every step tries it again first.
    let mut snapshotted = snapshotted;
    // Once a batch is stored: the finality pass it allows, and the counters.
    let stored_batch = async |batch: &Batch, source: &mut S| {
        if let Some(finalized) = batch.finalized_slot {
            let waiting = settle_finality(source, &store, finalized, &rolled_back).await?;
            undecided.store(waiting as u64, Ordering::Relaxed);
            // Rows the node could neither find nor prove gone are kept, not final: not ready until it can.
            let why = (waiting > 0).then(|| {
                format!("{waiting} transactions below the finalized slot neither found by the node nor proven gone")
            });
            readiness.stalled(FINALITY, why);
        }
        events.fetch_add(batch.events.len() as u64, Ordering::Relaxed);
        accounts.fetch_add(batch.accounts.len() as u64, Ordering::Relaxed);
        if let Some((s, _)) = batch.checkpoint {
            slot.store(s, Ordering::Relaxed);
        }
        Ok::<(), IngestError>(())
    };
    // The batch read (and encoded) while the one before it was stored, the one still being stored, and the ledger
    // the checkpoint is on.
    let mut read_ahead: Option<PreparedBatch> = None;
    let mut in_flight: Option<Storing> = None;
    let mut ledger: Option<String> = None;
    loop {
        let step = async {
            if !snapshotted {
                snapshot(&mut source, &store).await?;
                snapshotted = true;
            }
            let prepared = match read_ahead.take() {
                Some(prepared) => prepared,
                None => {
                    let checkpoint = store.checkpoint(&name).await?;
                    ledger = checkpoint.as_ref().and_then(|c| c.ledger.clone());
                    let Some(batch) = source.next_batch(checkpoint).await? else {
                        return Ok::<bool, IngestError>(false);
                    };
                    PreparedBatch::new(batch)
                }
            };
            let batch = &prepared.batch;
            ledger = batch.ledger.clone().or(ledger.take());
            let more = !batch.events.is_empty() || !batch.accounts.is_empty();
            // While a batch with data is stored, the next is read from where it ends (the checkpoint it stores) and
            // encoded, and then stored beside it: Postgres writes two batches on two connections while this
            // process reads, decodes and encodes a third. The later commits only after the earlier, and not at all
            // if it failed (`Store::apply_after`); a failure drops what was read after it, and the next step reads
            // again from the stored checkpoint.
            let after = batch.checkpoint.as_ref().filter(|_| more).map(|(slot, signature)| Checkpoint {
                slot: *slot,
                signature: signature.clone(),
                ledger: ledger.clone(),
            });
            let signatures: HashSet<String> = batch.events.iter().map(|e| e.signature.clone()).collect();
            // Batches that share a transaction are not stored side by side (each would wait for the other's key).
            let mut before = in_flight.take();
            if before.as_ref().is_some_and(|b| !b.signatures.is_disjoint(&signatures)) {
                if let Some(before) = before.take() {
                    let batch = before.stored().await?;
                    stored_batch(&batch, &mut source).await?;
                }
            }
            let (progress, follows) = watch::channel(Progress::Started);
            let storing = tokio::spawn({
                let (store, name) = (store.clone(), name.clone());
                let before = before.as_ref().map(|b| b.follows.clone());
                async move {
                    let stored = store.apply_after(&name, &prepared, before, &progress).await;
                    (stored, prepared.batch)
                }
            });
            let current = Storing { storing, follows, signatures };
            // A task spawned from a worker waits in that worker's own slot, which no other worker takes from: the
            // store gets the thread to send its first statement before this task takes it to read and encode.
            tokio::task::yield_now().await;
            let (stored_before, next) = tokio::join!(
                async {
                    match before {
                        Some(before) => Some(before.stored().await),
                        None => None,
                    }
                },
                async {
                    match after {
                        Some(checkpoint) => {
                            source.next_batch(Some(checkpoint)).await.map(|b| b.map(PreparedBatch::new))
                        }
                        None => Ok(None),
                    }
                }
            );
            let settled = async {
                if let Some(stored) = stored_before {
                    stored_batch(&stored?, &mut source).await?;
                }
                Ok::<_, IngestError>(next?)
            };
            match settled.await {
                // Left storing while the next is read and stored beside it.
                Ok(Some(next)) => {
                    read_ahead = Some(next);
                    in_flight = Some(current);
                }
                Ok(None) => stored_batch(&current.stored().await?, &mut source).await?,
                Err(error) => {
                    // Not left behind: it commits, or fails with the batch before it, before the next step reads
                    // again from the stored checkpoint.
                    let _ = current.stored().await;
                    return Err(error);
                }
            }
            Ok(more)
        };
        let started = std::time::Instant::now();
        let outcome = step.await;
        let stalled = match &outcome {
            Err(IngestError::Source(source::SourceError::Stalled(stall))) => Some(stall.clone()),
            _ => None,
        };
        for (reason, gauge) in &stalls {
            let on = stalled.as_ref().is_some_and(|s| s.reason() == *reason);
            gauge.store(u64::from(on), Ordering::Relaxed);
        }
        let pause = match outcome {
            Ok(more) => {
                if more {
                    batch_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                    batches.fetch_add(1, Ordering::Relaxed);
                }
                let behind = source.lag_slots().unwrap_or(0);
                lag.store(behind, Ordering::Relaxed);
                let why = (behind >= max_lag_slots).then(|| format!("reading {behind} slots behind the chain's head"));
                readiness.stalled(LAG, why);
                readiness.beat(INGEST);
                readiness.stalled(INGEST, None);
                last_stall = None;
                if more {
                    Duration::ZERO
                } else {
                    interval
                } // more may be waiting
            }
            Err(IngestError::Source(source::SourceError::Stalled(stall))) => {
                // Red at once, and asked again calmly: nothing is applied or deleted until the node can go on.
                if last_stall.as_ref() != Some(&stall) {
                    tracing::error!(%stall, "ingestion stalled");
                }
                readiness.stalled(INGEST, Some(stall.to_string()));
                last_stall = Some(stall);
                errors.fetch_add(1, Ordering::Relaxed);
                (interval * 25).min(Duration::from_secs(30))
            }
            Err(error) => {
                errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, "ingest step failed; retrying from the checkpoint");
                interval * 5
            }
        };
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    // A batch still being stored is waited for, with the finality pass it allows, as every step does for its own.
    if let Some(storing) = in_flight.take() {
        if let Ok(batch) = storing.stored().await {
            if let Err(error) = stored_batch(&batch, &mut source).await {
                tracing::warn!(%error, "the finality pass after the last batch failed; the next start does it");
            }
        }
    }
}

/// Connections to the same database as `pool`, at most `API_CONNECTIONS`, whose every statement is cancelled
/// by Postgres after `timeout`.
pub fn api_pool(pool: &PgPool, timeout: Duration) -> PgPool {
    let statement_timeout = format!("SET statement_timeout = {}", timeout.as_millis().max(1));
    PgPoolOptions::new()
        .max_connections(API_CONNECTIONS)
        .after_connect(move |connection, _| {
            let statement_timeout = statement_timeout.clone();
            Box::pin(async move {
                sqlx::Executor::execute(connection, statement_timeout.as_str()).await?;
                Ok(())
            })
        })
        .connect_lazy_with((*pool.connect_options()).clone())
}

/// The API's own connections (ingestion keeps the pool it was given).
const API_CONNECTIONS: u32 = 8;

/// Stores a snapshot of every program account (the checkpoint does not move).
async fn snapshot<S: Source>(source: &mut S, store: &Store) -> Result<(), IngestError> {
    let snapshot = source.resnapshot().await?;
    Ok(store.apply(source.name(), &snapshot).await?)
}

/// Rows below the finalized slot become final, except those of transactions the cluster dropped with their
/// fork, which are undone with the accounts re-read in one transaction, and those the node could not decide
/// on, which wait for the next pass (how many is returned).
async fn settle_finality<S: Source>(
    source: &mut S,
    store: &Store,
    finalized: u64,
    rolled_back: &std::sync::atomic::AtomicU64,
) -> Result<usize, IngestError> {
    let pending = store.unfinalized_signatures(finalized).await?;
    // Exactly the transactions the source was asked about become final: one stored meanwhile (the batch after
    // this one commits beside this pass) waits for the next pass.
    let mut asked: Vec<String> = pending.iter().map(|(signature, _)| signature.clone()).collect();
    let mut undecided = Vec::new();
    if !pending.is_empty() {
        let finality = source.finality(pending).await?;
        if !finality.dropped.is_empty() {
            tracing::warn!(count = finality.dropped.len(), "transactions rolled back; undoing them");
            let accounts_now = source.resnapshot().await?;
            store.roll_back(&finality.dropped, &accounts_now).await?;
            rolled_back.fetch_add(finality.dropped.len() as u64, Ordering::Relaxed);
        }
        asked.retain(|s| !finality.dropped.contains(s) && !finality.undecided.contains(s));
        undecided = finality.undecided;
    }
    store.finalize(finalized, &asked).await?;
    Ok(undecided.len())
}

impl RunningIndexer {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Some(ingest) = self.ingest {
            let _ = ingest.await;
        }
        let _ = self.server.await;
        if let Some(lock) = self.writer_lock {
            lock.release().await;
        }
        tracing::info!("indexer stopped");
    }
}
