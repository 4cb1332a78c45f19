//! Writes batches into the mirror and reads it back for the API. A batch (accounts, events and the source's
//! checkpoint) is one database transaction: a crash between batches loses nothing and applying a batch again
//! changes nothing.

use std::collections::{BTreeMap, HashSet};

use anchor_lang::prelude::Pubkey;

use serde::Serialize;
use sqlx::migrate::Migrator;
use sqlx::{PgPool, Postgres, Transaction};
use timelock_sdk::view::{ClusterView, LeaseView, SupplierView, WorkerView};
use timelock_service_kit::CopyRows;
use tokio::sync::watch;

use crate::decode::{AccountRecord, EventRecord, ProgramAccount};
use crate::rows::DerivedRows;

/// What a source delivers in one step.
#[derive(Default)]
pub struct Batch {
    pub accounts: Vec<AccountRecord>,
    pub events: Vec<EventRecord>,
    /// The source's position after this batch: (slot, newest signature).
    pub checkpoint: Option<(u64, Option<String>)>,
    /// Highest slot the cluster has finalized, as far as the source knows.
    pub finalized_slot: Option<u64>,
    /// The ledger the batch was read from (the node's genesis hash), stored with the checkpoint.
    pub ledger: Option<String>,
}

/// Where a source has read up to, and on which ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub slot: u64,
    /// The newest applied transaction (none before the first).
    pub signature: Option<String>,
    pub ledger: Option<String>,
}

#[derive(Clone)]
pub struct Store {
    pub pool: PgPool,
}

type Tx<'a> = Transaction<'a, Postgres>;

/// The indexer's schema (`migrations/indexer/`). Its versions continue the numbering the oracle's schema
/// started when both lived in one folder, so a database that holds both (as every database did before they were
/// split) upgrades in place: each service skips the other's applied versions.
/// (The fields of `Migrator` are sqlx's, public for its macro; `ignore_missing` is what `set_ignore_missing` sets.)
pub static MIGRATOR: Migrator = Migrator { ignore_missing: true, ..sqlx::migrate!("../migrations/indexer") };

impl Store {
    pub fn new(pool: PgPool) -> Self {
        Store { pool }
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }

