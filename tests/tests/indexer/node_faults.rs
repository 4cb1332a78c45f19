//! The indexer against a real node (`timelock-localnet` over JSON-RPC) that fails it: a ledger reset under it,
//! and a node that answers `null` for transactions it has. Neither loops hot nor deletes a real row, and
//! `/ready` and a metric say why.

use std::time::{Duration, Instant};

use timelock_indexer::source::RpcSource;
use timelock_indexer::RunningIndexer;
use timelock_tests::faults::NodeProxy;
use timelock_tests::localnet::Stack;

use super::*;

/// A validator with the program configured (its history: the config's creation), on `port`.
async fn stack(dir: std::path::PathBuf, port: u16) -> Stack {
    tokio::task::spawn_blocking(move || Stack::start(&dir, port, |_| {})).await.unwrap()
}

/// Stopped on a blocking thread (its RPC client is a blocking one).
async fn stop(stack: Stack) {
    tokio::task::spawn_blocking(move || drop(stack)).await.unwrap();
}

async fn indexer(pool: &PgPool, rpc_url: &str) -> RunningIndexer {
    indexer_reading(pool, rpc_url, 500).await
}

/// An indexer reading at most `per_batch` transactions per batch.
async fn indexer_reading(pool: &PgPool, rpc_url: &str, per_batch: usize) -> RunningIndexer {
    let config = Config { listen: "127.0.0.1:0".into(), poll_interval_ms: 100, ..Config::default() };
    let mut source = RpcSource::new(rpc_url, timelock::ID, solana_commitment_config::CommitmentConfig::confirmed());
    source.max_transactions = per_batch;
    timelock_indexer::start(&config, pool.clone(), Some(source)).await.unwrap()
}

