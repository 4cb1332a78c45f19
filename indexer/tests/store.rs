//! The store's batch writes and the API's workers in memory, against real Postgres (`#[sqlx::test]`; the
//! mirror against the chain is `tests/tests/indexer/`): derived rows read back exactly as they were derived, a
//! batch applied twice or in part adds nothing twice, a batch that fails stores none of itself, a batch stored beside
//! the one before it commits after it and never without it, and the workers served from memory are, after every
//! commit, byte for byte what the same request answers from SQL, and hold every commit made before a request arrived
//! while concurrent requests share the reads that check it.

use anchor_lang::prelude::Pubkey;
use anchor_lang::Event;
use serde::de::DeserializeOwned;
use sqlx::PgPool;
use timelock::events::{
    AttestedLease, DisputeLapsed, DisputeOpened, DisputeResolved, EarningsClaimed, LeaseSettled, LeasesAttested,
};
use timelock_indexer::decode::{events_of, EventRecord, InnerInstruction, TransactionRecord};
use timelock_indexer::rows::{Attestation, DerivedRows, Dispute, Payout, Slash};
use timelock_indexer::store::{Batch, Store, MIGRATOR};
use timelock_indexer::Config;

fn inner(outer_index: u16, event: impl Event) -> InnerInstruction {
    let data = [anchor_lang::event::EVENT_IX_TAG_LE, &event.data()].concat();
    InnerInstruction { outer_index, program_id: timelock::ID, data }
}

/// A transaction with one event of every kind that derives rows, amounts at the edges of their range.
fn transaction(n: u64) -> TransactionRecord {
    let key = Pubkey::new_unique;
    let settled = |slashed: u64| LeaseSettled {
        lease: key(),
        cluster: key(),
        worker: key(),
        supplier: key(),
        final_secs: 3_600,
        paid_to_supplier: u64::MAX - n,
        fee: i64::MAX as u64 + 1,
        fees_to_treasury: 0,
        refund: 0,
        slashed,
        slash_to_renter: slashed / 2,
        gross_paid: 16_000_000,
        faults: 2,
        jailed_until: -5,
        closed: false,
        supplier_earnings_unclaimed: 1,
        supplier_staked: 2,
        supplier_locked: 3,
        incentive_credit: 0,
        timestamp: 1_800_000_000,
    };
    let attested = LeasesAttested {
        oracle: key(),
        window_end: 1_800_000_000,
        evidence_root: [7; 32],
        leases: (0..3)
            .map(|i| AttestedLease { lease: key(), accepted: i != 1, proven_secs: u64::MAX, faults: i, final_secs: 9 })
            .collect(),
        timestamp: 1_800_000_000,
    };
    let (lease, disputer) = (key(), key());
    TransactionRecord {
        signature: format!("signature-{n}"),
        slot: 100 + n,
        block_time: if n.is_multiple_of(2) { Some(1_800_000_000 + n as i64) } else { None },
        inner_instructions: vec![
            inner(0, settled(u64::MAX)),
            inner(0, settled(0)),
            inner(1, EarningsClaimed { supplier: key(), amount: 77, earnings_claimed: 78, timestamp: 1 }),
            inner(2, attested),
            inner(3, DisputeOpened { lease, disputer, bond: u64::MAX, timestamp: 1 }),
            inner(
                3,
                DisputeResolved {
                    lease,
                    disputer,
                    upheld: true,
                    proven_secs: u64::MAX,
                    faults: 0,
                    bond_returned: 5,
                    bond_forfeited: 6,
                    timestamp: 2,
                },
            ),
            inner(4, DisputeLapsed { lease, disputer, bond_to: key(), bond: 10, timestamp: 3 }),
        ],
    }
}

fn batch(transactions: &[TransactionRecord]) -> Batch {
    let mut batch = Batch::default();
    for t in transactions {
        batch.events.extend(events_of(t, &timelock::ID));
        batch.checkpoint = Some((t.slot, Some(t.signature.clone())));
    }
    batch.ledger = Some("ledger".into());
    batch
}

