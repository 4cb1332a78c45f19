//! The oracle's Postgres tables (schema `oracle`, migrations in `migrations/oracle/`). Heartbeats go in as batches in
//! one statement and one transaction; nothing is acknowledged before its transaction commits.

use std::collections::HashMap;

use borsh::{BorshDeserialize, BorshSerialize};
use sqlx::migrate::Migrator;
use sqlx::PgPool;
use timelock_protocol::challenge::{Challenge, ChallengeVerdict};
use timelock_protocol::policy::{ChallengeResult, Observation, Outage};
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
        let beat = &signed.heartbeat;
        let mut payload = Vec::with_capacity(256);
        BorshSerialize::serialize(beat, &mut payload).expect("writing to a Vec cannot fail");
        StoredHeartbeat {
            worker: beat.worker,
            sequence: beat.sequence as i64,
            lease: beat.lease,
            timestamp: beat.timestamp,
            received_at,
            payload,
            signature: signed.signature.to_vec(),
        }
    }
}

fn key(bytes: Vec<u8>) -> Key {
    bytes.try_into().unwrap_or_default()
}

/// `id, worker, lease, seed, size, issued_at, deadline, verdict` of one challenge.
type ChallengeRow = (i64, Vec<u8>, Vec<u8>, Vec<u8>, i32, i64, i64, Option<String>);

const CHALLENGE_COLUMNS: &str = "id, worker, lease, seed, size, issued_at, deadline, verdict";

fn challenge_record(oracle: &Key, row: ChallengeRow) -> ChallengeRecord {
    let (id, worker, lease, seed, size, issued_at, deadline, verdict) = row;
    ChallengeRecord {
        challenge: Challenge { id: id as u64, seed: key(seed), size: size as u32, oracle: *oracle },
        worker: key(worker),
        lease: key(lease),
        issued_at,
        deadline,
        answered: verdict.is_some(),
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
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(
            "SELECT worker, max(sequence) FROM oracle.heartbeats WHERE worker = ANY($1) GROUP BY worker",
        )
        .bind(&workers)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(worker, sequence)| (key(worker), sequence)).collect())
    }

    /// Stores a batch in one statement (prepared once per connection) and says, row by row, whether it was new.
    /// A row whose (worker, sequence) is already stored (another process on this database wrote it, or this
    /// one before a restart) is skipped: one duplicate never fails the rest of the batch.
    pub async fn insert_heartbeats(&self, rows: &[StoredHeartbeat]) -> sqlx::Result<Vec<bool>> {
        let workers: Vec<&[u8]> = rows.iter().map(|r| &r.worker[..]).collect();
        let sequences: Vec<i64> = rows.iter().map(|r| r.sequence).collect();
        let leases: Vec<&[u8]> = rows.iter().map(|r| &r.lease[..]).collect();
        let timestamps: Vec<i64> = rows.iter().map(|r| r.timestamp).collect();
        let received: Vec<i64> = rows.iter().map(|r| r.received_at).collect();
        let payloads: Vec<&[u8]> = rows.iter().map(|r| &r.payload[..]).collect();
        let signatures: Vec<&[u8]> = rows.iter().map(|r| &r.signature[..]).collect();
        let inserted: Vec<(Vec<u8>, i64)> = sqlx::query_as(
            "INSERT INTO oracle.heartbeats (worker, sequence, lease, ts, received_at, payload, signature) \
             SELECT * FROM UNNEST($1::bytea[], $2::int8[], $3::bytea[], $4::int8[], $5::int8[], $6::bytea[], \
                 $7::bytea[]) \
             ON CONFLICT (worker, sequence) DO NOTHING RETURNING worker, sequence",
        )
        .bind(&workers)
        .bind(&sequences)
        .bind(&leases)
        .bind(&timestamps)
        .bind(&received)
        .bind(&payloads)
        .bind(&signatures)
        .fetch_all(&self.pool)
        .await?;
        let inserted: std::collections::HashSet<(Key, i64)> =
            inserted.into_iter().map(|(worker, sequence)| (key(worker), sequence)).collect();
        Ok(rows.iter().map(|r| inserted.contains(&(r.worker, r.sequence))).collect())
    }

    /// The lease's heartbeats received in `[from, to)`, in the order they were received.
    pub async fn lease_heartbeats(&self, lease: &Key, from: i64, to: i64) -> sqlx::Result<Vec<Observation>> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT received_at, payload FROM oracle.heartbeats \
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
            .filter_map(|(received_at, p)| {
                Some(Observation { received_at, heartbeat: Heartbeat::try_from_slice(&p).ok()? })
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
        let rows: Vec<(i64, i64, bool)> = sqlx::query_as(
            "SELECT issued_at, COALESCE(answered_at, deadline) AS at, COALESCE(verdict = 'passed', false) \
             FROM oracle.challenges WHERE oracle = $1 AND lease = $2 AND (verdict IS NOT NULL OR deadline < $3) \
             ORDER BY at, id",
        )
        .bind(&oracle[..])
        .bind(&lease[..])
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(issued, at, passed)| (issued, ChallengeResult { at, passed })).collect())
    }

    /// The lease's open challenge from this oracle, or a new one when the last was issued `every_secs` ago or
    /// more; with when the next one is due. Called only for a heartbeat of the worker that was just verified and
    /// stored: a challenge goes out in the answer to the worker itself, and its clock starts then.
    #[allow(clippy::too_many_arguments)]
    pub async fn challenge_for_heartbeat(
        &self,
        oracle: &Key,
        worker: &Key,
        lease: &Key,
        now: i64,
        every_secs: i64,
        timeout_secs: i64,
        size: u32,
    ) -> sqlx::Result<(Option<ChallengeRecord>, i64)> {
        let mut tx = self.pool.begin().await?;
        // Serialises issuance per lease, so two concurrent heartbeats never issue two challenges.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(encode($1 || $2, 'hex'), 0))")
            .bind(&oracle[..])
            .bind(&lease[..])
            .execute(&mut *tx)
            .await?;
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
            if open || now - latest.issued_at < every_secs {
                tx.commit().await?;
                let next_due = latest.issued_at + every_secs;
                return Ok((open.then_some(latest), next_due));
            }
        }
        let seed: Key = rand::random();
        let deadline = now + timeout_secs;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO oracle.challenges (oracle, worker, lease, seed, size, issued_at, deadline) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&oracle[..])
        .bind(&worker[..])
        .bind(&lease[..])
        .bind(&seed[..])
        .bind(size as i32)
        .bind(now)
        .bind(deadline)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        let record = ChallengeRecord {
            challenge: Challenge { id: id as u64, seed, size, oracle: *oracle },
            worker: *worker,
            lease: *lease,
            issued_at: now,
            deadline,
            answered: false,
        };
        Ok((Some(record), now + every_secs))
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
}