async fn get(indexer: &RunningIndexer, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{}{path}", indexer.addr)).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every row the indexer holds of events and accounts, to compare before and after.
async fn rows(pool: &PgPool) -> (i64, i64, Option<String>) {
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer.events").fetch_one(pool).await.unwrap();
    let configs: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer.config").fetch_one(pool).await.unwrap();
    let admin: Option<String> =
        sqlx::query_scalar("SELECT admin FROM indexer.config LIMIT 1").fetch_optional(pool).await.unwrap();
    (events, configs, admin)
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(name)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_ledger_reset_under_the_indexer_stalls_it_red_and_deletes_nothing(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let port = timelock_tests::free_port();
    let first = stack(dir.path().join("first"), port).await;
    let indexer = indexer(&pool, &first.validator.rpc_url).await;
    wait_for("the config's creation", async || rows(&pool).await.0 > 0).await;
    wait_for("a checkpoint on the first ledger", async || {
        sqlx::query_scalar::<_, Option<String>>("SELECT ledger FROM indexer.checkpoints")
            .fetch_optional(&pool)
            .await
            .unwrap()
            .flatten()
            .is_some()
    })
    .await;
    let before = rows(&pool).await;
    assert_eq!(get(&indexer, "/ready").await.0, 200);

    // The node is reset: a new ledger on the same address, with a configuration of its own at the same
    // addresses (another admin). Mixing it in would overwrite the mirror with another chain's accounts.
    stop(first).await;
    let second = stack(dir.path().join("second"), port).await;
    wait_for("the stall to show", async || get(&indexer, "/ready").await.0 == 503).await;
    let (_, ready) = get(&indexer, "/ready").await;
    assert!(ready.contains("ledger"), "{ready}");
    let (_, metrics) = get(&indexer, "/metrics").await;
    assert_eq!(metric(&metrics, "indexer_stalled{reason=\"ledger_reset\"}"), Some(1.0), "{metrics}");
    let errors_then = metric(&metrics, "indexer_source_errors_total").unwrap_or(0.0);

    // Three seconds on: asked again calmly, nothing applied, nothing deleted.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, metrics) = get(&indexer, "/metrics").await;
    let errors_now = metric(&metrics, "indexer_source_errors_total").unwrap_or(0.0);
    assert!(errors_now - errors_then <= 2.0, "no hot loop: {errors_then} then {errors_now} failed steps");
    assert_eq!(rows(&pool).await, before, "the mirror is the first ledger's, untouched");
    assert_eq!(get(&indexer, "/ready").await.0, 503);
    indexer.stop().await;
    stop(second).await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_node_that_forgets_known_transactions_deletes_nothing_and_finalizes_nothing_unproven(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path().join("node"), timelock_tests::free_port()).await;
    let node = NodeProxy::start(&stack.validator.rpc_url, true).await;
    let indexer = indexer(&pool, &node.url).await;
    wait_for("the config's creation", async || rows(&pool).await.0 > 0).await;
    let before = rows(&pool).await;

    // The node answers null for every transaction: finality passes (every batch) must not take that for
    // "dropped", and the checkpoint it no longer knows is read on from by slot, not stalled or skipped.
    wait_for("the finality pass to say why", async || {
        let (_, metrics) = get(&indexer, "/metrics").await;
        metric(&metrics, "indexer_finality_undecided").unwrap_or(0.0) > 0.0
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rows(&pool).await, before, "no real row deleted");
    let (status, ready) = get(&indexer, "/ready").await;
    assert_eq!(status, 503, "{ready}");
    assert!(ready.contains("finality"), "{ready}");
    let finalized: i64 =
        sqlx::query_scalar("SELECT count(*) FROM indexer.events WHERE finalized").fetch_one(&pool).await.unwrap();
    assert_eq!(finalized, 0, "nothing the node could not vouch for is final");
    indexer.stop().await;
    drop(node);
    stop(stack).await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_backlog_is_listed_once_and_read_in_batches(pool: PgPool) {
    // Forty transactions wait when the indexer starts, read five per batch: listing the history newest first
    // down to the checkpoint for every batch made catching up quadratic in the backlog.
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path().join("node"), timelock_tests::free_port()).await;
    let stack = tokio::task::spawn_blocking(move || {
        for i in 0..40 {
            let admin = stack.admin.pubkey();
            let ix = if i % 2 == 0 { ix::pause(admin) } else { ix::unpause(admin) };
            // Each its own transaction, also within one blockhash (a transfer of its own amount).
            let unique = anchor_lang::solana_program::system_instruction::transfer(&admin, &admin, 1 + i);
            stack.send(&[unique, ix], &[&stack.admin]);
        }
        stack
    })
    .await
    .unwrap();
    let node = NodeProxy::start(&stack.validator.rpc_url, false).await;
    let newest = timelock_tests::newest_program_signature(&stack.validator.rpc_url).await;
    let indexer = indexer_reading(&pool, &node.url, 5).await;
    wait_for("the indexer to catch up", async || {
        sqlx::query_scalar::<_, Option<String>>("SELECT signature FROM indexer.checkpoints")
            .fetch_optional(&pool)
            .await
            .unwrap()
            .flatten()
            == Some(newest.clone())
    })
    .await;
    let listings = node.calls("getSignaturesForAddress");
    let batches = node.calls("getTransaction").div_ceil(5);
    assert!(batches >= 8, "{batches} batches");
    assert!(listings <= 3, "{listings} listings for {batches} batches: the backlog is listed once");
    let (_, metrics) = get(&indexer, "/metrics").await;
    assert_eq!(metric(&metrics, "indexer_chain_lag_slots"), Some(0.0), "caught up: {metrics}");
    assert!(metric(&metrics, "indexer_batches_total").unwrap_or(0.0) >= 8.0, "{metrics}");
    indexer.stop().await;
    drop(node);
    stop(stack).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indexer_rides_out_a_database_restart_and_a_node_outage_by_itself() {
    // Its database is a server of this test's own, really restarted; its node sits behind a switch.
    let server = timelock_tests::faults::PrivateServer::start();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(2))
        .connect(&server.url())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path().join("node"), timelock_tests::free_port()).await;
    let node = NodeProxy::start(&stack.validator.rpc_url, false).await;
    let indexer = indexer(&pool, &node.url).await;
    let rpc_url = stack.validator.rpc_url.clone();
    let (stack, newest) = toggle(stack, 4).await;
    wait_for("the first transactions", async || checkpoint_of(&pool).await == Some(newest.clone())).await;

    // Postgres restarts while transactions land: red while it is down, then caught up with no help.
    server.stop();
    let (stack, _) = toggle(stack, 4).await;
    wait_for("/ready to say the database is down", async || {
        let (status, why) = get(&indexer, "/ready").await;
        status == 503 && why.contains("database")
    })
    .await;
    server.resume();
    let (stack, newest) = toggle(stack, 4).await;
    wait_for("catching up after the restart", async || checkpoint_of(&pool).await == Some(newest.clone())).await;

    // The node stops answering for a while: red once ingestion has been silent too long, then caught up.
    node.set_down(true);
    let (stack, _) = toggle(stack, 4).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, metrics) = get(&indexer, "/metrics").await;
    assert!(metric(&metrics, "indexer_source_errors_total").unwrap_or(0.0) >= 1.0, "{metrics}");
    node.set_down(false);
    wait_for("catching up after the outage", async || {
        checkpoint_of(&pool).await == Some(timelock_tests::newest_program_signature(&rpc_url).await)
    })
    .await;
    wait_for("/ready green again", async || get(&indexer, "/ready").await.0 == 200).await;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer.events").fetch_one(&pool).await.unwrap();
    assert!(events >= 16, "every transaction's events, none lost: {events}");
    indexer.stop().await;
    drop(node);
    stop(stack).await;
}

/// `count` program transactions (pause, unpause, ...) by the stack's admin; the stack back and the newest one.
async fn toggle(stack: Stack, count: u64) -> (Stack, String) {
    // Each transaction its own (a transfer of an amount never used before), also across calls within one
    // blockhash.
    static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let stack = tokio::task::spawn_blocking(move || {
        for _ in 0..count {
            let i = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let admin = stack.admin.pubkey();
            let paused: bool = stack
                .client
                .account::<timelock::state::Config>(&timelock_sdk::pda::config().0)
                .map(|c| c.paused)
                .unwrap_or(false);
            let ix = if paused { ix::unpause(admin) } else { ix::pause(admin) };
            let unique = anchor_lang::solana_program::system_instruction::transfer(&admin, &admin, i);
            stack.send(&[unique, ix], &[&stack.admin]);
        }
        stack
    })
    .await
    .unwrap();
    let newest = timelock_tests::newest_program_signature(&stack.validator.rpc_url).await;
    (stack, newest)
}

async fn checkpoint_of(pool: &PgPool) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>("SELECT signature FROM indexer.checkpoints")
        .fetch_optional(pool)
        .await
        .ok()
        .flatten()
        .flatten()
}
