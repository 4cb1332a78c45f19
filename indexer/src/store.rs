//! Writes batches into the mirror and reads it back for the API. A batch (accounts, events and the source's
//! checkpoint) is one database transaction: a crash between batches loses nothing and applying a batch again
//! changes nothing.

use std::collections::{BTreeMap, HashSet};

use anchor_lang::prelude::Pubkey;

use serde::Serialize;
use sqlx::migrate::Migrator;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo};
use sqlx::{PgPool, Postgres, Transaction};
use timelock_sdk::view::{ClusterView, LeaseView, SupplierView, WorkerView};

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

    /// Applies a batch atomically, with the checkpoint of `source`: one statement for the events, their derived
    /// rows and the checkpoint (one round trip, its own transaction), preceded by the account states in the same
    /// transaction when the batch has any.
    pub async fn apply(&self, source: &str, batch: &Batch) -> sqlx::Result<()> {
        if batch.accounts.is_empty() {
            return insert_events(&self.pool, source, batch).await;
        }
        let mut tx = self.pool.begin().await?;
        apply_accounts(&mut tx, &batch.accounts).await?;
        insert_events(&mut *tx, source, batch).await?;
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
        for table in ["events", "payouts", "slashes", "attestations", "disputes"] {
            sqlx::query(&format!("DELETE FROM indexer.{table} WHERE signature = ANY($1)"))
                .bind(dropped)
                .execute(&mut *tx)
                .await?;
        }
        apply_accounts(&mut tx, &snapshot.accounts).await?;
        tx.commit().await
    }

    /// Marks rows at or below `slot` final, except the events of `undecided` transactions (the node could not
    /// say whether they survived: asked again on the next pass).
    pub async fn finalize(&self, slot: u64, undecided: &[String]) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        for table in ["config", "suppliers", "workers", "clusters", "leases"] {
            sqlx::query(&format!("UPDATE indexer.{table} SET finalized = true WHERE NOT finalized AND slot <= $1"))
                .bind(slot as i64)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE indexer.events SET finalized = true WHERE NOT finalized AND slot <= $1 \
             AND NOT (signature = ANY($2))",
        )
        .bind(slot as i64)
        .bind(undecided)
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

/// A u64 sent as NUMERIC in Postgres's binary format (base-10000 digits), so that amounts above `i64::MAX` are
/// stored exactly without going through text.
#[derive(Clone, Copy)]
struct Numeric(u64);

impl sqlx::Type<Postgres> for Numeric {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(1700))
    }
}

impl PgHasArrayType for Numeric {
    fn array_type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(1231))
    }
}

impl sqlx::Encode<'_, Postgres> for Numeric {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        // Digits most significant first; weight is the power of 10,000 of the first. Zero has no digits.
        let mut digits = [0i16; 5];
        let (mut n, mut count) = (self.0, 0);
        while n > 0 {
            digits[count] = (n % 10_000) as i16;
            n /= 10_000;
            count += 1;
        }
        buf.extend_from_slice(&(count as i16).to_be_bytes());
        buf.extend_from_slice(&(count as i16 - 1).max(0).to_be_bytes());
        buf.extend_from_slice(&[0, 0, 0, 0]); // sign positive, no decimal digits
        for digit in digits[..count].iter().rev() {
            buf.extend_from_slice(&digit.to_be_bytes());
        }
        Ok(sqlx::encode::IsNull::No)
    }
}

fn numeric(values: impl Iterator<Item = u64>) -> Vec<Numeric> {
    values.map(Numeric).collect()
}

