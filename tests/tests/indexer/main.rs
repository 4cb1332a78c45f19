//! The indexer against real Postgres and transactions of the real .so in LiteSVM: the mirror equals the chain's
//! state, batches are idempotent, older slots never win, a crash between batches loses and duplicates nothing,
//! and the API's filters, pages and errors, and the oracles' verdicts it asks for.

mod api;
mod api_fuzz;
mod ingestion;
mod intervals;
mod node_faults;
mod recovery;
mod schema;

use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use sqlx::PgPool;
use timelock::state::{Cluster, Lease, Worker, WorkerSpec};
use timelock_indexer::decode::{events_of, AccountRecord, InnerInstruction, ProgramAccount, TransactionRecord};
use timelock_indexer::source::{Finality, Source, SourceError};
use timelock_indexer::store::{Batch, Checkpoint, Store};
use timelock_indexer::Config;
use timelock_sdk::filter::WorkerFilter;
use timelock_sdk::view::{ClusterView, LeaseView, SupplierView, WorkerView};
use timelock_sdk::{catalog, ix, pda};
use timelock_tests::{assert_error, Recorded, Signer, TestFixture, TimelockError, ONE_STAKE, ONE_USDC};

use timelock_indexer::store::MIGRATOR as MIGRATIONS;
const HOUR: i64 = 3_600;

fn json(view: impl serde::Serialize) -> Value {
    serde_json::to_value(view).unwrap()
}

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
        batch.events.extend(events_of(&record, &timelock::ID));
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

    async fn finality(&mut self, transactions: Vec<(String, u64)>) -> Result<Finality, SourceError> {
        let dropped = self.fork.as_ref().map(|(d, _)| d.clone()).unwrap_or_default();
        let dropped = transactions.into_iter().map(|(s, _)| s).filter(|s| dropped.contains(s)).collect();
        Ok(Finality { dropped, undecided: Vec::new() })
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

    async fn next_batch(&mut self, checkpoint: Option<Checkpoint>) -> Result<Option<Batch>, SourceError> {
        let after = checkpoint.and_then(|c| c.signature);
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
    let claim = ix::earnings_claim(a.key(), f.payment_mint, a.payment_tokens, timelock_sdk::TOKEN_PROGRAM_ID);
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
        // Each row is the SDK's view of the account (what the API serves and the CLI prints), plus the mirror's
        // own bookkeeping.
        let view = |table: &'static str, expected: Value| async move {
            let mut r = row(pool, table, address).await;
            for own in ["slot", "finalized", "closed"] {
                r.as_object_mut().unwrap().remove(own);
            }
            assert_eq!(r, expected, "{table} row of {address}");
        };
        match ProgramAccount::decode(&account.data) {
            Some(ProgramAccount::Supplier(s)) => view("suppliers", json(SupplierView::new(address, &s))).await,
            Some(ProgramAccount::Worker(w)) => view("workers", json(WorkerView::new(address, &w))).await,
            Some(ProgramAccount::Cluster(c)) => view("clusters", json(ClusterView::new(address, &c))).await,
            Some(ProgramAccount::Lease(l)) => view("leases", json(LeaseView::new(address, &l))).await,
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
    timelock_tests::postgres::indexer_fingerprint(pool).await
}

fn journal(m: &mut Market) -> Vec<Recorded> {
    m.f.journal.take().expect("recording")
}
