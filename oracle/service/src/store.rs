//! The oracle's Postgres tables (schema `oracle`, migrations in `migrations/oracle/`). Heartbeats go in as batches,
//! one binary `COPY` in one transaction; nothing is acknowledged before its transaction commits.

use std::collections::HashMap;
use timelock_service_kit::CopyRows;

use borsh::BorshDeserialize;
use sqlx::migrate::Migrator;
use sqlx::PgPool;
use timelock::state::Workload;
use timelock_protocol::challenge::{Challenge, ChallengeVerdict, Probe};

use crate::config::ChallengeClass;
use timelock_protocol::evidence::LeaseEvidence;
use timelock_protocol::policy::{ChallengeResult, Observation, Outage, Reason};
use timelock_protocol::{Heartbeat, SignedHeartbeat};

/// The oracle's schema (`migrations/oracle/`). A database that also holds the indexer's schema (every database
/// did before the two were split) upgrades in place: the indexer's applied versions are skipped. The fields of
/// `Migrator` are sqlx's, public for its macro; `ignore_missing` is what `set_ignore_missing` sets.
pub static MIGRATOR: Migrator = Migrator { ignore_missing: true, ..sqlx::migrate!("../../migrations/oracle") };

pub type Key = [u8; 32];

/// A verified heartbeat ready to store.
pub struct StoredHeartbeat {
    pub worker: Key,
    pub sequence: i64,
    pub lease: Key,
    pub timestamp: i64,
    /// When the oracle received it (its own clock): what the policy judges on.
    pub received_at: i64,
    /// Borsh encoding of the heartbeat (what was signed, without the domain prefix).
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeRecord {
    pub challenge: Challenge,
    pub worker: Key,
    pub lease: Key,
    /// The oracle's clock when the challenge went out in the answer to the worker's heartbeat: the answer's
    /// clock starts here.
    pub issued_at: i64,
    pub deadline: i64,
    pub answered: bool,
    /// The commitment must arrive by then (Unix milliseconds, the oracle's clock).
    pub commit_by_ms: i64,
    /// The commitment, once taken, and the probe the oracle answered it with.
    pub root: Option<[u8; 32]>,
    pub probe: Option<Probe>,
    /// When the lease's next challenge is due (drawn at issue; `None` for challenges of before the draw).
    pub next_due: Option<i64>,
}

/// Why this oracle could not hear heartbeats for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutageCause {
    Database,
    Chain,
    Process,
}

impl OutageCause {
    pub const ALL: [OutageCause; 3] = [OutageCause::Database, OutageCause::Chain, OutageCause::Process];

    pub fn as_str(self) -> &'static str {
        match self {
            OutageCause::Database => "database",
            OutageCause::Chain => "chain",
            OutageCause::Process => "process",
        }
    }
}

impl StoredHeartbeat {
    /// The row for a heartbeat whose signature has been checked, received at `received_at`.
    pub fn from_verified(signed: &SignedHeartbeat, received_at: i64) -> Self {
        crate::ingest::EncodedHeartbeat::new(signed).into_row(received_at)
    }
}

/// The rows of `COPY ... (worker, sequence, lease, ts, received_at, payload, signature) FROM STDIN (FORMAT binary)`.
fn copy_binary<'a>(rows: impl ExactSizeIterator<Item = &'a StoredHeartbeat>, row_bytes: usize) -> CopyRows {
    let mut out = CopyRows::new(rows.len(), row_bytes);
    for row in rows {
        out.row(7).field(&row.worker).int8(row.sequence).field(&row.lease).int8(row.timestamp);
        out.int8(row.received_at).field(&row.payload).field(&row.signature);
    }
    out.end()
}

fn key(bytes: Vec<u8>) -> Key {
    bytes.try_into().unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    id: i64,
    worker: Vec<u8>,
    lease: Vec<u8>,
    seed: Vec<u8>,
    size: i32,
    issued_at: i64,
    deadline: i64,
    verdict: Option<String>,
    commit_by_ms: Option<i64>,
    root: Option<Vec<u8>>,
    probe_seed: Option<Vec<u8>>,
    probe_rows: Option<i32>,
    open_by: Option<i64>,
    next_due: Option<i64>,
}