/// Every event table written by one statement from typed arrays (`UNNEST`, one array per column, sent in
/// Postgres's binary format), with the checkpoint: a batch without account states is one round trip and one
/// implicit transaction. An event is stored once (its key is its position: signature, instruction, index), and
/// its derived rows are inserted with it, only for the events this statement inserted: a batch applied twice adds
/// nothing, and the derived tables need no conflict check of their own (a derived row exists exactly when its
/// event does: both are written by this statement and deleted together by `roll_back`).
const INSERT_EVENTS: &str = "WITH events AS ( \
       INSERT INTO indexer.events (signature, ix_index, event_index, slot, block_time, name, data) \
       SELECT * FROM UNNEST($1::text[], $2::int4[], $3::int4[], $4::int8[], $5::int8[], $6::text[], $7::bytea[]) \
       ON CONFLICT DO NOTHING RETURNING signature, ix_index, event_index), \
     payouts AS ( \
       INSERT INTO indexer.payouts (signature, ix_index, event_index, slot, block_time, kind, supplier, lease, \
         cluster, amount, fee, refund) \
       SELECT r.* FROM UNNEST($8::text[], $9::int4[], $10::int4[], $11::int8[], $12::int8[], $13::text[], \
         $14::text[], $15::text[], $16::text[], $17::numeric[], $18::numeric[], $19::numeric[]) \
         AS r(signature, ix_index, event_index, slot, block_time, kind, supplier, lease, cluster, amount, fee, refund) \
       JOIN events USING (signature, ix_index, event_index)), \
     slashes AS ( \
       INSERT INTO indexer.slashes (signature, ix_index, event_index, slot, block_time, supplier, worker, lease, \
         amount, to_renter, faults, jailed_until) \
       SELECT r.* FROM UNNEST($20::text[], $21::int4[], $22::int4[], $23::int8[], $24::int8[], $25::text[], \
         $26::text[], $27::text[], $28::numeric[], $29::numeric[], $30::numeric[], $31::int8[]) \
         AS r(signature, ix_index, event_index, slot, block_time, supplier, worker, lease, amount, to_renter, \
           faults, jailed_until) \
       JOIN events USING (signature, ix_index, event_index)), \
     attestations AS ( \
       INSERT INTO indexer.attestations (signature, ix_index, event_index, slot, lease, oracle, window_end, \
         accepted, proven_secs, faults, final_secs) \
       SELECT r.* FROM UNNEST($32::text[], $33::int4[], $34::int4[], $35::int8[], $36::text[], $37::text[], \
         $38::int8[], $39::bool[], $40::numeric[], $41::numeric[], $42::numeric[]) \
         AS r(signature, ix_index, event_index, slot, lease, oracle, window_end, accepted, proven_secs, faults, \
           final_secs) \
       JOIN events USING (signature, ix_index, event_index)), \
     disputes AS ( \
       INSERT INTO indexer.disputes (signature, ix_index, event_index, slot, lease, disputer, kind, bond, upheld, \
         proven_secs, faults, bond_to) \
       SELECT r.* FROM UNNEST($43::text[], $44::int4[], $45::int4[], $46::int8[], $47::text[], $48::text[], \
         $49::text[], $50::numeric[], $51::bool[], $52::numeric[], $53::numeric[], $54::text[]) \
         AS r(signature, ix_index, event_index, slot, lease, disputer, kind, bond, upheld, proven_secs, faults, \
           bond_to) \
       JOIN events USING (signature, ix_index, event_index)) \
     INSERT INTO indexer.checkpoints (source, slot, signature, ledger) \
     SELECT $55::text, $56::int8, $57::text, $58::text WHERE $56::int8 IS NOT NULL \
     ON CONFLICT (source) DO UPDATE SET slot = EXCLUDED.slot, signature = EXCLUDED.signature, \
       ledger = COALESCE(EXCLUDED.ledger, indexer.checkpoints.ledger), updated_at = now() \
     WHERE indexer.checkpoints.slot <= EXCLUDED.slot";

