//! The indexer against real Postgres and transactions of the real .so in LiteSVM: the mirror equals the chain's
//! state, batches are idempotent, older slots never win, a crash between batches loses and duplicates nothing,
//! and the API's filters, pages and errors.

use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use sqlx::PgPool;
use timelock::state::{Cluster, ClusterStatus, Lease, Supplier, Worker, WorkerSpec};
use timelock_indexer::decode::{events_of, AccountRecord, InnerInstruction, ProgramAccount, TransactionRecord};
use timelock_indexer::source::{Source, SourceError};
use timelock_indexer::store::{Batch, Store};
use timelock_indexer::Config;
use timelock_sdk::{catalog, ix};
use timelock_tests::{assert_error, Recorded, Signer, TestFixture, TimelockError, ONE_STAKE, ONE_USDC};

const MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
const HOUR: i64 = 3_600;

fn batch_of(recorded: &[Recorded]) -> Batch {
    let mut batch = Batch::default();
    for r in recorded {
        let record = TransactionRecord {
            signature: r.signature.clone(),
            slot: r.slot,
            block_time: Some(r.unix_timestamp),
            inner_instructions: r
                .inner
                .iter()
                .map(|(outer, program, data)| InnerInstruction {
                    outer_index: *outer,
                    program_id: *program,
                    data: data.clone(),
                })
                .collect(),
        };
        batch.events.extend(events_of(&record));
        batch.accounts.extend(r.accounts.iter().map(|(address, data)| AccountRecord {
            address: *address,
            slot: r.slot,
            data: data.clone(),
        }));
        batch.checkpoint = Some((r.slot, Some(r.signature.clone())));
    }
    batch
}

/// Replays a recorded run `per_batch` transactions at a time from the store's checkpoint, as the RPC source
/// reads a cluster. With `fork`, every batch reports its slot finalized and these signatures as dropped with an
/// abandoned fork, and a re-snapshot returns `accounts_now`.
struct Replay {
    journal: Vec<Recorded>,
    per_batch: usize,
    fork: Option<AbandonedFork>,
}

/// The signatures an abandoned fork dropped, and each account's (address, data, slot) once it is undone.
type AbandonedFork = (Vec<String>, Vec<(Pubkey, Vec<u8>, u64)>);

impl Source for Replay {
    fn name(&self) -> &str {
        "replay"
    }

    async fn dropped(&mut self, signatures: Vec<String>) -> Result<Vec<String>, SourceError> {
        let dropped = self.fork.as_ref().map(|(d, _)| d.clone()).unwrap_or_default();
        Ok(signatures.into_iter().filter(|s| dropped.contains(s)).collect())
    }

    async fn resnapshot(&mut self) -> Result<Batch, SourceError> {
        let accounts = self.fork.as_ref().map(|(_, a)| a.clone()).unwrap_or_default();
        Ok(Batch {
            accounts: accounts
                .into_iter()
                .map(|(address, data, slot)| AccountRecord { address, slot, data: Some(data) })
                .collect(),
            ..Batch::default()
        })
    }

    async fn next_batch(&mut self, checkpoint: Option<(u64, Option<String>)>) -> Result<Option<Batch>, SourceError> {
        let after = checkpoint.and_then(|(_, s)| s);
        let start = match after {
            Some(signature) => self.journal.iter().position(|r| r.signature == signature).map_or(0, |i| i + 1),
            None => 0,
        };
        let end = (start + self.per_batch).min(self.journal.len());
        let finalized = self.fork.is_some();
        Ok((start < end).then(|| {
            let mut batch = batch_of(&self.journal[start..end]);
            batch.finalized_slot = finalized.then(|| self.journal[end - 1].slot);
            batch
        }))
    }
}

struct Market {
    f: TestFixture,
    h100_a: ix::WorkerRef,
    h100_b: ix::WorkerRef,
    supplier_a: Pubkey,
    supplier_b: Pubkey,
    cheater_lease: Pubkey,
}