const CHALLENGE_COLUMNS: &str = "id, worker, lease, seed, size, issued_at, deadline, verdict, commit_by_ms, root, \
     probe_seed, probe_rows, open_by, next_due";

fn challenge_record(oracle: &Key, row: ChallengeRow) -> ChallengeRecord {
    let id = row.id as u64;
    let probe = match (row.probe_seed, row.probe_rows, row.open_by) {
        (Some(seed), Some(rows), Some(open_by)) => Some(Probe { id, seed: key(seed), rows: rows as u32, open_by }),
        _ => None,
    };
    ChallengeRecord {
        challenge: Challenge { id, seed: key(row.seed), size: row.size as u32, oracle: *oracle },
        worker: key(row.worker),
        lease: key(row.lease),
        issued_at: row.issued_at,
        deadline: row.deadline,
        answered: row.verdict.is_some(),
        // A challenge of before commitments has no clock to commit by: it can only expire.
        commit_by_ms: row.commit_by_ms.unwrap_or(0),
        root: row.root.map(key),
        probe,
        next_due: row.next_due,
    }
}

#[derive(Clone)]
pub struct Store {
    pub pool: PgPool,
}

impl Store {
    pub fn new(pool: PgPool) -> Self {
        Store { pool }
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }

    /// Highest stored sequence of each of `workers` (absent when none).
    pub async fn last_sequences(&self, workers: &[Key]) -> sqlx::Result<HashMap<Key, i64>> {
        let workers: Vec<&[u8]> = workers.iter().map(|w| &w[..]).collect();
        let rows: Vec<(Vec<u8>, i64)> =
            sqlx::query_as("SELECT worker, last FROM oracle.heartbeat_marks WHERE worker = ANY($1)")
                .bind(&workers)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(worker, sequence)| (key(worker), sequence)).collect())
    }

    /// Stores a batch in one transaction and says, row by row, whether it was new. A row at or below its worker's
    /// high-water mark (another process on this database stored it, or this one before a restart) is skipped as
    /// a replay, and one duplicate never fails the rest of the batch. The new rows go in as one binary `COPY`,
    /// and the marks are raised in the same transaction.
    ///
    /// The common case costs one row update per worker: each worker whose rows in the batch rise strictly has
    /// its mark raised to the highest of them by an update that holds only while the mark (the latest committed,
    /// once locked) is below the lowest, so that all of them are new. The others (a worker without a mark yet, a
    /// mark another writer has raised since, a batch that repeats a sequence) have their marks locked and read
    /// first, in one order, and are judged row by row.
    pub async fn insert_heartbeats(&self, rows: &[StoredHeartbeat]) -> sqlx::Result<Vec<bool>> {
        // Per worker: the lowest and highest sequence in the batch, and whether its rows rise strictly.
        let mut span: HashMap<Key, (i64, i64, bool)> = HashMap::with_capacity(rows.len());
        for row in rows {
            span.entry(row.worker)
                .and_modify(|(_, top, rising)| {
                    *rising &= row.sequence > *top;
                    *top = (*top).max(row.sequence);
                })
                .or_insert((row.sequence, row.sequence, true));
        }
        let rising: Vec<(&Key, &(i64, i64, bool))> = span.iter().filter(|(_, (_, _, rising))| *rising).collect();
        let mut tx = self.pool.begin().await?;
        let raised: Vec<Vec<u8>> = sqlx::query_scalar(
            "UPDATE oracle.heartbeat_marks m SET last = u.top \
             FROM UNNEST($1::bytea[], $2::int8[], $3::int8[]) AS u(worker, first, top) \
             WHERE m.worker = u.worker AND m.last < u.first RETURNING m.worker",
        )
        .bind(rising.iter().map(|(w, _)| &w[..]).collect::<Vec<_>>())
        .bind(rising.iter().map(|(_, (first, _, _))| *first).collect::<Vec<_>>())
        .bind(rising.iter().map(|(_, (_, top, _))| *top).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
        let raised: std::collections::HashSet<Key> = raised.into_iter().map(key).collect();
        let mut others: Vec<&[u8]> = span.keys().filter(|w| !raised.contains(*w)).map(|w| &w[..]).collect();
        others.sort_unstable();
        // Each other worker's mark, locked (in one order: no deadlock between writers) at its latest value.
        let mut last: HashMap<Key, i64> = HashMap::new();
        if !others.is_empty() {
            let marks: Vec<(Vec<u8>, i64)> = sqlx::query_as(
                "INSERT INTO oracle.heartbeat_marks AS m (worker, last) SELECT w, $2 FROM UNNEST($1::bytea[]) AS w \
                 ON CONFLICT (worker) DO UPDATE SET last = m.last RETURNING worker, last",
            )
            .bind(&others)
            .bind(i64::MIN)
            .fetch_all(&mut *tx)
            .await?;
            last = marks.into_iter().map(|(worker, last)| (key(worker), last)).collect();
        }
        let before = last.clone();
        let new: Vec<bool> = rows
            .iter()
            .map(|r| {
                let Some(mark) = last.get_mut(&r.worker) else { return true };
                let new = r.sequence > *mark;
                if new {
                    *mark = r.sequence;
                }
                new
            })
            .collect();
        let kept: Vec<&StoredHeartbeat> = rows.iter().zip(&new).filter(|(_, new)| **new).map(|(r, _)| r).collect();
        if !kept.is_empty() {
            let row_bytes = kept.iter().map(|r| r.payload.len() + r.signature.len() + 130).max().unwrap_or(0);
            let mut copy = tx
                .copy_in_raw(
                    "COPY oracle.heartbeats (worker, sequence, lease, ts, received_at, payload, signature) \
                     FROM STDIN (FORMAT binary)",
                )
                .await?;
            copy.send(copy_binary(kept.into_iter(), row_bytes).bytes()).await?;
            copy.finish().await?;
        }
        let moved: Vec<(&Key, &i64)> = last.iter().filter(|(w, l)| before.get(*w) != Some(*l)).collect();
        if !moved.is_empty() {
            sqlx::query(
                "UPDATE oracle.heartbeat_marks m SET last = u.last \
                 FROM UNNEST($1::bytea[], $2::int8[]) AS u(worker, last) WHERE m.worker = u.worker",
            )
            .bind(moved.iter().map(|(w, _)| &w[..]).collect::<Vec<_>>())
            .bind(moved.iter().map(|(_, l)| **l).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    /// The lease's heartbeats received in `[from, to)`, in the order they were received, each with its device
    /// signature (what the evidence commits to).
    pub async fn lease_heartbeats(
        &self,
        lease: &Key,
        from: i64,
        to: i64,
    ) -> sqlx::Result<Vec<(Observation, [u8; 64])>> {
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT received_at, payload, signature FROM oracle.heartbeats \
             WHERE lease = $1 AND received_at >= $2 AND received_at < $3 ORDER BY received_at, sequence",
        )
        .bind(&lease[..])
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        // Every payload was decoded from a verified request before it was stored.
        Ok(rows
            .into_iter()
            .filter_map(|(received_at, p, signature)| {
                let observation = Observation { received_at, heartbeat: Heartbeat::try_from_slice(&p).ok()? };
                Some((observation, signature.try_into().ok()?))
            })
            .collect())
    }

    /// Settled outcomes of the challenges this oracle issued in the lease, up to `now`, by time, each with when
    /// it was issued: answers, and unanswered challenges past their deadline (failed: the worker had it, in the
    /// answer to its heartbeat).
    pub async fn challenge_results(
        &self,
        oracle: &Key,
        lease: &Key,
        now: i64,
    ) -> sqlx::Result<Vec<(i64, ChallengeResult)>> {
        let rows: Vec<(i64, i64, bool, bool)> = sqlx::query_as(
            "SELECT issued_at, COALESCE(answered_at, deadline) AS at, COALESCE(verdict = 'passed', false), prompted \
             FROM oracle.challenges WHERE oracle = $1 AND lease = $2 AND (verdict IS NOT NULL OR deadline < $3) \
             ORDER BY at, id",
        )
        .bind(&oracle[..])
        .bind(&lease[..])
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(issued, at, passed, prompted)| (issued, ChallengeResult { at, passed, prompted }))
            .collect())
    }

    /// The lease's open challenge from this oracle, or a new one when the next was due (drawn at the last issue,
    /// around `every_secs`) or the renter complained since, and `may_issue` (this oracle's turn); with when the
    /// next one is due. Called only for a heartbeat of the worker that was just verified and
    /// stored: a challenge goes out in the answer to the worker itself, and its clock starts then.
    #[allow(clippy::too_many_arguments)]
    pub async fn challenge_for_heartbeat(
        &self,
        oracle: &Key,
        worker: &Key,
        lease: &Key,
        now_ms: i64,
        every_secs: i64,
        timeout_secs: i64,
        class: ChallengeClass,
        may_issue: bool,
    ) -> sqlx::Result<(Option<ChallengeRecord>, i64)> {
        let now = now_ms.div_euclid(1_000);
        let mut tx = self.pool.begin().await?;
        // Serialises issuance per lease, so two concurrent heartbeats never issue two challenges.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(encode($1 || $2, 'hex'), 0))")
            .bind(&oracle[..])
            .bind(&lease[..])
            .execute(&mut *tx)
            .await?;
        // Issued now only because the renter complained, the schedule having none due until then: the prompted
        // challenge keeps that time for the next one, so complaints never push a scheduled challenge away.
        let mut prompted_before: Option<i64> = None;
        let latest: Option<ChallengeRow> = sqlx::query_as(&format!(
            "SELECT {CHALLENGE_COLUMNS} FROM oracle.challenges WHERE oracle = $1 AND lease = $2 \
             ORDER BY issued_at DESC, id DESC LIMIT 1"
        ))
        .bind(&oracle[..])
        .bind(&lease[..])
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(latest) = latest.map(|row| challenge_record(oracle, row)) {
            let open = !latest.answered && latest.deadline >= now;
            // A renter's complaint since the last challenge makes the next one due now.
            let complained: bool = !open
                && sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM oracle.renter_reports WHERE lease = $1 AND NOT agrees \
                     AND received_at >= $2)",
                )
                .bind(&lease[..])
                .bind(latest.issued_at)
                .fetch_one(&mut *tx)
                .await?;
            let next_due = latest.next_due.unwrap_or(latest.issued_at + every_secs);
            if open || (now < next_due && !complained) {
                tx.commit().await?;
                return Ok((open.then_some(latest), next_due));
            }
            prompted_before = (now < next_due).then_some(next_due);
        }
        if !may_issue {
            // Due, but another oracle's turn: the next heartbeat asks again.
            tx.commit().await?;
            return Ok((None, now + 1));
        }
        let seed: Key = rand::random();
        // Around `every_secs`, never predictably: from half to one and a half of it.
        let gap = if every_secs > 0 {
            rand::Rng::gen_range(&mut rand::thread_rng(), every_secs / 2..=every_secs * 3 / 2)
        } else {
            0
        };
        let next_due = prompted_before.unwrap_or(now + gap);
        let prompted = prompted_before.is_some();
        let deadline = now + timeout_secs;
        let commit_by_ms = now_ms.saturating_add(i64::try_from(class.commit_ms).unwrap_or(i64::MAX));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO oracle.challenges (oracle, worker, lease, seed, size, issued_at, deadline, issued_at_ms, \
                 commit_by_ms, next_due, prompted) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(&oracle[..])
        .bind(&worker[..])
        .bind(&lease[..])
        .bind(&seed[..])
        .bind(class.size as i32)
        .bind(now)
        .bind(deadline)
        .bind(now_ms)
        .bind(commit_by_ms)
        .bind(next_due)
        .bind(prompted)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        let record = ChallengeRecord {
            challenge: Challenge { id: id as u64, seed, size: class.size, oracle: *oracle },
            worker: *worker,
            lease: *lease,
            issued_at: now,
            deadline,
            answered: false,
            commit_by_ms,
            root: None,
            probe: None,
            next_due: Some(next_due),
        };
        Ok((Some(record), next_due))
    }

    /// The worker's open challenge from this oracle, if any (never issues one).
    pub async fn open_challenge(&self, oracle: &Key, worker: &Key, now: i64) -> sqlx::Result<Option<ChallengeRecord>> {
        let row: Option<ChallengeRow> = sqlx::query_as(&format!(
            "SELECT {CHALLENGE_COLUMNS} FROM oracle.challenges \
             WHERE oracle = $1 AND worker = $2 AND verdict IS NULL AND deadline >= $3 \
             ORDER BY issued_at DESC, id DESC LIMIT 1"
        ))
        .bind(&oracle[..])
        .bind(&worker[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| challenge_record(oracle, row)))
    }

    /// Challenge `id` as this oracle issued it (another oracle's challenge on a shared database is not found).
    pub async fn challenge(&self, oracle: &Key, id: i64) -> sqlx::Result<Option<ChallengeRecord>> {
        let row: Option<ChallengeRow> =
            sqlx::query_as(&format!("SELECT {CHALLENGE_COLUMNS} FROM oracle.challenges WHERE id = $1 AND oracle = $2"))
                .bind(id)
                .bind(&oracle[..])
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|row| challenge_record(oracle, row)))
    }

    /// Takes the commitment to challenge `id` and the probe that answers it, once; `false` when it had one.
    pub async fn record_commitment(
        &self,
        id: i64,
        committed_at_ms: i64,
        root: &[u8; 32],
        probe: &Probe,
    ) -> sqlx::Result<bool> {
        let updated = sqlx::query(
            "UPDATE oracle.challenges SET committed_at_ms = $2, root = $3, probe_seed = $4, probe_rows = $5, \
                 open_by = $6 \
             WHERE id = $1 AND root IS NULL AND verdict IS NULL",
        )
        .bind(id)
        .bind(committed_at_ms)
        .bind(&root[..])
        .bind(&probe.seed[..])
        .bind(probe.rows as i32)
        .bind(probe.open_by)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Takes the challenge's opening for judging, once: `false` when another opening was taken already (so
    /// that copies sent at once cost the oracle one O(n²) verification, not one each).
    pub async fn claim_opening(&self, id: i64, now: i64) -> sqlx::Result<bool> {
        let updated = sqlx::query(
            "UPDATE oracle.challenges SET opened_at = $2 WHERE id = $1 AND opened_at IS NULL AND verdict IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Records the verdict once; `false` when the challenge was already answered.
    pub async fn record_answer(
        &self,
        id: i64,
        answered_at: i64,
        duration_micros: u64,
        verdict: ChallengeVerdict,
    ) -> sqlx::Result<bool> {
        let verdict = match verdict {
            ChallengeVerdict::Passed => "passed",
            ChallengeVerdict::WrongAnswer => "wrong_answer",
            ChallengeVerdict::TooSlow => "too_slow",
        };
        let updated = sqlx::query(
            "UPDATE oracle.challenges SET answered_at = $2, duration_micros = $3, verdict = $4 \
             WHERE id = $1 AND verdict IS NULL",
        )
        .bind(id)
        .bind(answered_at)
        .bind(i64::try_from(duration_micros).unwrap_or(i64::MAX))
        .bind(verdict)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Records a span in which this oracle could not take heartbeats. Recording one twice changes nothing.
    pub async fn record_outage(&self, oracle: &Key, cause: OutageCause, outage: Outage) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO oracle.outages (oracle, cause, started, ended) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (oracle, cause, started) DO UPDATE SET ended = GREATEST(oracle.outages.ended, EXCLUDED.ended)",
        )
        .bind(&oracle[..])
        .bind(cause.as_str())
        .bind(outage.from)
        .bind(outage.to)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// This oracle's recorded outages that overlap `[from, to)`.
    pub async fn outages(&self, oracle: &Key, from: i64, to: i64) -> sqlx::Result<Vec<Outage>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT started, ended FROM oracle.outages WHERE oracle = $1 AND started < $3 AND ended > $2 \
             ORDER BY started",
        )
        .bind(&oracle[..])
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(from, to)| Outage { from, to }).collect())
    }

    /// Says this oracle process is alive at `now`; returns when it last said so (before a restart: the start of
    /// the gap its process was down).
    pub async fn alive(&self, oracle: &Key, now: i64) -> sqlx::Result<Option<i64>> {
        let previous: Option<Option<i64>> = sqlx::query_scalar(
            "WITH previous AS (SELECT alive FROM oracle.liveness WHERE oracle = $1) \
             INSERT INTO oracle.liveness (oracle, alive) VALUES ($1, $2) \
             ON CONFLICT (oracle) DO UPDATE SET alive = GREATEST(oracle.liveness.alive, EXCLUDED.alive) \
             RETURNING (SELECT alive FROM previous)",
        )
        .bind(&oracle[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(previous.flatten())
    }

    /// The oracle's lookup tables, oldest first: `(address, deactivated)`.
    pub async fn lookup_tables(&self, oracle: &Key) -> sqlx::Result<Vec<(Key, bool)>> {
        let rows: Vec<(Vec<u8>, bool)> = sqlx::query_as(
            "SELECT address, deactivated_at IS NOT NULL FROM oracle.lookup_tables WHERE oracle = $1 \
             ORDER BY created_at, address",
        )
        .bind(&oracle[..])
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().filter_map(|(address, off)| Some((address.try_into().ok()?, off))).collect())
    }

    pub async fn record_lookup_table(&self, oracle: &Key, address: &Key) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO oracle.lookup_tables (oracle, address) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(&oracle[..])
            .bind(&address[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn lookup_table_deactivated(&self, oracle: &Key, address: &Key) -> sqlx::Result<()> {
        sqlx::query("UPDATE oracle.lookup_tables SET deactivated_at = now() WHERE oracle = $1 AND address = $2")
            .bind(&oracle[..])
            .bind(&address[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn forget_lookup_table(&self, oracle: &Key, address: &Key) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM oracle.lookup_tables WHERE oracle = $1 AND address = $2")
            .bind(&oracle[..])
            .bind(&address[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records what was reported for each lease and the transaction (or error) that carried it.
    pub async fn record_reports(
        &self,
        oracle: &Key,
        window_end: i64,
        reports: &[(Key, u32, u16)],
        outcome: Result<&str, &str>,
    ) -> sqlx::Result<()> {
        let leases: Vec<&[u8]> = reports.iter().map(|r| &r.0[..]).collect();
        let proven: Vec<i64> = reports.iter().map(|r| i64::from(r.1)).collect();
        let faults: Vec<i32> = reports.iter().map(|r| i32::from(r.2)).collect();
        let (signature, error) = match outcome {
            Ok(signature) => (Some(signature), None),
            Err(error) => (None, Some(error)),
        };
        sqlx::query(
            "INSERT INTO oracle.reports (oracle, lease, window_end, proven_secs, faults, signature, error) \
             SELECT $7, lease, $4, proven, faults, $5, $6 FROM UNNEST($1::bytea[], $2::int8[], $3::int4[]) \
                 AS r(lease, proven, faults) \
             ON CONFLICT (oracle, lease, window_end) DO UPDATE SET proven_secs = EXCLUDED.proven_secs, \
                 faults = EXCLUDED.faults, signature = EXCLUDED.signature, error = EXCLUDED.error",
        )
        .bind(&leases)
        .bind(&proven)
        .bind(&faults)
        .bind(window_end)
        .bind(signature)
        .bind(error)
        .bind(&oracle[..])
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a version of a cluster's workload as read from chain (a version already recorded is kept).
    pub async fn record_workload(&self, workload: &Workload) -> sqlx::Result<()> {
        let images: Vec<&[u8]> = workload.images.iter().map(|i| &i[..]).collect();
        let retiring: Vec<&[u8]> = workload.retiring.iter().map(|i| &i[..]).collect();
        sqlx::query(
            "INSERT INTO oracle.workloads (cluster, changed_at, images, retiring) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&workload.cluster.to_bytes()[..])
        .bind(workload.changed_at)
        .bind(&images)
        .bind(&retiring)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every recorded version of the clusters' workloads, oldest first.
    pub async fn workloads(&self, clusters: &[Key]) -> sqlx::Result<HashMap<Key, WorkloadHistory>> {
        let clusters: Vec<&[u8]> = clusters.iter().map(|c| &c[..]).collect();
        type Row = (Vec<u8>, i64, Vec<Vec<u8>>, Vec<Vec<u8>>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT cluster, changed_at, images, retiring FROM oracle.workloads WHERE cluster = ANY($1) \
             ORDER BY cluster, changed_at",
        )
        .bind(&clusters)
        .fetch_all(&self.pool)
        .await?;
        let mut found: HashMap<Key, WorkloadHistory> = HashMap::new();
        for (cluster, changed_at, images, retiring) in rows {
            let cluster = key(cluster);
            let version = Workload {
                cluster: cluster.into(),
                images: images.into_iter().map(key).collect(),
                retiring: retiring.into_iter().map(key).collect(),
                changed_at,
                bump: 0,
            };
            found.entry(cluster).or_default().versions.push(version);
        }
        Ok(found)
    }

    /// Stores the verdicts on a lease's intervals from `start` (`step` seconds each), replacing earlier
    /// verdicts on the same intervals.
    pub async fn record_intervals(
        &self,
        oracle: &Key,
        lease: &Key,
        start: i64,
        step: i64,
        reasons: &[Reason],
    ) -> sqlx::Result<()> {
        let starts: Vec<i64> = (0..reasons.len() as i64).map(|i| start + i * step).collect();
        let reasons: Vec<serde_json::Value> =
            reasons.iter().map(|r| serde_json::to_value(r).expect("reasons serialize")).collect();
        sqlx::query(
            "INSERT INTO oracle.intervals (oracle, lease, start, step, reason) \
             SELECT $1, $2, start, $3, reason FROM UNNEST($4::int8[], $5::jsonb[]) AS r(start, reason) \
             ON CONFLICT (oracle, lease, start) DO UPDATE SET step = EXCLUDED.step, reason = EXCLUDED.reason",
        )
        .bind(&oracle[..])
        .bind(&lease[..])
        .bind(step as i32)
        .bind(&starts)
        .bind(&reasons)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Up to `limit` verdicts on the lease's intervals from `from` on, by time.
    pub async fn intervals(
        &self,
        oracle: &Key,
        lease: &Key,
        from: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<(i64, i64, Reason)>> {
        let rows: Vec<(i64, i32, serde_json::Value)> = sqlx::query_as(
            "SELECT start, step, reason FROM oracle.intervals WHERE oracle = $1 AND lease = $2 AND start >= $3 \
             ORDER BY start LIMIT $4",
        )
        .bind(&oracle[..])
        .bind(&lease[..])
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        // Every row was written from a `Reason`; one this version cannot read is skipped, not a failure.
        Ok(rows
            .into_iter()
            .filter_map(|(start, step, reason)| Some((start, i64::from(step), serde_json::from_value(reason).ok()?)))
            .collect())
    }

    /// Records what one attestation transaction committed to for each of its leases.
    pub async fn record_evidence(&self, oracle: &Key, rows: &[EvidenceRow]) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        for row in rows {
            let e = &row.evidence;
            let proof: Vec<&[u8]> = row.proof.iter().map(|h| &h[..]).collect();
            sqlx::query(
                "INSERT INTO oracle.evidence (oracle, lease, window_end, proven_secs, faults, resolution, \
                     judged_from, heartbeats, heartbeats_root, verdicts_digest, leaf, root, position, leaves, proof, \
                     signature) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (oracle, lease, window_end) DO UPDATE SET proven_secs = EXCLUDED.proven_secs, \
                     faults = EXCLUDED.faults, resolution = EXCLUDED.resolution, judged_from = EXCLUDED.judged_from, \
                     heartbeats = EXCLUDED.heartbeats, heartbeats_root = EXCLUDED.heartbeats_root, \
                     verdicts_digest = EXCLUDED.verdicts_digest, leaf = EXCLUDED.leaf, root = EXCLUDED.root, \
                     position = EXCLUDED.position, leaves = EXCLUDED.leaves, proof = EXCLUDED.proof, \
                     signature = EXCLUDED.signature",
            )
            .bind(&oracle[..])
            .bind(&e.lease[..])
            .bind(e.window_end)
            .bind(i64::from(e.proven_secs))
            .bind(i32::from(e.faults))
            .bind(i16::from(e.resolution))
            .bind(row.judged_from)
            .bind(row.heartbeats as i32)
            .bind(&e.heartbeats_root[..])
            .bind(&e.verdicts_digest[..])
            .bind(&e.leaf()[..])
            .bind(&row.root[..])
            .bind(row.position as i32)
            .bind(row.leaves as i32)
            .bind(&proof)
            .bind(row.signature.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// The latest evidence this oracle committed to for the lease, if any.
    pub async fn latest_evidence(&self, oracle: &Key, lease: &Key) -> sqlx::Result<Option<EvidenceRow>> {
        type Row = (i64, i64, i32, i16, i64, i32, Vec<u8>, Vec<u8>, Vec<u8>, i32, i32, Vec<Vec<u8>>, Option<String>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT window_end, proven_secs, faults, resolution, judged_from, heartbeats, heartbeats_root, \
                 verdicts_digest, root, position, leaves, proof, signature \
             FROM oracle.evidence WHERE oracle = $1 AND lease = $2 ORDER BY window_end DESC LIMIT 1",
        )
        .bind(&oracle[..])
        .bind(&lease[..])
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| EvidenceRow {
            evidence: LeaseEvidence {
                lease: *lease,
                window_end: r.0,
                proven_secs: r.1 as u32,
                faults: r.2 as u16,
                resolution: r.3 as u8,
                heartbeats_root: key(r.6),
                verdicts_digest: key(r.7),
            },
            judged_from: r.4,
            heartbeats: r.5 as usize,
            root: key(r.8),
            position: r.9 as usize,
            leaves: r.10 as usize,
            proof: r.11.into_iter().map(key).collect(),
            signature: r.12,
        }))
    }
}

/// One lease's evidence in one attestation transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceRow {
    pub evidence: LeaseEvidence,
    /// Start of the first judged interval (the lease's start).
    pub judged_from: i64,
    /// Heartbeats under `heartbeats_root`.
    pub heartbeats: usize,
    /// The root the transaction carried, the leaf's position among its leaves, and the leaf's proof.
    pub root: [u8; 32],
    pub position: usize,
    pub leaves: usize,
    pub proof: Vec<[u8; 32]>,
    /// The transaction, once it landed.
    pub signature: Option<String>,
}

/// A cluster's workload versions as recorded, oldest first: the policy's view of what the renter allowed when.
#[derive(Clone, Debug, Default)]
pub struct WorkloadHistory {
    pub versions: Vec<Workload>,
}

impl timelock_protocol::policy::Workload for WorkloadHistory {
    fn declared_at(&self, at: i64) -> bool {
        self.versions.first().is_some_and(|v| v.changed_at <= at)
    }

    /// Allowed by the version in force at `at`, or listed by the next version recorded: the oracle reads the
    /// account once a round, so a version it never saw may have listed the image earlier than it knows, and
    /// where it lacks the evidence the supplier gets the benefit of the doubt.
    fn allows(&self, image: &str, at: i64) -> bool {
        let hash = Workload::image_hash(image);
        let next = self.versions.partition_point(|v| v.changed_at <= at);
        let in_force = next.checked_sub(1).map(|i| &self.versions[i]);
        in_force.is_some_and(|v| v.allows(&hash, at))
            || self.versions.get(next).is_some_and(|v| v.images.contains(&hash))
    }

    fn listed_by_then(&self, image: &str, at: i64) -> bool {
        let hash = Workload::image_hash(image);
        self.versions.iter().take_while(|v| v.changed_at <= at).any(|v| v.images.contains(&hash))
    }
}