    pub async fn checkpoint(&self, source: &str) -> sqlx::Result<Option<Checkpoint>> {
        let row: Option<(i64, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT slot, signature, ledger FROM indexer.checkpoints WHERE source = $1")
                .bind(source)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(slot, signature, ledger)| Checkpoint { slot: slot as u64, signature, ledger }))
    }

    /// Applies a batch atomically, with the checkpoint of `source`: the account states, the events, their derived
    /// rows and the checkpoint in one transaction. Events and derived rows are written by binary `COPY`, which
    /// assumes none of the events is stored yet; a batch that was (in part) applied before is refused by the
    /// events' key, and written again without what is stored: an event is stored once, and its derived rows exist
    /// exactly when it does.
    pub async fn apply(&self, source: &str, batch: &Batch) -> sqlx::Result<()> {
        let rows = EventRows::new(&batch.events, &HashSet::new());
        self.apply_rows(source, batch, &rows, Order { before: None, progress: None }).await
    }

    /// [`Store::apply`] of a batch whose rows are encoded already, overlapping the batch stored before it, whose
    /// progress `before` follows. This batch's statements start once that one has written its account states, so
    /// that this one may wait for the other's row locks but never the other way round (the two must share no
    /// event); it commits only after that one committed, and fails, storing nothing, if that one failed: the
    /// checkpoint still moves in order and only with every row before it. `progress` tells the batch after this one.
    pub async fn apply_after(
        &self,
        source: &str,
        prepared: &PreparedBatch,
        mut before: Option<watch::Receiver<Progress>>,
        progress: &watch::Sender<Progress>,
    ) -> sqlx::Result<()> {
        let order = Order { before: before.as_mut(), progress: Some(progress) };
        let stored = self.apply_rows(source, &prepared.batch, &prepared.rows, order).await;
        progress.send_replace(if stored.is_ok() { Progress::Committed } else { Progress::Failed });
        stored
    }

    async fn apply_rows(
        &self,
        source: &str,
        batch: &Batch,
        rows: &EventRows,
        mut order: Order<'_>,
    ) -> sqlx::Result<()> {
        match self.write(source, batch, rows, &mut order).await {
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") && e.table() == Some("events") => {
                // One ingesting indexer per database: what is stored now stays stored until this batch is written
                // (were it not, the key refuses the batch again and nothing is written).
                let signatures: HashSet<&str> = batch.events.iter().map(|e| e.signature.as_str()).collect();
                let stored: Vec<(String, i32, i32)> = sqlx::query_as(
                    "SELECT signature, ix_index, event_index FROM indexer.events WHERE signature = ANY($1)",
                )
                .bind(signatures.into_iter().collect::<Vec<_>>())
                .fetch_all(&self.pool)
                .await?;
                let rows = EventRows::new(&batch.events, &stored.into_iter().collect());
                self.write(source, batch, &rows, &mut order).await
            }
            done => done,
        }
    }

    /// [`Store::apply`]'s transaction.
    async fn write(&self, source: &str, batch: &Batch, rows: &EventRows, order: &mut Order<'_>) -> sqlx::Result<()> {
        if let Some(before) = order.before.as_deref_mut() {
            reached(before, Progress::AccountsWritten).await?;
        }
        let mut tx = self.pool.begin().await?;
        // A batch written again after its events' key refused it (above) writes its account states a second time,
        // after the batch overlapping it may have taken their locks and begun waiting, outside Postgres, for this
        // one's commit: a cycle Postgres cannot see. The timeout breaks it: this batch fails, the one after it
        // then stores nothing, and both are read and written again from the stored checkpoint.
        sqlx::query("SET LOCAL lock_timeout = '10s'").execute(&mut *tx).await?;
        if !batch.accounts.is_empty() {
            apply_accounts(&mut tx, &batch.accounts).await?;
        }
        if let Some(progress) = order.progress {
            progress.send_replace(Progress::AccountsWritten);
        }
        for (table, columns, rows) in &rows.0 {
            copy_into(&mut tx, table, columns, rows).await?;
        }
        if let Some(before) = order.before.as_deref_mut() {
            reached(before, Progress::Committed).await?;
        }
        if let Some((slot, signature)) = &batch.checkpoint {
            sqlx::query(
                "INSERT INTO indexer.checkpoints (source, slot, signature, ledger) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (source) DO UPDATE SET slot = EXCLUDED.slot, signature = EXCLUDED.signature, \
                   ledger = COALESCE(EXCLUDED.ledger, indexer.checkpoints.ledger), updated_at = now() \
                 WHERE indexer.checkpoints.slot <= EXCLUDED.slot",
            )
            .bind(source)
            .bind(*slot as i64)
            .bind(signature.as_deref())
            .bind(batch.ledger.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Signatures of stored events not yet known final whose slot the cluster has finalized: each is either
    /// final now or was rolled back, which the source tells.
    /// `(signature, slot)` of the transactions applied below finality that are not final yet.
    pub async fn unfinalized_signatures(&self, finalized_slot: u64) -> sqlx::Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT DISTINCT signature, slot FROM indexer.events WHERE NOT finalized AND slot <= $1 ORDER BY slot",
        )
        .bind(finalized_slot as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(signature, slot)| (signature, slot as u64)).collect())
    }

    /// Removes what rolled-back transactions wrote (their events and every row derived from them); account
    /// rows are then corrected by a fresh snapshot.
    /// Undoes the rows of `dropped` transactions and stores `snapshot` (every account as of now) in one
    /// transaction: a crash never leaves the events gone and the accounts as the dropped transactions left them.
    pub async fn roll_back(&self, dropped: &[String], snapshot: &Batch) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        // Derived rows are found by their events' slots (0018: a block-range index on the slot, no key of their
        // own), so they go before the events.
        for table in ["payouts", "slashes", "attestations", "disputes"] {
            sqlx::query(&format!(
                "DELETE FROM indexer.{table} WHERE signature = ANY($1) AND slot BETWEEN \
                 (SELECT min(slot) FROM indexer.events WHERE signature = ANY($1)) AND \
                 (SELECT max(slot) FROM indexer.events WHERE signature = ANY($1))"
            ))
            .bind(dropped)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM indexer.events WHERE signature = ANY($1)").bind(dropped).execute(&mut *tx).await?;
        apply_accounts(&mut tx, &snapshot.accounts).await?;
        tx.commit().await
    }

    /// Marks account rows at or below `slot` final, and the events of the `survived` transactions (those the node
    /// could not decide on, or that were stored after it was asked, are asked on a later pass).
    pub async fn finalize(&self, slot: u64, survived: &[String]) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        for table in ["config", "suppliers", "workers", "clusters", "leases"] {
            sqlx::query(&format!("UPDATE indexer.{table} SET finalized = true WHERE NOT finalized AND slot <= $1"))
                .bind(slot as i64)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE indexer.events SET finalized = true WHERE NOT finalized AND signature = ANY($1)")
            .bind(survived)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}

