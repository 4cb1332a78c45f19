//! Recovery: a crash between batches loses and duplicates nothing, and a transaction dropped with its fork is undone.

use super::*;

async fn wait_for_checkpoint(store: &Store, signature: &str) {
    for _ in 0..200 {
        if store.checkpoint("replay").await.unwrap().and_then(|c| c.signature).as_deref() == Some(signature) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the indexer did not reach {signature}");
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_crash_between_batches_loses_nothing_and_duplicates_nothing(pool: PgPool) {
    let mut m = market();
    let recorded = journal(&mut m);
    let total_events: usize = batch_of(&recorded).events.len();
    let config = Config { listen: "127.0.0.1:0".into(), poll_interval_ms: 10, ..Config::default() };

    // A first run applies a third of the history, then dies (its task is dropped between batches).
    let store = Store::new(pool.clone());
    let third = recorded.len() / 3;
    for chunk in recorded[..third].chunks(3) {
        store.apply("replay", &batch_of(chunk)).await.unwrap();
    }
    // A new process picks up from the checkpoint and catches up.
    let last = recorded.last().unwrap().signature.clone();
    let indexer =
        timelock_indexer::start(&config, pool.clone(), Some(Replay { journal: recorded, per_batch: 3, fork: None }))
            .await
            .unwrap();
    wait_for_checkpoint(&indexer.store, &last).await;
    indexer.stop().await;

    assert_mirror(&m.f, &pool).await;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer.events").fetch_one(&pool).await.unwrap();
    assert_eq!(events as usize, total_events);
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_transaction_dropped_with_its_fork_is_undone_and_the_rest_finalized(pool: PgPool) {
    let mut m = market();
    let recorded = journal(&mut m);
    // The cheater's settlement was on a fork the cluster abandoned.
    let settlement = recorded
        .iter()
        .rev()
        .find(|r| r.accounts.iter().any(|(a, _)| *a == m.cheater_lease))
        .map(|r| r.signature.clone())
        .unwrap();
    let slot = m.f.svm.get_sysvar::<anchor_lang::prelude::Clock>().slot + 1;
    let accounts_now =
        m.f.svm.get_program_accounts(&timelock::ID).into_iter().map(|(a, acc)| (a, acc.data, slot)).collect();
    let last = recorded.last().unwrap().signature.clone();
    let replay = Replay { journal: recorded, per_batch: 4, fork: Some((vec![settlement.clone()], accounts_now)) };
    let config = Config { listen: "127.0.0.1:0".into(), poll_interval_ms: 10, ..Config::default() };
    let indexer = timelock_indexer::start(&config, pool.clone(), Some(replay)).await.unwrap();
    wait_for_checkpoint(&indexer.store, &last).await;
    indexer.stop().await;

    let undone: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer.events WHERE signature = $1")
        .bind(&settlement)
        .fetch_one(&pool)
        .await
        .unwrap();
    let slashes: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer.slashes").fetch_one(&pool).await.unwrap();
    assert_eq!((undone, slashes), (0, 0), "the dropped settlement's events and slash are gone");
    let unfinal: i64 =
        sqlx::query_scalar("SELECT count(*) FROM indexer.events WHERE NOT finalized").fetch_one(&pool).await.unwrap();
    assert_eq!(unfinal, 0, "everything else is final");
    let payouts: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer.payouts").fetch_one(&pool).await.unwrap();
    assert_eq!(payouts, 2, "the honest settlement and the claim stay");
    assert_mirror(&m.f, &pool).await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_second_ingesting_indexer_on_one_database_is_refused(pool: PgPool) {
    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let source = || Some(Replay { journal: Vec::new(), per_batch: 1, fork: None });
    let first = timelock_indexer::start(&config, pool.clone(), source()).await.unwrap();
    // Two writers would race each other's checkpoint and finality passes.
    let second = timelock_indexer::start(&config, pool.clone(), source()).await;
    assert!(matches!(second, Err(timelock_indexer::StartError::Writer(_))), "a second writer must be refused");
    // A read replica takes no lock; a new writer starts once the first has stopped.
    let replica = timelock_indexer::start::<Replay>(&config, pool.clone(), None).await.unwrap();
    first.stop().await;
    let next = timelock_indexer::start(&config, pool.clone(), source()).await.unwrap();
    next.stop().await;
    replica.stop().await;
}

/// A node that never answers.
struct Unreachable;

impl Source for Unreachable {
    fn name(&self) -> &str {
        "unreachable"
    }

    async fn next_batch(&mut self, _: Option<Checkpoint>) -> Result<Option<Batch>, SourceError> {
        Err(SourceError::Rpc("connection refused".into()))
    }
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn ready_turns_red_and_says_why_when_ingestion_stops_succeeding(pool: PgPool) {
    let get = |url: String| async move {
        let response = reqwest::get(url).await.unwrap();
        (response.status().as_u16(), response.json::<Value>().await.unwrap())
    };
    let config = Config { listen: "127.0.0.1:0".into(), ready_max_silence_secs: 1, ..Config::default() };
    let healthy = Replay { journal: Vec::new(), per_batch: 1, fork: None };
    let indexer = timelock_indexer::start(&config, pool.clone(), Some(healthy)).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(get(format!("http://{}/ready", indexer.addr)).await.0, 200, "idle but succeeding");
    indexer.stop().await;

    let indexer = timelock_indexer::start(&config, pool.clone(), Some(Unreachable)).await.unwrap();
    let url = format!("http://{}/ready", indexer.addr);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (status, body) = loop {
        let answer = get(url.clone()).await;
        if answer.0 != 200 || std::time::Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("not_ready")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("ingest"), "{body}");
    // Liveness is another question: the process still answers.
    assert_eq!(get(format!("http://{}/health", indexer.addr)).await.0, 200);
    indexer.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn an_api_query_cannot_outlive_its_request(pool: PgPool) {
    let api = timelock_indexer::api_pool(&pool, std::time::Duration::from_millis(200));
    let slow = sqlx::query("SELECT pg_sleep(5)").execute(&api).await;
    assert!(slow.unwrap_err().to_string().contains("statement timeout"), "Postgres cancels it");
    // The pool the indexer was given (ingestion's) has no such limit.
    sqlx::query("SELECT pg_sleep(0.3)").execute(&pool).await.unwrap();
}