fn spec(f: &TestFixture, model: &str, gpus: u16, region: &str, price: u64, green: bool, tier: u8) -> WorkerSpec {
    WorkerSpec {
        gpu_model: catalog::gpu_model_code(model).unwrap(),
        gpu_count: gpus,
        region: catalog::region_code(region).unwrap(),
        price_per_gpu_hour: price,
        green_energy: green,
        connectivity_tier: tier,
        compliance: if green { catalog::compliance_flags(true, false, true) } else { 0 },
        device_key: Pubkey::new_unique(),
        ..f.h100_spec()
    }
}

/// Two suppliers list five workers; a renter books one H100 worker of each; an hour later the oracles attest
/// (the second worker with faults), settlement pays and slashes, and the first supplier claims.
fn market() -> Market {
    let mut f = TestFixture::deployed();
    f.journal = Some(Vec::new());
    f.init_config().unwrap();
    let a = f.staked_supplier(40_000 * ONE_STAKE);
    let b = f.staked_supplier(40_000 * ONE_STAKE);
    let listings = [
        (&a, spec(&f, "H100-SXM", 8, "US-EAST", 2_000_000, true, 4)),
        (&a, spec(&f, "A100-80G", 4, "EU-WEST", 1_200_000, false, 2)),
        (&a, spec(&f, "RTX-4090", 1, "US-WEST", 400_000, true, 1)),
        (&b, spec(&f, "H100-SXM", 8, "EU-WEST", 2_500_000, false, 3)),
        (&b, spec(&f, "L40S", 2, "AP-SOUTH", 900_000, true, 2)),
    ];
    let mut refs = Vec::new();
    for (supplier, spec) in listings {
        let index = f.register_worker(supplier, spec).unwrap();
        refs.push(f.worker_ref(supplier, index));
    }
    let renter = f.renter(1_000_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 2).unwrap();
    f.add_workers(&renter, 1, &[refs[0], refs[3]]).unwrap();
    let (honest, cheater) = (f.lease_address(&renter, 1, &refs[0]), f.lease_address(&renter, 1, &refs[3]));
    f.warp(HOUR);
    let window = f.now();
    f.attest_quorum(2, window, &[(honest, 3_000, 0), (cheater, 1_800, 2)]);
    f.warp(f.config().params.dispute_window_secs + 1);
    f.settle(&renter, 1, &refs[0]).unwrap();
    f.settle(&renter, 1, &refs[3]).unwrap();
    let claim = ix::rewards_claim(a.key(), f.payment_mint, a.payment_tokens, timelock_sdk::TOKEN_PROGRAM_ID);
    f.send(&[claim], &[&a.authority]).unwrap();
    Market {
        h100_a: refs[0],
        h100_b: refs[3],
        supplier_a: a.supplier(),
        supplier_b: b.supplier(),
        cheater_lease: cheater,
        f,
    }
}

async fn row(pool: &PgPool, table: &str, address: &Pubkey) -> Value {
    sqlx::query_scalar(&format!("SELECT to_jsonb(t) FROM indexer.{table} t WHERE address = $1"))
        .bind(address.to_string())
        .fetch_optional(pool)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{address} missing from indexer.{table}"))
}

