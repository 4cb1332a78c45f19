//! Writes batches into the mirror and reads it back for the API. A batch (accounts, events and the source's
//! checkpoint) is one database transaction: a crash between batches loses nothing and applying a batch again
//! changes nothing.

use anchor_lang::prelude::Pubkey;
use sqlx::{PgPool, Postgres, Transaction};
use timelock::state::ClusterStatus;
use timelock_sdk::catalog;

use crate::decode::{AccountRecord, EventRecord, ProgramAccount, ProgramEvent};

/// What a source delivers in one step.
#[derive(Default)]
pub struct Batch {
    pub accounts: Vec<AccountRecord>,
    pub events: Vec<EventRecord>,
    /// The source's position after this batch: (slot, newest signature).
    pub checkpoint: Option<(u64, Option<String>)>,
    /// Highest slot the cluster has finalized, as far as the source knows.
    pub finalized_slot: Option<u64>,
}

#[derive(Clone)]
pub struct Store {
    pub pool: PgPool,
}

type Tx<'a> = Transaction<'a, Postgres>;

fn upsert_sql(table: &str, columns: &[&str]) -> String {
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    let updates: Vec<String> =
        columns.iter().filter(|c| **c != "address").map(|c| format!("{c} = EXCLUDED.{c}")).collect();
    format!(
        "INSERT INTO indexer.{table} ({}, closed) VALUES ({}, false) ON CONFLICT (address) DO UPDATE SET {}, \
         closed = false WHERE indexer.{table}.slot <= EXCLUDED.slot",
        columns.join(", "),
        placeholders.join(", "),
        updates.join(", ")
    )
}

fn key(pubkey: &Pubkey) -> String {
    pubkey.to_string()
}

fn optional_key(pubkey: &Pubkey) -> Option<String> {
    (*pubkey != Pubkey::default()).then(|| pubkey.to_string())
}

fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Store {
    pub fn new(pool: PgPool) -> Self {
        Store { pool }
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        sqlx::migrate!("../migrations").run(&self.pool).await
    }

    pub async fn checkpoint(&self, source: &str) -> sqlx::Result<Option<(u64, Option<String>)>> {
        let row: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT slot, signature FROM indexer.checkpoints WHERE source = $1")
                .bind(source)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(slot, signature)| (slot as u64, signature)))
    }

    /// Applies a batch atomically, with the checkpoint of `source`.
    pub async fn apply(&self, source: &str, batch: &Batch) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        for account in &batch.accounts {
            apply_account(&mut tx, account).await?;
        }
        insert_events(&mut tx, &batch.events).await?;
        if let Some((slot, signature)) = &batch.checkpoint {
            sqlx::query(
                "INSERT INTO indexer.checkpoints (source, slot, signature) VALUES ($1, $2, $3) \
                 ON CONFLICT (source) DO UPDATE SET slot = EXCLUDED.slot, signature = EXCLUDED.signature, \
                 updated_at = now() WHERE indexer.checkpoints.slot <= EXCLUDED.slot",
            )
            .bind(source)
            .bind(*slot as i64)
            .bind(signature)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Signatures of stored events not yet known final whose slot the cluster has finalized: each is either
    /// final now or was rolled back, which the source tells.
    pub async fn unfinalized_signatures(&self, finalized_slot: u64) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar("SELECT DISTINCT signature FROM indexer.events WHERE NOT finalized AND slot <= $1")
            .bind(finalized_slot as i64)
            .fetch_all(&self.pool)
            .await
    }

    /// Removes what rolled-back transactions wrote (their events and every row derived from them); account
    /// rows are then corrected by a fresh snapshot.
    pub async fn undo(&self, signatures: &[String]) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        for table in ["events", "payouts", "slashes", "attestations", "disputes"] {
            sqlx::query(&format!("DELETE FROM indexer.{table} WHERE signature = ANY($1)"))
                .bind(signatures)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// Marks every row at or below `slot` finalized.
    pub async fn finalize(&self, slot: u64) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        for table in ["config", "suppliers", "workers", "clusters", "leases", "events"] {
            sqlx::query(&format!("UPDATE indexer.{table} SET finalized = true WHERE NOT finalized AND slot <= $1"))
                .bind(slot as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
}

async fn apply_account(tx: &mut Tx<'_>, record: &AccountRecord) -> sqlx::Result<()> {
    let slot = record.slot as i64;
    let address = key(&record.address);
    let Some(data) = &record.data else {
        // Closed: every table that may hold it marks it, unless it already holds a newer state.
        for table in ["suppliers", "workers", "clusters", "leases"] {
            sqlx::query(&format!(
                "UPDATE indexer.{table} SET closed = true, slot = $2 WHERE address = $1 AND slot <= $2"
            ))
            .bind(&address)
            .bind(slot)
            .execute(&mut **tx)
            .await?;
        }
        return Ok(());
    };
    match ProgramAccount::decode(data) {
        Some(ProgramAccount::Config(c)) => {
            sqlx::query(
                "INSERT INTO indexer.config (address, admin, paused, fee_bps, oracles, oracle_threshold, slot) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (address) DO UPDATE SET admin = EXCLUDED.admin, \
                 paused = EXCLUDED.paused, fee_bps = EXCLUDED.fee_bps, oracles = EXCLUDED.oracles, \
                 oracle_threshold = EXCLUDED.oracle_threshold, slot = EXCLUDED.slot \
                 WHERE indexer.config.slot <= EXCLUDED.slot",
            )
            .bind(&address)
            .bind(key(&c.admin))
            .bind(c.paused)
            .bind(i32::from(c.params.protocol_fee_bps))
            .bind(c.params.oracles.iter().map(key).collect::<Vec<_>>())
            .bind(i32::from(c.params.oracle_threshold))
            .bind(slot)
            .execute(&mut **tx)
            .await?;
        }
        Some(ProgramAccount::Supplier(s)) => {
            let columns = [
                "address",
                "authority",
                "staked",
                "unbonding",
                "reserved",
                "locked",
                "slashed_total",
                "earnings_unclaimed",
                "earnings_claimed",
                "active_leases",
                "worker_count",
                "gpu_count",
                "created_at",
                "slot",
            ];
            sqlx::query(&upsert_sql("suppliers", &columns))
                .bind(&address)
                .bind(key(&s.authority))
                .bind(signed(s.staked))
                .bind(signed(s.unbonding))
                .bind(signed(s.reserved))
                .bind(signed(s.locked))
                .bind(signed(s.slashed_total))
                .bind(signed(s.earnings_unclaimed))
                .bind(signed(s.earnings_claimed))
                .bind(s.active_leases as i32)
                .bind(s.worker_count as i32)
                .bind(s.gpu_count as i32)
                .bind(s.created_at)
                .bind(slot)
                .execute(&mut **tx)
                .await?;
        }
        Some(ProgramAccount::Worker(w)) => {
            let columns = [
                "address",
                "supplier",
                "worker_index",
                "gpu_model",
                "gpu_count",
                "vram_gib",
                "cpu_cores",
                "ram_gib",
                "region",
                "connectivity_tier",
                "compliance",
                "green_energy",
                "price_per_gpu_hour",
                "device_key",
                "available",
                "active_lease",
                "bonded_stake",
                "jailed_until",
                "fault_count",
                "registered_at",
                "slot",
            ];
            let spec = &w.spec;
            sqlx::query(&upsert_sql("workers", &columns))
                .bind(&address)
                .bind(key(&w.supplier))
                .bind(i64::from(w.worker_index))
                .bind(catalog::gpu_model_name(spec.gpu_model).unwrap_or("unknown"))
                .bind(i32::from(spec.gpu_count))
                .bind(i32::from(spec.vram_gib))
                .bind(i32::from(spec.cpu_cores))
                .bind(i64::from(spec.ram_gib))
                .bind(catalog::region_name(&spec.region))
                .bind(i32::from(spec.connectivity_tier))
                .bind(i32::from(spec.compliance))
                .bind(spec.green_energy)
                .bind(signed(spec.price_per_gpu_hour))
                .bind(key(&spec.device_key))
                .bind(w.available)
                .bind(optional_key(&w.active_lease))
                .bind(signed(w.bonded_stake))
                .bind(w.jailed_until)
                .bind(signed(w.fault_count))
                .bind(w.registered_at)
                .bind(slot)
                .execute(&mut **tx)
                .await?;
        }
        Some(ProgramAccount::Cluster(c)) => {
            let columns = [
                "address",
                "renter",
                "cluster_id",
                "payment_mint",
                "purpose",
                "status",
                "start_ts",
                "end_ts",
                "hours",
                "lease_count",
                "leases_open",
                "hourly_rate_total",
                "deposited",
                "paid_to_suppliers",
                "fees",
                "refunded",
                "slot",
            ];
            let status = match c.status {
                ClusterStatus::Open => "open",
                ClusterStatus::Ended => "ended",
            };
            sqlx::query(&upsert_sql("clusters", &columns))
                .bind(&address)
                .bind(key(&c.renter))
                .bind(signed(c.cluster_id))
                .bind(key(&c.payment_mint))
                .bind(format!("{:?}", c.purpose).to_lowercase())
                .bind(status)
                .bind(c.start_ts)
                .bind(c.end_ts)
                .bind(i64::from(c.hours))
                .bind(i64::from(c.lease_count))
                .bind(i64::from(c.leases_open))
                .bind(signed(c.hourly_rate_total))
                .bind(signed(c.deposited))
                .bind(signed(c.paid_to_suppliers))
                .bind(signed(c.fees))
                .bind(signed(c.refunded))
                .bind(slot)
                .execute(&mut **tx)
                .await?;
        }
        Some(ProgramAccount::Lease(l)) => {
            let columns = [
                "address",
                "cluster",
                "worker",
                "supplier",
                "price_per_gpu_hour",
                "hourly_rate",
                "gpu_count",
                "collateral",
                "start_ts",
                "ended_at",
                "proven_secs",
                "final_secs",
                "faults",
                "gross_paid",
                "fees_paid",
                "slashed",
                "disputer",
                "slot",
            ];
            sqlx::query(&upsert_sql("leases", &columns))
                .bind(&address)
                .bind(key(&l.cluster))
                .bind(key(&l.worker))
                .bind(key(&l.supplier))
                .bind(signed(l.price_per_gpu_hour))
                .bind(signed(l.hourly_rate))
                .bind(i32::from(l.gpu_count))
                .bind(signed(l.collateral))
                .bind(l.start_ts)
                .bind(l.ended_at)
                .bind(signed(l.proven_secs))
                .bind(signed(l.final_secs))
                .bind(signed(l.faults))
                .bind(signed(l.gross_paid))
                .bind(signed(l.fees_paid))
                .bind(signed(l.slashed))
                .bind(optional_key(&l.disputer))
                .bind(slot)
                .execute(&mut **tx)
                .await?;
        }
        None => {}
    }
    Ok(())
}

/// Raw events and their derived rows, one multi-row statement per table.
async fn insert_events(tx: &mut Tx<'_>, events: &[EventRecord]) -> sqlx::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let signatures: Vec<&str> = events.iter().map(|e| e.signature.as_str()).collect();
    let ix: Vec<i32> = events.iter().map(|e| i32::from(e.ix_index)).collect();
    let index: Vec<i32> = events.iter().map(|e| i32::from(e.event_index)).collect();
    let slots: Vec<i64> = events.iter().map(|e| e.slot as i64).collect();
    let times: Vec<Option<i64>> = events.iter().map(|e| e.block_time).collect();
    let names: Vec<&str> = events.iter().map(|e| e.event.name()).collect();
    let data: Vec<&[u8]> = events.iter().map(|e| e.data.as_slice()).collect();
    sqlx::query(
        "INSERT INTO indexer.events (signature, ix_index, event_index, slot, block_time, name, data) \
         SELECT * FROM UNNEST($1::text[], $2::int4[], $3::int4[], $4::int8[], $5::int8[], $6::text[], $7::bytea[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&signatures)
    .bind(&ix)
    .bind(&index)
    .bind(&slots)
    .bind(&times)
    .bind(&names)
    .bind(&data)
    .execute(&mut **tx)
    .await?;

    let mut payouts = Rows::default();
    let mut slashes = Rows::default();
    let mut attestations = Rows::default();
    let mut disputes = Rows::default();
    for e in events {
        match &e.event {
            ProgramEvent::LeaseSettled(s) => {
                payouts.push(
                    e,
                    vec![
                        "settlement".into(),
                        key(&s.supplier),
                        key(&s.lease),
                        key(&s.cluster),
                        s.paid_to_supplier.to_string(),
                        s.fee.to_string(),
                        s.refund.to_string(),
                    ],
                );
                if s.slashed > 0 {
                    slashes.push(
                        e,
                        vec![
                            key(&s.supplier),
                            key(&s.worker),
                            key(&s.lease),
                            s.slashed.to_string(),
                            s.slash_to_renter.to_string(),
                            s.faults.to_string(),
                            s.jailed_until.to_string(),
                        ],
                    );
                }
            }
            ProgramEvent::RewardsClaimed(c) => payouts.push(
                e,
                vec![
                    "claim".into(),
                    key(&c.supplier),
                    String::new(),
                    String::new(),
                    c.amount.to_string(),
                    "0".into(),
                    "0".into(),
                ],
            ),
            ProgramEvent::LeasesAttested(a) => {
                for lease in &a.leases {
                    attestations.push(
                        e,
                        vec![
                            key(&lease.lease),
                            key(&a.oracle),
                            a.window_end.to_string(),
                            lease.accepted.to_string(),
                            lease.proven_secs.to_string(),
                            lease.faults.to_string(),
                            lease.final_secs.to_string(),
                        ],
                    );
                }
            }
            ProgramEvent::DisputeOpened(d) => disputes.push(
                e,
                vec![
                    key(&d.lease),
                    key(&d.disputer),
                    "opened".into(),
                    d.bond.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ],
            ),
            ProgramEvent::DisputeResolved(d) => disputes.push(
                e,
                vec![
                    key(&d.lease),
                    key(&d.disputer),
                    "resolved".into(),
                    (d.bond_returned + d.bond_forfeited).to_string(),
                    d.upheld.to_string(),
                    d.proven_secs.to_string(),
                    d.faults.to_string(),
                    String::new(),
                ],
            ),
            ProgramEvent::DisputeLapsed(d) => disputes.push(
                e,
                vec![
                    key(&d.lease),
                    key(&d.disputer),
                    "lapsed".into(),
                    d.bond.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    key(&d.bond_to),
                ],
            ),
            _ => {}
        }
    }
    // Derived rows travel as text columns and are cast in SQL: one statement per table whatever the batch.
    payouts
        .insert(
            tx,
            "INSERT INTO indexer.payouts (signature, ix_index, event_index, slot, block_time, kind, supplier, lease, \
             cluster, amount, fee, refund) SELECT s, i, e, sl, t, c[1], c[2], NULLIF(c[3], ''), NULLIF(c[4], ''), \
             c[5]::bigint, c[6]::bigint, c[7]::bigint",
        )
        .await?;
    slashes
        .insert(
            tx,
            "INSERT INTO indexer.slashes (signature, ix_index, event_index, slot, block_time, supplier, worker, \
             lease, amount, to_renter, faults, jailed_until) SELECT s, i, e, sl, t, c[1], c[2], c[3], c[4]::bigint, \
             c[5]::bigint, c[6]::bigint, c[7]::bigint",
        )
        .await?;
    attestations
        .insert(
            tx,
            "INSERT INTO indexer.attestations (signature, ix_index, event_index, slot, lease, oracle, window_end, \
             accepted, proven_secs, faults, final_secs) SELECT s, i, e, sl, c[1], c[2], c[3]::bigint, \
             c[4]::boolean, c[5]::bigint, c[6]::bigint, c[7]::bigint",
        )
        .await?;
    disputes
        .insert(
            tx,
            "INSERT INTO indexer.disputes (signature, ix_index, event_index, slot, lease, disputer, kind, bond, \
             upheld, proven_secs, faults, bond_to) SELECT s, i, e, sl, c[1], c[2], c[3], c[4]::bigint, \
             NULLIF(c[5], '')::boolean, NULLIF(c[6], '')::bigint, NULLIF(c[7], '')::bigint, NULLIF(c[8], '')",
        )
        .await?;
    Ok(())
}

/// Rows of one derived table: the event's position plus its own columns as text.
#[derive(Default)]
struct Rows {
    signatures: Vec<String>,
    ix: Vec<i32>,
    index: Vec<i32>,
    slots: Vec<i64>,
    times: Vec<Option<i64>>,
    columns: Vec<String>,
}

impl Rows {
    fn push(&mut self, e: &EventRecord, columns: Vec<String>) {
        self.signatures.push(e.signature.clone());
        self.ix.push(i32::from(e.ix_index));
        self.index.push(i32::from(e.event_index));
        self.slots.push(e.slot as i64);
        self.times.push(e.block_time);
        // A Postgres array literal of the columns, quoted.
        let quoted: Vec<String> = columns.iter().map(|c| format!("\"{}\"", c.replace('"', "\\\""))).collect();
        self.columns.push(format!("{{{}}}", quoted.join(",")));
    }

    async fn insert(self, tx: &mut Tx<'_>, insert_select: &str) -> sqlx::Result<()> {
        if self.signatures.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "{insert_select} FROM UNNEST($1::text[], $2::int4[], $3::int4[], $4::int8[], $5::int8[], $6::text[]) \
             AS r(s, i, e, sl, t, raw), LATERAL (SELECT raw::text[] AS c) AS cols ON CONFLICT DO NOTHING"
        );
        sqlx::query(&sql)
            .bind(&self.signatures)
            .bind(&self.ix)
            .bind(&self.index)
            .bind(&self.slots)
            .bind(&self.times)
            .bind(&self.columns)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