async fn rows<T: DeserializeOwned>(pool: &PgPool, table: &str) -> Vec<T> {
    let rows: Vec<serde_json::Value> = sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t) FROM indexer.{table} t ORDER BY signature, ix_index, event_index, to_jsonb(t)::text"
    ))
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|row| serde_json::from_value(row).unwrap()).collect()
}

/// Everything the event tables and the checkpoint hold, as text.
async fn stored(pool: &PgPool) -> Vec<String> {
    let mut all = Vec::new();
    for table in ["events", "payouts", "slashes", "attestations", "disputes", "checkpoints"] {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT (to_jsonb(t) - 'updated_at')::text FROM indexer.{table} t ORDER BY 1"))
                .fetch_all(pool)
                .await
                .unwrap();
        all.extend(rows.into_iter().map(|row| format!("{table}: {row}")));
    }
    all
}

fn sorted<T: serde::Serialize>(mut rows: Vec<T>, key: impl Fn(&T) -> (String, u16, u16)) -> Vec<T> {
    rows.sort_by_key(|row| (key(row), serde_json::to_string(row).unwrap()));
    rows
}

/// signature, ix_index, event_index, slot, block_time, name, data
type EventRow = (String, i32, i32, i64, Option<i64>, String, Vec<u8>);

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_batch_reads_back_exactly_as_derived_and_applying_it_twice_adds_nothing(pool: PgPool) {
    let store = Store::new(pool.clone());
    let transactions: Vec<_> = (0..4).map(transaction).collect();
    let batch = batch(&transactions);
    store.apply("source", &batch).await.unwrap();

    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT signature, ix_index, event_index, slot, block_time, name, data FROM indexer.events \
         ORDER BY signature, ix_index, event_index",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut expected: Vec<_> = batch
        .events
        .iter()
        .map(|e: &EventRecord| {
            let position = (i32::from(e.ix_index), i32::from(e.event_index));
            (
                e.signature.clone(),
                position.0,
                position.1,
                e.slot as i64,
                e.block_time,
                e.event.name().into(),
                e.data.clone(),
            )
        })
        .collect();
    expected.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
    assert_eq!(events, expected);

    let derived = DerivedRows::of(&batch.events);
    assert_eq!(
        (derived.payouts.len(), derived.slashes.len(), derived.attestations.len(), derived.disputes.len()),
        (12, 4, 12, 12)
    );
    let position = |s: &String, ix: u16, ev: u16| (s.clone(), ix, ev);
    assert_eq!(
        rows::<Payout>(&pool, "payouts").await,
        sorted(derived.payouts.clone(), |r| position(&r.signature, r.ix_index, r.event_index))
    );
    assert_eq!(
        rows::<Slash>(&pool, "slashes").await,
        sorted(derived.slashes.clone(), |r| position(&r.signature, r.ix_index, r.event_index))
    );
    assert_eq!(
        rows::<Attestation>(&pool, "attestations").await,
        sorted(derived.attestations.clone(), |r| position(&r.signature, r.ix_index, r.event_index))
    );
    assert_eq!(
        rows::<Dispute>(&pool, "disputes").await,
        sorted(derived.disputes.clone(), |r| position(&r.signature, r.ix_index, r.event_index))
    );
    let checkpoint = store.checkpoint("source").await.unwrap().unwrap();
    assert_eq!(
        (checkpoint.slot, checkpoint.signature.as_deref(), checkpoint.ledger.as_deref()),
        (103, Some("signature-3"), Some("ledger"))
    );

    // Again, whole or in part: nothing changes, and the checkpoint does not go back.
    let before = stored(&pool).await;
    store.apply("source", &batch).await.unwrap();
    store.apply("source", &self::batch(&transactions[..1])).await.unwrap();
    assert_eq!(stored(&pool).await, before);
    // Overlapping what is stored: only the events not stored are added, with exactly their derived rows.
    let overlapping: Vec<_> = transactions[2..].iter().cloned().chain((4..6).map(transaction)).collect();
    store.apply("source", &self::batch(&overlapping)).await.unwrap();
    let mut all = batch.events;
    all.extend(self::batch(&overlapping[2..]).events);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer.events").fetch_one(&pool).await.unwrap();
    assert_eq!(events as usize, all.len());
    let derived = DerivedRows::of(&all);
    assert_eq!(
        rows::<Payout>(&pool, "payouts").await,
        sorted(derived.payouts, |r| position(&r.signature, r.ix_index, r.event_index))
    );
    assert_eq!(
        rows::<Attestation>(&pool, "attestations").await,
        sorted(derived.attestations, |r| position(&r.signature, r.ix_index, r.event_index))
    );
    assert_eq!(
        rows::<Dispute>(&pool, "disputes").await,
        sorted(derived.disputes, |r| position(&r.signature, r.ix_index, r.event_index))
    );
    assert_eq!(store.checkpoint("source").await.unwrap().unwrap().slot, 105);
    // A batch without events moves the checkpoint only.
    let empty = Batch { checkpoint: Some((200, None)), ..Batch::default() };
    store.apply("source", &empty).await.unwrap();
    let checkpoint = store.checkpoint("source").await.unwrap().unwrap();
    assert_eq!((checkpoint.slot, checkpoint.signature, checkpoint.ledger.as_deref()), (200, None, Some("ledger")));
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_batch_that_fails_stores_none_of_itself_and_loses_nothing_acknowledged(pool: PgPool) {
    let store = Store::new(pool.clone());
    let first = batch(&[transaction(0)]);
    store.apply("source", &first).await.unwrap();
    let acknowledged = stored(&pool).await;

    // The second batch fails on its last table (a constraint only this test adds): its events, payouts, slashes and
    // attestations, written before in the same transaction, and its checkpoint are not stored either.
    let transactions = [transaction(1), transaction(2)];
    let second = batch(&transactions);
    let poisoned = second.events.iter().find_map(|e| match &e.event {
        timelock_indexer::decode::ProgramEvent::DisputeLapsed(d) => Some(d.bond_to.to_string()),
        _ => None,
    });
    sqlx::query(&format!(
        "ALTER TABLE indexer.disputes ADD CONSTRAINT poisoned CHECK (bond_to IS DISTINCT FROM '{}')",
        poisoned.unwrap()
    ))
    .execute(&pool)
    .await
    .unwrap();
    assert!(store.apply("source", &second).await.is_err());
    assert_eq!(stored(&pool).await, acknowledged, "nothing of the failed batch");
    assert_eq!(store.checkpoint("source").await.unwrap().unwrap().slot, 100);

    // With account states, the batch is one transaction: they are not stored either.
    let worker = Pubkey::new_unique();
    let mut with_accounts = batch(&transactions);
    with_accounts.accounts.push(timelock_indexer::decode::AccountRecord {
        address: worker,
        slot: 101,
        data: None, // a close: marks nothing here, but goes through the account statements first
    });
    assert!(store.apply("source", &with_accounts).await.is_err());
    assert_eq!(stored(&pool).await, acknowledged);

    // Once it can be stored, the retry stores all of it, once.
    sqlx::query("ALTER TABLE indexer.disputes DROP CONSTRAINT poisoned").execute(&pool).await.unwrap();
    store.apply("source", &with_accounts).await.unwrap();
    store.apply("source", &second).await.unwrap();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer.events").fetch_one(&pool).await.unwrap();
    assert_eq!(events as usize, first.events.len() + second.events.len());
    assert_eq!(store.checkpoint("source").await.unwrap().unwrap().slot, 102);
}

/// Two batches stored side by side (`Store::apply_after`): the later commits only after the earlier, and stores
/// nothing, its checkpoint included, when the earlier fails.
#[sqlx::test(migrator = "MIGRATOR")]
async fn a_batch_stored_beside_the_one_before_commits_after_it_and_never_without_it(pool: PgPool) {
    use timelock_indexer::store::{PreparedBatch, Progress};
    let store = Store::new(pool.clone());
    let (first, second) = (batch(&[transaction(0)]), batch(&[transaction(1)]));
    let (first_progress, first_follows) = tokio::sync::watch::channel(Progress::Started);
    let (second_progress, _) = tokio::sync::watch::channel(Progress::Started);
    let second_task = {
        let (store, second) = (store.clone(), PreparedBatch::new(second));
        tokio::spawn(async move {
            store.apply_after("source", &second, Some(first_follows), &second_progress).await.map(|_| second_progress)
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!second_task.is_finished(), "the second waits for the first");
    assert_eq!(store.checkpoint("source").await.unwrap(), None);
    store.apply_after("source", &PreparedBatch::new(first), None, &first_progress).await.unwrap();
    second_task.await.unwrap().unwrap();
    assert_eq!(store.checkpoint("source").await.unwrap().unwrap().slot, 101);

    // The earlier fails: the later stores nothing.
    let before = stored(&pool).await;
    let (failed, follows) = tokio::sync::watch::channel(Progress::AccountsWritten);
    let (progress, _) = tokio::sync::watch::channel(Progress::Started);
    let third = PreparedBatch::new(batch(&[transaction(2)]));
    let later = store.apply_after("source", &third, Some(follows), &progress);
    let (result, ()) = tokio::join!(later, async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        failed.send_replace(Progress::Failed);
    });
    assert!(result.is_err());
    assert_eq!(stored(&pool).await, before, "nothing of a batch whose predecessor failed");
}

/// A tiny deterministic generator (no dependency for it).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

fn address(i: u64, salt: u8) -> String {
    let mut bytes = [salt; 32];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    Pubkey::new_from_array(bytes).to_string()
}

/// Writes `count` workers from `first` with random specs (a few share a price, so that the address orders ties).
async fn write_workers(pool: &PgPool, rng: &mut Lcg, first: u64, count: u64) {
    for i in first..first + count {
        let price = if rng.next(4) == 0 { 1_000_000 } else { 300_000 + rng.next(3_000_000) };
        let price = if i % 97 == 0 { u64::MAX } else { price };
        sqlx::query(
            "INSERT INTO indexer.workers (address, supplier, worker_index, gpu_model, gpu_count, vram_gib, cpu_cores, \
             ram_gib, region, connectivity_tier, compliance, green_energy, price_per_gpu_hour, device_key, available, \
             active_lease, bonded_stake, jailed_until, fault_count, registered_at, slot, bookable, max_lease_hours) \
             VALUES ($1, $2, $3, $4, $5, 80, 64, 512, $6, $7, $8, $9, $10::numeric, $1, $11, $12, 5, 0, 0, $13, 1, \
             $11 AND $12 IS NULL, 24) \
             ON CONFLICT (address) DO UPDATE SET price_per_gpu_hour = EXCLUDED.price_per_gpu_hour, \
             available = EXCLUDED.available, bookable = EXCLUDED.bookable, closed = false",
        )
        .bind(address(i, 2))
        .bind(address(rng.next(5), 1))
        .bind(i as i64)
        .bind(["H100-SXM", "A100-80G", "L40S"][rng.next(3) as usize])
        .bind([1, 2, 4, 8][rng.next(4) as usize])
        .bind(["US-EAST", "EU-WEST"][rng.next(2) as usize])
        .bind(rng.next(5) as i32)
        .bind(rng.next(8) as i32)
        .bind(rng.next(2) == 0)
        .bind(price.to_string())
        .bind(rng.next(3) != 0)
        .bind((rng.next(3) == 0).then(|| address(i, 3)))
        .bind(1_800_000_000 + rng.next(50) as i64)
        .execute(pool)
        .await
        .unwrap();
    }
}

/// Requests that cover every filter, order and page boundary.
fn requests(rng: &mut Lcg, supplier: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for _ in 0..60 {
        let mut query = vec![format!("limit={}", 1 + rng.next(7))];
        let mut maybe = |p: u64, text: String| {
            if rng.next(100) < p {
                query.push(text);
            }
        };
        maybe(
            50,
            format!("gpu_model={}", ["H100-SXM", "a100-80g", "L40S", "B200"][(supplier.len() + paths.len()) % 4]),
        );
        maybe(40, format!("region={}", ["US-EAST", "eu-west", "AP-SOUTH"][paths.len() % 3]));
        maybe(30, format!("min_gpus={}", [1, 2, 4, 8][paths.len() % 4]));
        maybe(20, format!("min_connectivity_tier={}", paths.len() % 5));
        maybe(20, format!("compliance={}", paths.len() % 8));
        maybe(20, format!("green={}", paths.len() % 2 == 0));
        maybe(50, format!("available={}", paths.len() % 3 != 0));
        maybe(40, format!("max_price={}", [999_999, 1_000_000, 2_000_000, u64::MAX][paths.len() % 4]));
        maybe(15, format!("supplier={supplier}"));
        maybe(60, format!("sort={}", ["price", "-price", "-gpus", "-registered"][paths.len() % 4]));
        paths.push(format!("/v1/workers?{}", query.join("&")));
    }
    paths
}

async fn get(base: &str, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Every page of `path` (following cursors), and the body of each.
async fn pages(base: &str, path: &str) -> Vec<(u16, String)> {
    let mut bodies = Vec::new();
    let mut next = path.to_string();
    loop {
        let (status, body) = get(base, &next).await;
        let cursor = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|b| b["next_cursor"].as_str().map(String::from));
        bodies.push((status, body));
        match cursor {
            Some(cursor) if bodies.len() < 200 => next = format!("{path}&cursor={cursor}"),
            _ => return bodies,
        }
    }
}

async fn assert_same_answers(from_memory: &[String], from_sql: &str, paths: &[String], points: &[String]) {
    let mut served = 0;
    for path in paths {
        let expected = pages(from_sql, path).await;
        served += usize::from(expected[0].0 == 200);
        for base in from_memory {
            assert_eq!(pages(base, path).await, expected, "{path}");
        }
    }
    assert!(served * 4 >= paths.len() * 3, "most requests are valid ones ({served} of {})", paths.len());
    for path in points {
        let expected = get(from_sql, path).await;
        for base in from_memory {
            assert_eq!(get(base, path).await, expected, "{path}");
        }
    }
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn workers_served_from_memory_are_what_sql_answers_after_every_commit(pool: PgPool) {
    let mut rng = Lcg(17);
    write_workers(&pool, &mut rng, 0, 150).await;
    let start = |in_memory: bool| {
        let config = Config { listen: "127.0.0.1:0".into(), workers_in_memory: in_memory, ..Config::default() };
        let pool = pool.clone();
        async move { timelock_indexer::start::<timelock_indexer::source::RpcSource>(&config, pool, None).await.unwrap() }
    };
    // Two API processes with workers in memory (started before most changes), one answering from SQL.
    let (memory_a, memory_b, sql) = (start(true).await, start(true).await, start(false).await);
    let from_memory = [format!("http://{}", memory_a.addr), format!("http://{}", memory_b.addr)];
    let from_sql = format!("http://{}", sql.addr);
    let supplier = address(1, 1);
    let points: Vec<String> =
        [0, 5, 97, 149, 150, 400].iter().map(|i| format!("/v1/workers/{}", address(*i, 2))).collect();
    let bad = [
        "/v1/workers?sort=-gpus&cursor=eDp5",
        "/v1/workers?cursor=MTg0NDY3NDQwNzM3MDk1NTE2MTY6eA",
        "/v1/workers?limit=0",
    ];
    let mut paths = requests(&mut rng, &supplier);
    paths.extend(bad.iter().map(|p| p.to_string()));
    for path in bad {
        assert!(get(&from_sql, path).await.0 >= 400, "{path}");
    }
    assert_same_answers(&from_memory, &from_sql, &paths, &points).await;

    // Each change is answered at once, by every process: new workers, new prices, workers closed, deleted, a
    // whole table emptied and filled again.
    write_workers(&pool, &mut rng, 100, 200).await;
    assert_same_answers(&from_memory, &from_sql, &paths, &points).await;
    // Marking rows final changes nothing served: nothing is stamped for the copies to re-read.
    let generation =
        || sqlx::query_scalar::<_, i64>("SELECT generation FROM indexer.worker_generation").fetch_one(&pool);
    let before = generation().await.unwrap();
    sqlx::query("UPDATE indexer.workers SET finalized = true").execute(&pool).await.unwrap();
    assert_eq!(generation().await.unwrap(), before);
    sqlx::query("UPDATE indexer.workers SET closed = true WHERE worker_index % 7 = 0").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM indexer.workers WHERE worker_index % 11 = 0").execute(&pool).await.unwrap();
    assert_same_answers(&from_memory, &from_sql, &paths, &points).await;
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("DELETE FROM indexer.workers WHERE gpu_count >= 2").execute(&mut *tx).await.unwrap();
    let uncommitted = get(&from_memory[0], &paths[0]).await;
    assert_eq!(uncommitted, get(&from_sql, &paths[0]).await, "what is not committed is not served");
    tx.commit().await.unwrap();
    assert_same_answers(&from_memory, &from_sql, &paths, &points).await;
    sqlx::query("TRUNCATE indexer.workers").execute(&pool).await.unwrap();
    assert_same_answers(&from_memory, &from_sql, &paths, &points).await;
    write_workers(&pool, &mut rng, 1_000, 120).await;
    assert_same_answers(&from_memory, &from_sql, &paths, &points).await;

    // A process started now reads the table as it is.
    let late = start(true).await;
    assert_same_answers(&[format!("http://{}", late.addr)], &from_sql, &paths, &points).await;
    for indexer in [memory_a, memory_b, sql, late] {
        indexer.stop().await;
    }
}

/// The workers in memory answer what Postgres held at some moment after each request arrived, while many requests
/// share each generation read: every writer reads its own worker back right after committing a new price, while
/// readers keep reads in flight (so that a writer's request often arrives while one already runs, which must not
/// answer it).
#[sqlx::test(migrator = "MIGRATOR")]
async fn a_worker_committed_before_a_request_arrives_is_in_its_answer_while_requests_share_reads(pool: PgPool) {
    const WRITERS: u64 = 8;
    let mut rng = Lcg(5);
    write_workers(&pool, &mut rng, 0, WRITERS * 4).await;
    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let api =
        timelock_indexer::start::<timelock_indexer::source::RpcSource>(&config, pool.clone(), None).await.unwrap();
    let base = format!("http://{}", api.addr);
    let client = reqwest::Client::new();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..8)
        .map(|i| {
            let (client, base, done) = (client.clone(), base.clone(), done.clone());
            tokio::spawn(async move {
                let mut answered = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let path = if i % 2 == 0 {
                        "/v1/workers?limit=5&sort=-price".to_string()
                    } else {
                        format!("/v1/workers/{}", address(i, 2))
                    };
                    let response = client.get(format!("{base}{path}")).send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    answered += 1;
                }
                answered
            })
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (client, base, pool) = (client.clone(), base.clone(), pool.clone());
            tokio::spawn(async move {
                let worker = address(w, 2);
                for i in 0..40u64 {
                    let price = 1_000_000 + w * 1_000 + i;
                    sqlx::query("UPDATE indexer.workers SET price_per_gpu_hour = $1::numeric WHERE address = $2")
                        .bind(price.to_string())
                        .bind(&worker)
                        .execute(&pool)
                        .await
                        .unwrap();
                    let body =
                        client.get(format!("{base}/v1/workers/{worker}")).send().await.unwrap().text().await.unwrap();
                    let view: timelock_sdk::view::WorkerView = serde_json::from_str(&body).unwrap();
                    assert_eq!(view.price_per_gpu_hour, price, "the price committed before the request");
                    // The list answers from the same copy: its supplier's workers up to this price hold it.
                    let page = format!("{base}/v1/workers?supplier={}&max_price={price}&limit=500", view.supplier);
                    let body = client.get(page).send().await.unwrap().text().await.unwrap();
                    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
                    let listed = page["items"].as_array().unwrap().iter().find(|w| w["address"] == worker.as_str());
                    assert_eq!(listed.map(|w| w["price_per_gpu_hour"].clone()), Some(price.into()), "{body}");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }
    api.stop().await;
}