/// Stores a batch's events, their derived rows and the checkpoint ([`INSERT_EVENTS`]).
async fn insert_events<'c>(
    executor: impl sqlx::Executor<'c, Database = Postgres>,
    source: &str,
    batch: &Batch,
) -> sqlx::Result<()> {
    // An event or an attestation line given twice (the same transaction twice in a batch) is stored once, the
    // first, as a conflict check on every table would.
    let mut positions = HashSet::new();
    let events: Vec<&EventRecord> =
        batch.events.iter().filter(|e| positions.insert((e.signature.as_str(), e.ix_index, e.event_index))).collect();
    let mut derived = DerivedRows::of(events.iter().copied());
    let first: Vec<bool> = {
        let mut lines = HashSet::new();
        derived.attestations.iter().map(|a| lines.insert((&a.signature, a.ix_index, a.event_index, &a.lease))).collect()
    };
    if first.contains(&false) {
        let mut first = first.into_iter();
        derived.attestations.retain(|_| first.next().unwrap_or(true));
    }
    let (p, s, a, d) = (&derived.payouts, &derived.slashes, &derived.attestations, &derived.disputes);
    macro_rules! column {
        ($rows:expr, $row:ident => $value:expr) => {
            $rows.iter().map(|$row| $value).collect::<Vec<_>>()
        };
    }
    let checkpoint = batch.checkpoint.as_ref();
    sqlx::query(INSERT_EVENTS)
        .bind(column!(events, e => e.signature.as_str()))
        .bind(column!(events, e => i32::from(e.ix_index)))
        .bind(column!(events, e => i32::from(e.event_index)))
        .bind(column!(events, e => e.slot as i64))
        .bind(column!(events, e => e.block_time))
        .bind(column!(events, e => e.event.name()))
        .bind(column!(events, e => e.data.as_slice()))
        .bind(column!(p, r => r.signature.as_str()))
        .bind(column!(p, r => i32::from(r.ix_index)))
        .bind(column!(p, r => i32::from(r.event_index)))
        .bind(column!(p, r => r.slot as i64))
        .bind(column!(p, r => r.block_time))
        .bind(column!(p, r => r.kind.name()))
        .bind(column!(p, r => r.supplier.as_str()))
        .bind(column!(p, r => r.lease.as_deref()))
        .bind(column!(p, r => r.cluster.as_deref()))
        .bind(numeric(p.iter().map(|r| r.amount)))
        .bind(numeric(p.iter().map(|r| r.fee)))
        .bind(numeric(p.iter().map(|r| r.refund)))
        .bind(column!(s, r => r.signature.as_str()))
        .bind(column!(s, r => i32::from(r.ix_index)))
        .bind(column!(s, r => i32::from(r.event_index)))
        .bind(column!(s, r => r.slot as i64))
        .bind(column!(s, r => r.block_time))
        .bind(column!(s, r => r.supplier.as_str()))
        .bind(column!(s, r => r.worker.as_str()))
        .bind(column!(s, r => r.lease.as_str()))
        .bind(numeric(s.iter().map(|r| r.amount)))
        .bind(numeric(s.iter().map(|r| r.to_renter)))
        .bind(numeric(s.iter().map(|r| r.faults)))
        .bind(column!(s, r => r.jailed_until))
        .bind(column!(a, r => r.signature.as_str()))
        .bind(column!(a, r => i32::from(r.ix_index)))
        .bind(column!(a, r => i32::from(r.event_index)))
        .bind(column!(a, r => r.slot as i64))
        .bind(column!(a, r => r.lease.as_str()))
        .bind(column!(a, r => r.oracle.as_str()))
        .bind(column!(a, r => r.window_end))
        .bind(column!(a, r => r.accepted))
        .bind(numeric(a.iter().map(|r| r.proven_secs)))
        .bind(numeric(a.iter().map(|r| r.faults)))
        .bind(numeric(a.iter().map(|r| r.final_secs)))
        .bind(column!(d, r => r.signature.as_str()))
        .bind(column!(d, r => i32::from(r.ix_index)))
        .bind(column!(d, r => i32::from(r.event_index)))
        .bind(column!(d, r => r.slot as i64))
        .bind(column!(d, r => r.lease.as_str()))
        .bind(column!(d, r => r.disputer.as_str()))
        .bind(column!(d, r => r.kind.name()))
        .bind(numeric(d.iter().map(|r| r.bond)))
        .bind(column!(d, r => r.upheld))
        .bind(column!(d, r => r.proven_secs.map(Numeric)))
        .bind(column!(d, r => r.faults.map(Numeric)))
        .bind(column!(d, r => r.bond_to.as_deref()))
        .bind(source)
        .bind(checkpoint.map(|(slot, _)| *slot as i64))
        .bind(checkpoint.and_then(|(_, signature)| signature.as_deref()))
        .bind(batch.ledger.as_deref())
        .execute(executor)
        .await?;
    Ok(())
}