/// Every live program account in LiteSVM has its row with the same values, and no row claims a live account
/// that LiteSVM does not hold.
async fn assert_mirror(f: &TestFixture, pool: &PgPool) {
    let accounts = f.svm.get_program_accounts(&timelock::ID);
    let mut live = 0;
    for (address, account) in &accounts {
        let n = |v: u64| Value::from(v as i64);
        match ProgramAccount::decode(&account.data) {
            Some(ProgramAccount::Supplier(s)) => {
                let r = row(pool, "suppliers", address).await;
                let expected: Supplier = s;
                assert_eq!(
                    (&r["staked"], &r["locked"], &r["slashed_total"], &r["earnings_unclaimed"], &r["earnings_claimed"]),
                    (
                        &n(expected.staked),
                        &n(expected.locked),
                        &n(expected.slashed_total),
                        &n(expected.earnings_unclaimed),
                        &n(expected.earnings_claimed)
                    )
                );
                assert_eq!(r["active_leases"], expected.active_leases);
            }
            Some(ProgramAccount::Worker(w)) => {
                let r = row(pool, "workers", address).await;
                let expected: Worker = w;
                assert_eq!(r["available"], expected.available);
                assert_eq!(r["jailed_until"], expected.jailed_until);
                assert_eq!(r["fault_count"], n(expected.fault_count));
                assert_eq!(r["price_per_gpu_hour"], n(expected.spec.price_per_gpu_hour));
                assert_eq!(r["gpu_model"], catalog::gpu_model_name(expected.spec.gpu_model).unwrap());
                let active = (expected.active_lease != Pubkey::default()).then(|| expected.active_lease.to_string());
                assert_eq!(r["active_lease"].as_str().map(str::to_string), active);
            }
            Some(ProgramAccount::Cluster(c)) => {
                let r = row(pool, "clusters", address).await;
                let expected: Cluster = c;
                let status = if expected.status == ClusterStatus::Open { "open" } else { "ended" };
                assert_eq!(r["status"], status);
                assert_eq!(
                    (&r["deposited"], &r["paid_to_suppliers"], &r["fees"], &r["refunded"], &r["leases_open"]),
                    (
                        &n(expected.deposited),
                        &n(expected.paid_to_suppliers),
                        &n(expected.fees),
                        &n(expected.refunded),
                        &n(u64::from(expected.leases_open))
                    )
                );
            }
            Some(ProgramAccount::Lease(l)) => {
                let r = row(pool, "leases", address).await;
                let expected: &Lease = &l;
                assert_eq!(
                    (&r["proven_secs"], &r["final_secs"], &r["faults"], &r["gross_paid"], &r["slashed"]),
                    (
                        &n(expected.proven_secs),
                        &n(expected.final_secs),
                        &n(expected.faults),
                        &n(expected.gross_paid),
                        &n(expected.slashed)
                    )
                );
            }
            Some(ProgramAccount::Config(c)) => {
                let r = row(pool, "config", address).await;
                assert_eq!(r["admin"], c.admin.to_string());
                assert_eq!(r["oracle_threshold"], c.params.oracle_threshold);
            }
            None => continue,
        }
        live += 1;
    }
    let rows: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM indexer.config) + (SELECT count(*) FROM indexer.suppliers WHERE NOT closed) + \
         (SELECT count(*) FROM indexer.workers WHERE NOT closed) + (SELECT count(*) FROM indexer.clusters WHERE NOT closed) + \
         (SELECT count(*) FROM indexer.leases WHERE NOT closed)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(rows, live, "one live row per live program account");
}

