//! `timelock-oracle`: takes signed heartbeats from worker agents, stores them durably, issues and checks
//! benchmark challenges, judges every lease under the Time-Lock policy and attests proven time on chain.
//!
//! [`start`] wires the parts together and is what the binary, the tests and the local stack run.

pub mod api;
pub mod attest;
pub mod chain;
pub mod config;
pub mod ingest;
pub mod openapi;
pub mod outages;
pub mod renter;
pub mod retention;
pub mod store;
pub mod tables;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use solana_keypair::Keypair;
use solana_signer::Signer;
use sqlx::PgPool;
use timelock_sdk::client::Client;
use timelock_service_kit::{Metrics, Readiness, WriterLock};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::AppState;
use crate::attest::Attestor;
use crate::chain::{Chain, SharedBackend};
pub use crate::config::Config;
use crate::ingest::Writer;
use crate::outages::Outages;
use crate::store::Store;
use crate::tables::LookupTables;

/// The allocator the oracle's binary (and its benchmark) runs on: each heartbeat's request, decoded JSON and
/// encoding are allocated on the runtime's threads and freed on the writer's and the verifiers', a pattern
/// glibc's malloc serves slowly (its lists and arenas locked, freed chunks consolidated).
pub type Allocator = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its `mi_option_t` in the bundled v3, as in v2; the test checks its
/// default).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps the memory the [`Allocator`] frees for reuse instead of returning it to the system a second later: under
/// a steady load the same pages are wanted again, and with transparent huge pages each return cost a fault that
/// zeroed 2 MB (8 % of the oracle's time went there in the benchmark, 4 % with this). Call first thing in `main`.
pub fn keep_freed_memory() {
    // SAFETY: sets a plain integer option, which mimalloc reads whenever it considers purging.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_mimallocs() {
        // SAFETY: reads an integer option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert!(
            [1_000, -1].contains(&delay),
            "option {} is not the purge delay (1,000 ms by default): {delay}",
            super::PURGE_DELAY
        );
    }
}

/// A started oracle. [`RunningOracle::stop`] stops taking requests, answers those in flight, drains the
/// writer and ends the attestation loop.
pub struct RunningOracle {
    pub addr: SocketAddr,
    pub attestor: Arc<Attestor>,
    pub metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    writer: JoinHandle<()>,
    attest_loop: Option<JoinHandle<()>>,
    liveness: JoinHandle<()>,
    retention: JoinHandle<()>,
    writer_lock: WriterLock,
}

/// The attestation loop's name in `/ready`.
const ROUNDS: &str = "attestation rounds";
/// The heartbeat writer's name in `/ready`.
const WRITER: &str = "writer";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen on {0}: {1}")]
    Listen(String, std::io::Error),
    #[error(transparent)]
    Writer(#[from] timelock_service_kit::WriterLockError),
}

