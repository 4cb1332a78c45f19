//! The oracle's Postgres tables (schema `oracle`, migrations in `migrations/oracle/`). Heartbeats go in as batches in
//! one statement and one transaction; nothing is acknowledged before its transaction commits.

use std::collections::HashMap;

use borsh::{BorshDeserialize, BorshSerialize};
use sqlx::migrate::Migrator;
use sqlx::PgPool;
use timelock_protocol::challenge::{Challenge, ChallengeVerdict};
use timelock_protocol::policy::ChallengeResult;
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
    /// Borsh encoding of the heartbeat (what was signed, without the domain prefix).
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeRecord {
    pub challenge: Challenge,
    pub worker: Key,
    pub issued_at: i64,
    pub deadline: i64,
    pub fetched_at: Option<i64>,
    pub answered: bool,
}

impl StoredHeartbeat {
    /// The row for a heartbeat whose signature has been checked.
    pub fn from_verified(signed: &SignedHeartbeat) -> Self {
        let beat = &signed.heartbeat;
        let mut payload = Vec::with_capacity(256);
        BorshSerialize::serialize(beat, &mut payload).expect("writing to a Vec cannot fail");
        StoredHeartbeat {
            worker: beat.worker,
            sequence: beat.sequence as i64,
            lease: beat.lease,
            timestamp: beat.timestamp,
            payload,
            signature: signed.signature.to_vec(),
        }
    }
}

fn key(bytes: Vec<u8>) -> Key {
    bytes.try_into().unwrap_or_default()
}

/// `id, seed, size, issued_at, deadline, verdict` of a worker's latest challenge.
type LatestChallengeRow = (i64, Vec<u8>, i32, i64, i64, Option<String>);
/// `worker, seed, size, issued_at, deadline, fetched_at, verdict` of one challenge.
type ChallengeRow = (Vec<u8>, Vec<u8>, i32, i64, i64, Option<i64>, Option<String>);

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
        let payloads: Vec<&[u8]> = rows.iter().map(|r| &r.payload[..]).collect();
        let signatures: Vec<&[u8]> = rows.iter().map(|r| &r.signature[..]).collect();
        let inserted: Vec<(Vec<u8>, i64)> = sqlx::query_as(
            "INSERT INTO oracle.heartbeats (worker, sequence, lease, ts, payload, signature) \
             SELECT * FROM UNNEST($1::bytea[], $2::int8[], $3::bytea[], $4::int8[], $5::bytea[], $6::bytea[]) \
             ON CONFLICT (worker, sequence) DO NOTHING RETURNING worker, sequence",
        )
        .bind(&workers)
        .bind(&sequences)
        .bind(&leases)
        .bind(&timestamps)
        .bind(&payloads)
        .bind(&signatures)
        .fetch_all(&self.pool)
        .await?;
        let inserted: std::collections::HashSet<(Key, i64)> =
            inserted.into_iter().map(|(worker, sequence)| (key(worker), sequence)).collect();
        Ok(rows.iter().map(|r| inserted.contains(&(r.worker, r.sequence))).collect())
    }

    /// The lease's heartbeats with timestamps in `[from, to)`, by time.
    pub async fn lease_heartbeats(&self, lease: &Key, from: i64, to: i64) -> sqlx::Result<Vec<Heartbeat>> {
        let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT payload FROM oracle.heartbeats WHERE lease = $1 AND ts >= $2 AND ts < $3 ORDER BY ts, sequence",
        )
        .bind(&lease[..])
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        // Every payload was decoded from a verified request before it was stored.
        Ok(payloads.iter().filter_map(|p| Heartbeat::try_from_slice(p).ok()).collect())
    }

    /// Settled challenge outcomes of a worker up to `now`, by time: answers, and unanswered challenges past
    /// their deadline (failed).
    pub async fn challenge_results(&self, worker: &Key, now: i64) -> sqlx::Result<Vec<ChallengeResult>> {
        let rows: Vec<(i64, bool)> = sqlx::query_as(
            "SELECT COALESCE(answered_at, deadline) AS at, COALESCE(verdict = 'passed', false) \
             FROM oracle.challenges WHERE worker = $1 AND (verdict IS NOT NULL OR deadline < $2) ORDER BY at, id",
        )
        .bind(&worker[..])
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(at, passed)| ChallengeResult { at, passed }).collect())
    }

    /// The worker's open challenge; otherwise a new one when the last was issued `every_secs` ago or more.
    /// `fetching`: the agent is fetching it now (starts the oracle's clock on the answer).
    pub async fn due_challenge(
        &self,
        worker: &Key,
        fetching: bool,
        now: i64,
        every_secs: i64,
        timeout_secs: i64,
        size: u32,
    ) -> sqlx::Result<Option<ChallengeRecord>> {
        let mut tx = self.pool.begin().await?;
        // Serialises issuance per worker, so two oracle requests never issue two challenges at once.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(encode($1, 'hex'), 0))")
            .bind(&worker[..])
            .execute(&mut *tx)
            .await?;
        let latest: Option<LatestChallengeRow> = sqlx::query_as(
            "SELECT id, seed, size, issued_at, deadline, verdict FROM oracle.challenges \
             WHERE worker = $1 ORDER BY issued_at DESC, id DESC LIMIT 1",
        )
        .bind(&worker[..])
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id, seed, size, issued_at, deadline, verdict)) = latest {
            let open = verdict.is_none() && deadline >= now;
            if open || now - issued_at < every_secs {
                let fetched_at: Option<i64> = if open && fetching {
                    sqlx::query_scalar(
                        "UPDATE oracle.challenges SET fetched_at = COALESCE(fetched_at, $2) WHERE id = $1 \
                         RETURNING fetched_at",
                    )
                    .bind(id)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?
                } else {
                    None
                };
                tx.commit().await?;
                return Ok(open.then(|| ChallengeRecord {
                    challenge: Challenge { id: id as u64, seed: key(seed), size: size as u32 },
                    worker: *worker,
                    issued_at,
                    deadline,
                    fetched_at,
                    answered: false,
                }));
            }
        }
        let seed: Key = rand::random();
        let deadline = now + timeout_secs;
        let fetched_at = fetching.then_some(now);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO oracle.challenges (worker, seed, size, issued_at, deadline, fetched_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&worker[..])
        .bind(&seed[..])
        .bind(size as i32)
        .bind(now)
        .bind(deadline)
        .bind(fetched_at)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(ChallengeRecord {
            challenge: Challenge { id: id as u64, seed, size },
            worker: *worker,
            issued_at: now,
            deadline,
            fetched_at,
            answered: false,
        }))
    }

    pub async fn challenge(&self, id: i64) -> sqlx::Result<Option<ChallengeRecord>> {
        let row: Option<ChallengeRow> = sqlx::query_as(
            "SELECT worker, seed, size, issued_at, deadline, fetched_at, verdict FROM oracle.challenges WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(worker, seed, size, issued_at, deadline, fetched_at, verdict)| ChallengeRecord {
            challenge: Challenge { id: id as u64, seed: key(seed), size: size as u32 },
            worker: key(worker),
            issued_at,
            deadline,
            fetched_at,
            answered: verdict.is_some(),
        }))
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