async fn fingerprint(pool: &PgPool) -> String {
    let mut all = String::new();
    for table in [
        "config",
        "suppliers",
        "workers",
        "clusters",
        "leases",
        "events",
        "payouts",
        "slashes",
        "attestations",
        "checkpoints",
    ] {
        let rows: Vec<Value> = sqlx::query_scalar(&format!(
            "SELECT to_jsonb(t) - 'updated_at' FROM indexer.{table} t ORDER BY to_jsonb(t)::text"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        all.push_str(&serde_json::to_string(&rows).unwrap());
    }
    all
}

fn journal(m: &mut Market) -> Vec<Recorded> {
    m.f.journal.take().expect("recording")
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn the_mirror_equals_the_chain_and_batches_are_idempotent(pool: PgPool) {
    let mut m = market();
    let recorded = journal(&mut m);
    let store = Store::new(pool.clone());
    let total_events: usize = recorded.chunks(4).map(|c| batch_of(c).events.len()).sum();
    for chunk in recorded.chunks(4) {
        store.apply("replay", &batch_of(chunk)).await.unwrap();
    }
    assert_mirror(&m.f, &pool).await;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM indexer.events").fetch_one(&pool).await.unwrap();
    assert_eq!(events as usize, total_events);
    assert!(total_events > 15, "every state change emits an event ({total_events})");

    // Settlement paid both suppliers, slashed the cheater, and the claim is a payout too.
    let payouts: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT kind, supplier, amount FROM indexer.payouts ORDER BY kind, supplier")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(payouts.iter().filter(|p| p.0 == "settlement").count(), 2);
    assert!(payouts.iter().any(|p| p.0 == "claim" && p.1 == m.supplier_a.to_string() && p.2 > 0));
    let slashes: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT supplier, lease, amount FROM indexer.slashes").fetch_all(&pool).await.unwrap();
    assert_eq!(slashes.len(), 1);
    assert_eq!(
        (slashes[0].0.as_str(), slashes[0].1.as_str()),
        (m.supplier_b.to_string().as_str(), m.cheater_lease.to_string().as_str())
    );
    assert_eq!(slashes[0].2 as u64, m.f.account::<Lease>(&m.cheater_lease).slashed);
    let attestations: i64 =
        sqlx::query_scalar("SELECT count(*) FROM indexer.attestations").fetch_one(&pool).await.unwrap();
    assert_eq!(attestations, 4, "two oracles × two leases");

    // The same batches again change nothing.
    let before = fingerprint(&pool).await;
    for chunk in recorded.chunks(4) {
        store.apply("replay", &batch_of(chunk)).await.unwrap();
    }
    assert_eq!(fingerprint(&pool).await, before);

    // A state from an older slot is ignored: the worker's registration state comes back from the first batch.
    let worker = m.h100_a.worker;
    let first = recorded.iter().find(|r| r.accounts.iter().any(|(a, d)| *a == worker && d.is_some())).unwrap();
    let stale = Batch {
        accounts: first
            .accounts
            .iter()
            .map(|(a, d)| AccountRecord { address: *a, slot: first.slot, data: d.clone() })
            .collect(),
        ..Batch::default()
    };
    store.apply("replay", &stale).await.unwrap();
    assert_mirror(&m.f, &pool).await;
    assert_eq!(fingerprint(&pool).await, before);
}

async fn wait_for_checkpoint(store: &Store, signature: &str) {
    for _ in 0..200 {
        if store.checkpoint("replay").await.unwrap().and_then(|(_, s)| s).as_deref() == Some(signature) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the indexer did not reach {signature}");
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn bookable_means_the_same_on_chain_in_the_cli_and_in_the_api(pool: PgPool) {
    // Four workers: free, leased, unavailable, and jailed with its cool-down passed but not yet unjailed (the
    // case the API once listed as available while booking it failed with `WorkerJailed`).
    // The chain's clock starts three days before the wall clock, so that the cool-down has passed by the
    // wall clock too (what a time-based predicate in the API would compare with).
    let mut f = TestFixture::deployed();
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    f.set_time(wall - 3 * 86_400);
    f.journal = Some(Vec::new());
    f.init_config().unwrap();
    let (supplier, workers) = f.supplier_with_workers(4);
    let renter = f.renter(10_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 1).unwrap();
    f.add_workers(&renter, 1, &workers[1..2]).unwrap();
    f.add_workers(&renter, 1, &workers[3..4]).unwrap();
    let index = |f: &TestFixture, w: &ix::WorkerRef| f.account::<Worker>(&w.worker).worker_index;
    let unavailable = ix::worker_set_available(supplier.key(), index(&f, &workers[2]), false);
    f.exec(unavailable, &[&supplier.authority]);
    f.warp(HOUR);
    let window = f.now();
    f.attest_quorum(2, window, &[(f.lease_address(&renter, 1, &workers[3]), 3_600, 3)]);
    f.warp(f.config().params.dispute_window_secs + f.config().params.epoch_secs);
    f.settle(&renter, 1, &workers[3]).unwrap();
    f.warp(f.config().params.jail_cooldown_secs + 1);
    let jailed: Worker = f.account(&workers[3].worker);
    assert!(jailed.is_jailed() && f.now() > jailed.jailed_until, "cool-down passed, not unjailed");
    assert!(wall > jailed.jailed_until, "and by the wall clock");

    let recorded = f.journal.take().unwrap();
    Store::new(pool.clone()).apply("replay", &batch_of(&recorded)).await.unwrap();
    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let indexer = timelock_indexer::start::<Replay>(&config, pool.clone(), None).await.unwrap();
    let base = format!("http://{}", indexer.addr);
    let (_, listed) = get(&base, "/v1/workers?available=true").await;
    let mut api: Vec<String> = addresses(&listed);
    api.sort();

    let cli_filter = timelock_sdk::cli::WorkerFilter { available: true, ..Default::default() };
    let mut chain = Vec::new();
    for w in &workers {
        let worker: Worker = f.account(&w.worker);
        assert_eq!(cli_filter.matches(&worker).unwrap(), worker.is_bookable(), "the CLI's --available");
        if worker.is_bookable() {
            chain.push(w.worker.to_string());
        }
    }
    assert_eq!(chain, vec![workers[0].worker.to_string()]);
    assert_eq!(api, chain, "the API's available=true");
    // The booking agrees: only the bookable worker can be booked.
    f.create_cluster(&renter, 2, 1).unwrap();
    assert_error(f.add_workers(&renter, 2, &workers[3..4]), TimelockError::WorkerJailed);
    f.add_workers(&renter, 2, &workers[..1]).unwrap();
    indexer.stop().await;
}

/// kind, disputer, bond, upheld, proven_secs, faults, bond_to
type DisputeRow = (String, String, i64, Option<bool>, Option<i64>, Option<i64>, Option<String>);

#[sqlx::test(migrator = "MIGRATIONS")]
async fn every_dispute_outcome_is_mirrored(pool: PgPool) {
    // The renter disputes and the admin decides; later the supplier disputes and nobody decides, so the dispute
    // lapses at settlement and its bond goes to the renter.
    let mut f = TestFixture::deployed();
    f.journal = Some(Vec::new());
    f.init_config().unwrap();
    let (supplier, workers) = f.supplier_with_workers(1);
    let renter = f.renter(1_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 2).unwrap();
    f.add_workers(&renter, 1, &workers).unwrap();
    let lease = f.lease_address(&renter, 1, &workers[0]);
    f.warp(HOUR);
    let window = f.now();
    f.attest_quorum(2, window, &[(lease, 3_600, 1)]);
    let payment = f.payment(&renter, 1);
    let w = workers[0];
    f.exec(ix::lease_dispute(renter.key(), renter.payment_tokens, payment, w.worker, w.supplier), &[&renter.authority]);
    let admin = f.admin.insecure_clone();
    let treasury = f.treasury_payment_tokens;
    let resolve = ix::lease_dispute_resolve(
        admin.pubkey(),
        payment,
        w.worker,
        renter.payment_tokens,
        treasury,
        3_000,
        0,
        f.now(),
        true,
    );
    f.exec(resolve, &[&admin]);
    f.mint_to(f.payment_mint, supplier.payment_tokens, 10 * ONE_USDC);
    let dispute = ix::lease_dispute(supplier.key(), supplier.payment_tokens, payment, w.worker, w.supplier);
    f.exec(dispute, &[&supplier.authority]);
    f.warp(f.config().params.dispute_timeout_secs);
    f.settle(&renter, 1, &w).unwrap();

    let recorded = f.journal.take().unwrap();
    Store::new(pool.clone()).apply("replay", &batch_of(&recorded)).await.unwrap();
    let rows: Vec<DisputeRow> = sqlx::query_as(
        "SELECT kind, disputer, bond, upheld, proven_secs, faults, bond_to FROM indexer.disputes ORDER BY slot, event_index",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let (renter_key, supplier_key) = (renter.key().to_string(), supplier.key().to_string());
    let bond = 10 * ONE_USDC as i64;
    assert_eq!(
        rows,
        vec![
            ("opened".into(), renter_key.clone(), bond, None, None, None, None),
            ("resolved".into(), renter_key.clone(), bond, Some(true), Some(3_000), Some(0), None),
            ("opened".into(), supplier_key.clone(), bond, None, None, None, None),
            ("lapsed".into(), supplier_key, bond, None, None, None, Some(renter_key)),
        ]
    );
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

async fn get(base: &str, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The keys of a page's items: account addresses, or event ids for payouts and slashes.
fn addresses(body: &Value) -> Vec<String> {
    let items = body["items"].as_array().unwrap();
    items.iter().map(|w| w["address"].as_str().or(w["id"].as_str()).unwrap().to_string()).collect()
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn the_api_filters_pages_and_refuses_bad_requests(pool: PgPool) {
    let mut m = market();
    let recorded = journal(&mut m);
    Store::new(pool.clone()).apply("replay", &batch_of(&recorded)).await.unwrap();
    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let indexer = timelock_indexer::start::<Replay>(&config, pool.clone(), None).await.unwrap();
    let base = format!("http://{}", indexer.addr);
    let workers: BTreeMap<String, Value> = {
        let (_, all) = get(&base, "/v1/workers?limit=500").await;
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| (w["address"].as_str().unwrap().to_string(), w.clone()))
            .collect()
    };
    assert_eq!(workers.len(), 5);
    let count = |path: &str| {
        let (path, base) = (path.to_string(), base.clone());
        async move {
            let (status, body) = get(&base, &path).await;
            assert_eq!(status, 200, "{path}: {body}");
            addresses(&body).len()
        }
    };

    // Every filter narrows as the listings say.
    assert_eq!(count("/v1/workers?gpu_model=H100-SXM").await, 2);
    assert_eq!(count("/v1/workers?gpu_model=h100-sxm&region=eu-west").await, 1);
    assert_eq!(count("/v1/workers?min_gpus=4").await, 3);
    assert_eq!(count("/v1/workers?min_vram_gib=80").await, 5);
    assert_eq!(count("/v1/workers?region=US-WEST").await, 1);
    assert_eq!(count("/v1/workers?min_connectivity_tier=3").await, 2);
    assert_eq!(count("/v1/workers?compliance=5").await, 3);
    assert_eq!(count("/v1/workers?green=true").await, 3);
    assert_eq!(count("/v1/workers?green=false").await, 2);
    assert_eq!(count("/v1/workers?max_price=1000000").await, 2);
    assert_eq!(count(&format!("/v1/workers?supplier={}", m.supplier_b)).await, 2);
    // The two booked workers stay leased while the cluster runs.
    assert_eq!(count("/v1/workers?available=false").await, 2);
    assert_eq!(count("/v1/workers?available=true").await, 3);

    // Sorting, and pages that together are the whole list in order.
    let (_, by_price) = get(&base, "/v1/workers?sort=-price").await;
    let prices: Vec<i64> =
        by_price["items"].as_array().unwrap().iter().map(|w| w["price_per_gpu_hour"].as_i64().unwrap()).collect();
    assert_eq!(prices, vec![2_500_000, 2_000_000, 1_200_000, 900_000, 400_000]);
    let (_, by_gpus) = get(&base, "/v1/workers?sort=-gpus&limit=1").await;
    assert_eq!(by_gpus["items"][0]["gpu_count"], 8);
    let mut paged = Vec::new();
    let mut path = "/v1/workers?limit=2".to_string();
    loop {
        let (status, body) = get(&base, &path).await;
        assert_eq!(status, 200);
        paged.extend(addresses(&body));
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/workers?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let (_, all) = get(&base, "/v1/workers?limit=500").await;
    assert_eq!(paged, addresses(&all));

    // One of each, and the lists by owner.
    let (status, worker) = get(&base, &format!("/v1/workers/{}", m.h100_a.worker)).await;
    assert_eq!((status, worker["gpu_model"].as_str()), (200, Some("H100-SXM")));
    let (_, supplier) = get(&base, &format!("/v1/suppliers/{}", m.supplier_b)).await;
    assert_eq!(supplier["slashes_total"].as_i64(), Some(m.f.account::<Lease>(&m.cheater_lease).slashed as i64));
    assert!(supplier["earned_total"].as_i64().unwrap() > 0);
    let (_, lease) = get(&base, &format!("/v1/leases/{}", m.cheater_lease)).await;
    assert_eq!(lease["attestations"].as_array().unwrap().len(), 2);
    let (_, leases) = get(&base, &format!("/v1/leases?worker={}", m.h100_b.worker)).await;
    assert_eq!(addresses(&leases), vec![m.cheater_lease.to_string()]);
    let cluster = lease["cluster"].as_str().unwrap().to_string();
    let (_, cluster_body) = get(&base, &format!("/v1/clusters/{cluster}")).await;
    assert_eq!(cluster_body["leases"].as_array().unwrap().len(), 2);
    let renter = cluster_body["renter"].as_str().unwrap();
    assert_eq!(count(&format!("/v1/clusters?renter={renter}")).await, 1);
    assert_eq!(count("/v1/suppliers").await, 2);
    assert_eq!(count(&format!("/v1/payouts?supplier={}", m.supplier_a)).await, 2, "settlement and claim");
    let now = m.f.now();
    assert_eq!(count(&format!("/v1/payouts?from={}", now + 1)).await, 0);
    assert_eq!(count(&format!("/v1/payouts?from={}&to={}", now - 10, now + 1)).await, 3);
    assert_eq!(count(&format!("/v1/slashes?supplier={}", m.supplier_b)).await, 1);
    assert_eq!(count(&format!("/v1/slashes?supplier={}", m.supplier_a)).await, 0);
    let (_, stats) = get(&base, "/v1/stats").await;
    assert_eq!((stats["gpus_total"].as_i64(), stats["gpus_rented"].as_i64()), (Some(23), Some(16)));
    let (status, openapi) = get(&base, "/openapi.json").await;
    assert_eq!(status, 200);
    for path in timelock_indexer::openapi::PATHS {
        assert!(openapi["paths"][path].is_object(), "{path} documented");
    }

    // Bad requests: JSON errors, 400 for bad filters, 404 for unknown ids.
    let refused = |path: &'static str, status: u16, code: &'static str| {
        let base = base.clone();
        async move {
            let (got, body) = get(&base, path).await;
            assert_eq!((got, body["error"]["code"].as_str()), (status, Some(code)), "{path}: {body}");
        }
    };
    refused("/v1/workers?limit=0", 400, "bad_filter").await;
    refused("/v1/workers?limit=501", 400, "bad_filter").await;
    refused("/v1/workers?gpu_model=TPU", 400, "bad_filter").await;
    refused("/v1/workers?sort=vram", 400, "bad_filter").await;
    refused("/v1/workers?min_gpus=many", 400, "bad_filter").await;
    refused("/v1/workers?colour=green", 400, "bad_filter").await;
    refused("/v1/workers?cursor=%21%21", 400, "bad_cursor").await;
    refused("/v1/workers?supplier=nope", 400, "bad_address").await;
    refused("/v1/payouts?from=10&to=5", 400, "bad_filter").await;
    refused("/v1/workers/nope", 400, "bad_address").await;
    refused("/v1/workers/11111111111111111111111111111111", 404, "unknown_worker").await;
    refused("/v1/leases/11111111111111111111111111111111", 404, "unknown_lease").await;
    refused("/v1/clusters/11111111111111111111111111111111", 404, "unknown_cluster").await;
    refused("/v1/suppliers/11111111111111111111111111111111", 404, "unknown_supplier").await;
    refused("/v2/anything", 404, "no_such_route").await;
    indexer.stop().await;
}