/// Starts the API, the writer and (when `attest_loop`) the periodic attestation rounds.
pub async fn start(
    config: Config,
    backend: SharedBackend,
    pool: PgPool,
    signer: Keypair,
    attest_loop: bool,
) -> Result<RunningOracle, StartError> {
    // One process per oracle identity and database: two would both store heartbeats under one sequence check
    // and both attest, posting every report twice.
    let writer_lock = WriterLock::acquire(&pool, &format!("timelock-oracle:{}", signer.pubkey())).await?;
    let store = Store::new(pool);
    store.migrate().await?;
    let identity = signer.pubkey().to_bytes();
    let metrics = Arc::new(Metrics::default());
    let readiness = Readiness::default();
    let outages = Arc::new(Outages::new(identity, store.clone(), &metrics, readiness.clone()));
    // A gap since this oracle last said it was alive is its own outage, not its workers'.
    let interval = config.interval_secs.max(1);
    outages.beat(true, 2 * interval).await;
    let probe = Arc::new(Chain::uncached(Arc::new(Client::new(backend.clone()))));
    let liveness = tokio::spawn(beat_liveness(outages.clone(), probe, Duration::from_secs(interval as u64)));
    let chain = Chain::new(
        Arc::new(Client::new(backend.clone())),
        Duration::from_secs(config.chain_cache_secs),
        Duration::from_secs(config.chain_stale_secs),
        config.cache_entries,
    );
    let (queue, received) = mpsc::channel(config.queue_capacity.max(1));
    let writer = Writer::new(store.clone(), config.max_batch, &metrics, outages.clone());
    let writer_readiness = readiness.clone();
    let writer = tokio::spawn(async move {
        writer.run(received).await;
        // After a stop's drain, or if it ever died: no heartbeat can be stored any more.
        writer_readiness.stalled(WRITER, Some("the heartbeat writer has stopped".into()));
    });
    let state = Arc::new(AppState::new(
        config.clone(),
        identity,
        chain,
        store.clone(),
        queue,
        metrics.clone(),
        readiness.clone(),
    ));
    // Attestation reads the chain afresh every round.
    let chain = Arc::new(Chain::uncached(Arc::new(Client::new(backend))));
    let signer = Arc::new(signer);
    let attestor = Arc::new(Attestor {
        turns: state.turns.clone(),
        chain: chain.clone(),
        store: store.clone(),
        config: config.clone(),
        signer: signer.clone(),
        outages,
        tables: LookupTables { chain, store: store.clone(), signer, fallback: Default::default() },
    });
    // Today's partition exists before the first heartbeat is taken.
    retention::pass(&store, config.evidence_keep_secs).await;
    let retention = tokio::spawn(retention::run(
        store.clone(),
        config.evidence_keep_secs,
        Duration::from_secs(config.retention_every_secs.max(1)),
    ));
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| StartError::Listen(config.listen.clone(), e))?;
    let addr = listener.local_addr().map_err(|e| StartError::Listen(config.listen.clone(), e))?;
    let (stop, stopped) = watch::channel(false);
    let every = Duration::from_secs(config.attest_every_secs.max(1));
    if attest_loop {
        readiness.register(ROUNDS, Duration::from_secs(config.ready_max_silence_secs.max(1)));
    }
    let router = api::router(state);
    let mut server_stopped = stopped.clone();
    let server = tokio::spawn(timelock_service_kit::serve(listener, router, async move {
        let _ = server_stopped.wait_for(|stop| *stop).await;
    }));
    let attest_loop =
        attest_loop.then(|| tokio::spawn(run_rounds(attestor.clone(), every, stopped, &metrics, readiness)));
    tracing::info!(%addr, "oracle listening");
    Ok(RunningOracle { addr, attestor, metrics, stop, server, writer, attest_loop, liveness, retention, writer_lock })
}

/// Says every `every` that this process is alive (and notices the database failing while no heartbeat comes),
/// and probes the chain node: its outages are this probe's to record, not reads driven by requests, which anyone
/// can make fail.
async fn beat_liveness(outages: Arc<Outages>, probe: Arc<Chain>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        outages.beat(false, 0).await;
        match probe.read(|client| client.backend.unix_timestamp()).await {
            Ok(_) => outages.recovered(crate::store::OutageCause::Chain).await,
            Err(error) => {
                tracing::warn!(%error, "the chain node does not answer");
                outages.failed(crate::store::OutageCause::Chain);
            }
        }
    }
}

/// Rounds every `every`; after a failed round, retries sooner with exponential backoff (1 s doubling, capped at
/// `every`).
fn run_rounds(
    attestor: Arc<Attestor>,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
    metrics: &Metrics,
    readiness: Readiness,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let rounds = metrics.counter("oracle_attestation_rounds_total", "Attestation rounds completed.", "");
    let failures = metrics.counter("oracle_attestation_failures_total", "Rounds or transactions that failed.", "");
    let sent = metrics.counter("oracle_leases_attested_total", "Lease reports confirmed on chain.", "");
    async move {
        let mut delay = Duration::ZERO;
        let mut backoff = Duration::from_secs(1);
        loop {
            tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => break,
                () = tokio::time::sleep(delay) => {}
            }
            use std::sync::atomic::Ordering::Relaxed;
            match attestor.round().await {
                Ok(report) if report.failed_transactions == 0 => {
                    readiness.beat(ROUNDS);
                    rounds.fetch_add(1, Relaxed);
                    sent.fetch_add(report.sent.len() as u64, Relaxed);
                    delay = every;
                    backoff = Duration::from_secs(1);
                }
                outcome => {
                    if let Err(error) = &outcome {
                        tracing::warn!(%error, "attestation round failed");
                    }
                    if let Ok(report) = &outcome {
                        sent.fetch_add(report.sent.len() as u64, Relaxed);
                    }
                    failures.fetch_add(1, Relaxed);
                    delay = backoff.min(every);
                    backoff = (backoff * 2).min(every);
                }
            }
        }
    }
}

impl RunningOracle {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Ok(Err(error)) = self.server.await {
            tracing::error!(%error, "server error");
        }
        // The server (and with it every queue sender) is gone: the writer finishes what was queued.
        let _ = self.writer.await;
        if let Some(rounds) = self.attest_loop {
            let _ = rounds.await;
        }
        self.liveness.abort();
        self.retention.abort();
        // The last word on liveness: a stop is a gap like any other until the next start.
        self.attestor.outages.beat(false, 0).await;
        self.writer_lock.release().await;
        tracing::info!("oracle stopped");
    }
}
