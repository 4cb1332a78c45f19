//! Evidence retention: heartbeats are kept in daily partitions of their receipt time (`oracle.heartbeats_YYYYMMDD`,
//! created ahead of need) and a partition is dropped whole once every lease heard in it has been seen closed on
//! chain for `Config::evidence_keep_secs`. Until a lease is closed its totals can still move (attestations, disputes),
//! and every round judges it from its start, so all of its heartbeats are needed; after that only an auditor
//! wants them, and the keep is theirs. Verdicts (`oracle.intervals`), evidence digests and the sequence
//! high-water marks are not in partitions and stay.

use std::time::Duration;

use sqlx::{PgPool, Postgres, Transaction};

use crate::api::unix_now;
use crate::store::{Key, Store};

pub const DAY_SECS: i64 = 86_400;
/// Days of partitions created ahead of the clock, so that a day never starts without its partition.
pub const DAYS_AHEAD: i64 = 2;

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub created: Vec<String>,
    pub dropped: Vec<String>,
}

impl Store {
    /// Records the leases open on chain at `now` (every lease account there is): these are open, and those seen
    /// open before and missing now are closed since.
    pub async fn record_open_leases(&self, open: &[Key], now: i64) -> sqlx::Result<()> {
        let open: Vec<&[u8]> = open.iter().map(|l| &l[..]).collect();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO oracle.lease_activity (lease, open_at) SELECT lease, $2 FROM UNNEST($1::bytea[]) AS l(lease) \
             ON CONFLICT (lease) DO UPDATE \
                 SET open_at = GREATEST(oracle.lease_activity.open_at, EXCLUDED.open_at), closed_at = NULL",
        )
        .bind(&open)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE oracle.lease_activity SET closed_at = $2 WHERE closed_at IS NULL AND NOT (lease = ANY($1))",
        )
        .bind(&open)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// One pass: partitions for today and the days ahead, and for any day that has heartbeats waiting in the
    /// default partition (moved into theirs); then the partitions nobody needs any more are dropped.
    pub async fn apply_retention(&self, now: i64, keep_secs: i64) -> sqlx::Result<RetentionReport> {
        let mut report = RetentionReport::default();
        let today = now.div_euclid(DAY_SECS);
        let waiting: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT div(received_at, 86400)::int8 FROM oracle.heartbeats_default ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?;
        let existing = partitions(&self.pool).await?;
        let mut days: Vec<i64> = waiting.into_iter().chain(today..=today + DAYS_AHEAD).collect();
        days.sort_unstable();
        days.dedup();
        for day in days {
            if !existing.iter().any(|p| p.from == day * DAY_SECS) {
                report.created.push(create_partition(&self.pool, day).await?);
            }
        }
        for partition in partitions(&self.pool).await? {
            if partition.to.saturating_add(keep_secs) > now {
                continue;
            }
            // Needed while any lease heard in it is open, or closed less than the keep ago. Only a closing seen
            // counts: a lease no round saw (rounds failing, or off) is kept, never judged gone for lack of news.
            let needed: bool = sqlx::query_scalar(&format!(
                "SELECT EXISTS (SELECT 1 FROM oracle.{} h LEFT JOIN oracle.lease_activity a USING (lease) \
                 WHERE a.closed_at IS NULL OR a.closed_at > $1)",
                partition.name
            ))
            .bind(now - keep_secs)
            .fetch_one(&self.pool)
            .await?;
            if !needed {
                sqlx::query(&format!("DROP TABLE oracle.{}", partition.name)).execute(&self.pool).await?;
                report.dropped.push(partition.name);
            }
        }
        // Renter reports of leases gone for the keep: the verdicts they weighed in are kept.
        sqlx::query(
            "DELETE FROM oracle.renter_reports r USING oracle.lease_activity a \
             WHERE r.lease = a.lease AND a.closed_at <= $1",
        )
        .bind(now - keep_secs)
        .execute(&self.pool)
        .await?;
        if !report.dropped.is_empty() {
            // Activity of leases with nothing left to keep.
            sqlx::query(
                "DELETE FROM oracle.lease_activity a WHERE closed_at <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM oracle.heartbeats h WHERE h.lease = a.lease)",
            )
            .bind(now - keep_secs)
            .execute(&self.pool)
            .await?;
        }
        Ok(report)
    }
}

/// A daily partition: its table's name and the receipt times `[from, to)` it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    pub name: String,
    pub from: i64,
    pub to: i64,
}

/// The daily partitions of `oracle.heartbeats` (not the default one), oldest first.
pub async fn partitions(pool: &PgPool) -> sqlx::Result<Vec<Partition>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i \
         JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'oracle.heartbeats'::regclass",
    )
    .fetch_all(pool)
    .await?;
    // The bound reads `FOR VALUES FROM ('1764547200') TO ('1764633600')` (or `DEFAULT`): its two numbers.
    let mut found: Vec<Partition> = rows
        .into_iter()
        .filter_map(|(name, bound)| {
            let mut numbers = bound
                .split(|c: char| !c.is_ascii_digit() && c != '-')
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse::<i64>().ok());
            Some(Partition { name, from: numbers.next()?, to: numbers.next()? })
        })
        .collect();
    found.sort_by_key(|p| p.from);
    Ok(found)
}

/// Creates day `day`'s partition (days since the Unix epoch, UTC) with the heartbeats of that day that waited in
/// the default partition, in one transaction: the default partition is locked meanwhile, so nothing lands there
/// between the move and the attach. The attach builds the partition's share of the table's index.
async fn create_partition(pool: &PgPool, day: i64) -> sqlx::Result<String> {
    let (from, to) = (day * DAY_SECS, (day + 1) * DAY_SECS);
    let date: String = sqlx::query_scalar("SELECT to_char(to_timestamp($1) AT TIME ZONE 'UTC', 'YYYYMMDD')")
        .bind(from as f64)
        .fetch_one(pool)
        .await?;
    let name = format!("heartbeats_{date}");
    let mut tx: Transaction<'_, Postgres> = pool.begin().await?;
    sqlx::query("LOCK TABLE oracle.heartbeats_default IN ACCESS EXCLUSIVE MODE").execute(&mut *tx).await?;
    sqlx::query(&format!(
        "CREATE TABLE oracle.{name} (LIKE oracle.heartbeats INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "WITH moved AS (DELETE FROM oracle.heartbeats_default WHERE received_at >= $1 AND received_at < $2 \
             RETURNING *) \
         INSERT INTO oracle.{name} SELECT * FROM moved"
    ))
    .bind(from)
    .bind(to)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "ALTER TABLE oracle.heartbeats ATTACH PARTITION oracle.{name} FOR VALUES FROM ({from}) TO ({to})"
    ))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(partition = %name, "heartbeat partition created");
    Ok(name)
}

/// One pass now, logged (a failure is retried at the next).
pub async fn pass(store: &Store, keep_secs: i64) {
    match store.apply_retention(unix_now(), keep_secs).await {
        Ok(report) if !report.dropped.is_empty() => {
            tracing::info!(dropped = ?report.dropped, "heartbeat partitions past the retention dropped");
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "evidence retention pass failed"),
    }
}

/// A pass every `every` until the task is aborted.
pub async fn run(store: Store, keep_secs: i64, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        pass(&store, keep_secs).await;
    }
}