/// The newest state of each account in the batch and its newest close, written one statement per table in
/// address order (two writers on one database take row locks in the same order). A state is written even when
/// the account closed later in the batch, and the close then marks it: the row is the closed account's record.
async fn apply_accounts(tx: &mut Tx<'_>, records: &[AccountRecord]) -> sqlx::Result<()> {
    let mut states: BTreeMap<Pubkey, (&[u8], u64)> = BTreeMap::new();
    let mut closes: BTreeMap<Pubkey, u64> = BTreeMap::new();
    for record in records {
        match &record.data {
            Some(data) => {
                let newest = states.entry(record.address).or_insert((data, record.slot));
                if record.slot >= newest.1 {
                    *newest = (data, record.slot);
                }
            }
            None => {
                let newest = closes.entry(record.address).or_insert(record.slot);
                *newest = (*newest).max(record.slot);
            }
        }
    }
    let (mut suppliers, mut workers, mut clusters, mut leases) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (address, (data, slot)) in &states {
        match ProgramAccount::decode(data) {
            Some(ProgramAccount::Config(c)) => upsert_config(tx, address, *slot, &c).await?,
            Some(ProgramAccount::Supplier(s)) => suppliers.push((SupplierView::new(address, &s), *slot)),
            Some(ProgramAccount::Worker(w)) => workers.push((WorkerView::new(address, &w), *slot)),
            Some(ProgramAccount::Cluster(c)) => clusters.push((ClusterView::new(address, &c), *slot)),
            Some(ProgramAccount::Lease(l)) => leases.push((LeaseView::new(address, &l), *slot)),
            None => {}
        }
    }
    let closed: Vec<_> = closes.into_iter().map(|(address, slot)| (address.to_string(), slot)).collect();
    upsert_views(tx, "suppliers", &suppliers).await?;
    upsert_views(tx, "workers", &workers).await?;
    upsert_views(tx, "clusters", &clusters).await?;
    upsert_views(tx, "leases", &leases).await?;
    if !closed.is_empty() {
        // Closed: every table that may hold it marks it, unless it already holds a newer state.
        let (addresses, slots): (Vec<String>, Vec<i64>) = closed.into_iter().map(|(a, s)| (a, s as i64)).unzip();
        for table in ["suppliers", "workers", "clusters", "leases"] {
            sqlx::query(&format!(
                "UPDATE indexer.{table} t SET closed = true, finalized = t.finalized AND t.slot = c.slot, slot = c.slot \
                 FROM UNNEST($1::text[], $2::int8[]) \
                 AS c(address, slot) WHERE t.address = c.address AND t.slot <= c.slot"
            ))
            .bind(&addresses)
            .bind(&slots)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

async fn upsert_config(tx: &mut Tx<'_>, address: &Pubkey, slot: u64, c: &timelock::state::Config) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO indexer.config (address, admin, paused, fee_bps, oracles, oracle_threshold, slot) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (address) DO UPDATE SET admin = EXCLUDED.admin, \
         paused = EXCLUDED.paused, fee_bps = EXCLUDED.fee_bps, oracles = EXCLUDED.oracles, \
         oracle_threshold = EXCLUDED.oracle_threshold, slot = EXCLUDED.slot \
         WHERE indexer.config.slot <= EXCLUDED.slot",
    )
    .bind(address.to_string())
    .bind(c.admin.to_string())
    .bind(c.paused)
    .bind(i32::from(c.params.protocol_fee_bps))
    .bind(c.params.oracles.iter().map(|k| k.to_string()).collect::<Vec<_>>())
    .bind(i32::from(c.params.oracle_threshold))
    .bind(slot as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The columns of a table that holds `row`: the serialized row's own field names. The table's columns are the
/// row type's fields, so nothing lists them a second time.
fn columns_of(row: &impl Serialize) -> sqlx::Result<Vec<String>> {
    let value = serde_json::to_value(row).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    Ok(value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default())
}

/// Rows as `json_populate_recordset` takes them: a JSON array of the row type's fields by name, written straight
/// to text (plain `json`, which Postgres reads faster than it builds `jsonb`).
fn json_rows(rows: &[impl Serialize]) -> sqlx::Result<String> {
    serde_json::to_string(rows).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// An account view with the slot of its state, as one row.
#[derive(Serialize)]
struct AtSlot<'a, V> {
    #[serde(flatten)]
    view: &'a V,
    slot: u64,
}

/// Upserts account views at their slots: an older state never overwrites a newer one.
async fn upsert_views<V: Serialize>(tx: &mut Tx<'_>, table: &str, views: &[(V, u64)]) -> sqlx::Result<()> {
    let rows: Vec<AtSlot<V>> = views.iter().map(|(view, slot)| AtSlot { view, slot: *slot }).collect();
    let Some(first) = rows.first() else { return Ok(()) };
    let columns = columns_of(first)?;
    let updates: Vec<String> =
        columns.iter().filter(|c| *c != "address").map(|c| format!("{c} = EXCLUDED.{c}")).collect();
    let list = columns.join(", ");
    sqlx::query(&format!(
        "INSERT INTO indexer.{table} ({list}, closed) SELECT {list}, false \
         FROM json_populate_recordset(NULL::indexer.{table}, $1::json) \
         ON CONFLICT (address) DO UPDATE SET {}, closed = false, \
         finalized = indexer.{table}.finalized AND indexer.{table}.slot = EXCLUDED.slot \
         WHERE indexer.{table}.slot <= EXCLUDED.slot",
        updates.join(", ")
    ))
    .bind(json_rows(&rows)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes `rows` by `COPY indexer.{table} ({columns}) FROM STDIN (FORMAT binary)`.
async fn copy_into(tx: &mut Tx<'_>, table: &str, columns: &str, rows: &CopyRows) -> sqlx::Result<()> {
    let mut copy = tx.copy_in_raw(&format!("COPY indexer.{table} ({columns}) FROM STDIN (FORMAT binary)")).await?;
    copy.send(rows.bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// How far a batch being stored by [`Store::apply_after`] has got, for the batch stored after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Progress {
    Started,
    AccountsWritten,
    Committed,
    Failed,
}

/// A write's place among overlapping ones: the batch before it, and what it tells the batch after it.
struct Order<'a> {
    before: Option<&'a mut watch::Receiver<Progress>>,
    progress: Option<&'a watch::Sender<Progress>>,
}

/// Waits until the batch before has got as far as `wanted`; an error if it failed instead.
async fn reached(before: &mut watch::Receiver<Progress>, wanted: Progress) -> sqlx::Result<()> {
    let failed = || sqlx::Error::Io(std::io::Error::other("the batch before this one was not stored"));
    match before.wait_for(|p| *p >= wanted).await.map(|p| *p) {
        Ok(Progress::Failed) | Err(_) => Err(failed()),
        Ok(_) => Ok(()),
    }
}

/// A batch with its events and derived rows encoded for writing, the CPU part of storing it: prepared apart, a
/// batch is encoded while the one before it is written.
pub struct PreparedBatch {
    pub batch: Batch,
    rows: EventRows,
}

impl PreparedBatch {
    pub fn new(batch: Batch) -> Self {
        let rows = EventRows::new(&batch.events, &HashSet::new());
        PreparedBatch { batch, rows }
    }
}

/// A batch's events and their derived rows, encoded for `COPY`: (table, columns, rows) for each table that has any.
struct EventRows(Vec<(&'static str, &'static str, CopyRows)>);

impl EventRows {
    /// The rows of `events` except those `stored` (by signature, instruction and index) and their derived rows.
    /// An event or an attestation line given twice (the same transaction twice in a batch) is written once, the
    /// first.
    fn new(events: &[EventRecord], stored: &HashSet<(String, i32, i32)>) -> Self {
        let is_stored = |e: &EventRecord| {
            !stored.is_empty()
                && stored.contains(&(e.signature.clone(), i32::from(e.ix_index), i32::from(e.event_index)))
        };
        let mut positions = HashSet::new();
        let events: Vec<&EventRecord> = events
            .iter()
            .filter(|e| positions.insert((e.signature.as_str(), e.ix_index, e.event_index)) && !is_stored(e))
            .collect();
        let mut derived = DerivedRows::of(events.iter().copied());
        let first: Vec<bool> = {
            let mut lines = HashSet::new();
            derived
                .attestations
                .iter()
                .map(|a| lines.insert((&a.signature, a.ix_index, a.event_index, &a.lease)))
                .collect()
        };
        if first.contains(&false) {
            let mut first = first.into_iter();
            derived.attestations.retain(|_| first.next().unwrap_or(true));
        }
        let mut tables = Vec::new();
        encode(&mut tables, &events, &derived);
        EventRows(tables)
    }
}

/// Each table's rows in `COPY`'s binary form, the events' first.
fn encode(tables: &mut Vec<(&'static str, &'static str, CopyRows)>, events: &[&EventRecord], derived: &DerivedRows) {
    if !events.is_empty() {
        let mut rows = CopyRows::new(events.len(), 200 + events.iter().map(|e| e.data.len()).max().unwrap_or(0));
        for e in events {
            rows.row(7).text(&e.signature).int4(e.ix_index).int4(e.event_index).int8(e.slot as i64);
            rows.maybe(e.block_time, CopyRows::int8).text(e.event.name()).field(&e.data);
        }
        tables.push(("events", "signature, ix_index, event_index, slot, block_time, name, data", rows.end()));
    }
    let DerivedRows { payouts, slashes, attestations, disputes } = derived;
    if !payouts.is_empty() {
        let mut rows = CopyRows::new(payouts.len(), 400);
        for r in payouts {
            rows.row(12).text(&r.signature).int4(r.ix_index).int4(r.event_index).int8(r.slot as i64);
            rows.maybe(r.block_time, CopyRows::int8).text(r.kind.name()).text(&r.supplier);
            rows.maybe(r.lease.as_deref(), CopyRows::text).maybe(r.cluster.as_deref(), CopyRows::text);
            rows.numeric(r.amount).numeric(r.fee).numeric(r.refund);
        }
        let columns =
            "signature, ix_index, event_index, slot, block_time, kind, supplier, lease, cluster, amount, fee, \
                       refund";
        tables.push(("payouts", columns, rows.end()));
    }
    if !slashes.is_empty() {
        let mut rows = CopyRows::new(slashes.len(), 400);
        for r in slashes {
            rows.row(12).text(&r.signature).int4(r.ix_index).int4(r.event_index).int8(r.slot as i64);
            rows.maybe(r.block_time, CopyRows::int8).text(&r.supplier).text(&r.worker).text(&r.lease);
            rows.numeric(r.amount).numeric(r.to_renter).numeric(r.faults).int8(r.jailed_until);
        }
        let columns = "signature, ix_index, event_index, slot, block_time, supplier, worker, lease, amount, \
                       to_renter, faults, jailed_until";
        tables.push(("slashes", columns, rows.end()));
    }
    if !attestations.is_empty() {
        let mut rows = CopyRows::new(attestations.len(), 300);
        for r in attestations {
            rows.row(11).text(&r.signature).int4(r.ix_index).int4(r.event_index).int8(r.slot as i64);
            rows.text(&r.lease).text(&r.oracle).int8(r.window_end).boolean(r.accepted);
            rows.numeric(r.proven_secs).numeric(r.faults).numeric(r.final_secs);
        }
        let columns = "signature, ix_index, event_index, slot, lease, oracle, window_end, accepted, proven_secs, \
                       faults, final_secs";
        tables.push(("attestations", columns, rows.end()));
    }
    if !disputes.is_empty() {
        let mut rows = CopyRows::new(disputes.len(), 300);
        for r in disputes {
            rows.row(12).text(&r.signature).int4(r.ix_index).int4(r.event_index).int8(r.slot as i64);
            rows.text(&r.lease).text(&r.disputer).text(r.kind.name()).numeric(r.bond);
            rows.maybe(r.upheld, CopyRows::boolean).maybe(r.proven_secs, CopyRows::numeric);
            rows.maybe(r.faults, CopyRows::numeric).maybe(r.bond_to.as_deref(), CopyRows::text);
        }
        let columns = "signature, ix_index, event_index, slot, lease, disputer, kind, bond, upheld, proven_secs, \
                       faults, bond_to";
        tables.push(("disputes", columns, rows.end()));
    }
}
