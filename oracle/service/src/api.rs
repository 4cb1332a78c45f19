//! The HTTP API: heartbeats in, benchmark challenges out and answers in, health and metrics.
//!
//! A challenge goes out only in the 202 answer to the worker's own verified heartbeat, and its clock (the
//! oracle's) starts then: nobody else can start it early by asking for it. The worker may read its open
//! challenge again with a request it signs for this oracle (after a lost answer, say); reading starts nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anchor_lang::prelude::Pubkey;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use timelock_protocol::challenge::{self, AnswerJudged, ChallengeVerdict, OpenChallenge, SignedAnswer};
use timelock_protocol::policy::Reason;
use timelock_protocol::{HeartbeatAccepted, SignedHeartbeat};
use timelock_service_kit::{ApiError, ErrorBody, ErrorCode, Health, Metrics, Readiness};
use tokio::sync::{mpsc, oneshot};

use crate::chain::{Chain, WorkerInfo};
use crate::config::Config;
use crate::ingest::{Pending, Refusal};
use crate::store::{ChallengeRecord, Store};

/// Network and scheduling slack allowed on top of a GPU class's challenge time.
const ANSWER_SLACK_SECS: i64 = 5;

/// Per lease, what the store last said of its challenges: the open one and when the next is due. Every
/// heartbeat asks; the database is asked only when a challenge is due or the open one has expired.
#[derive(Default)]
pub struct ChallengeSchedule {
    leases: std::sync::Mutex<std::collections::HashMap<[u8; 32], Scheduled>>,
}

/// A lease's open challenge (if any) and when its next one is due.
type Scheduled = (Option<ChallengeRecord>, i64);

/// Leases remembered at most (they come from verified heartbeats, so from real leases; forgetting costs a query).
const SCHEDULED_LEASES: usize = 100_000;

impl ChallengeSchedule {
    /// `Some(open)` when the answer is known without the database (`open` may be `None`: nothing due yet).
    fn known(&self, lease: &[u8; 32], now: i64) -> Option<Option<ChallengeRecord>> {
        let leases = self.leases.lock().expect("schedule lock");
        let (open, next_due) = leases.get(lease)?;
        match open {
            Some(record) if record.deadline >= now => Some(Some(record.clone())),
            _ if now < *next_due => Some(None),
            _ => None,
        }
    }

    fn remember(&self, lease: [u8; 32], open: Option<ChallengeRecord>, next_due: i64) {
        let mut leases = self.leases.lock().expect("schedule lock");
        if leases.len() >= SCHEDULED_LEASES && !leases.contains_key(&lease) {
            leases.clear();
        }
        leases.insert(lease, (open, next_due));
    }

    /// The lease's open challenge was answered.
    fn answered(&self, lease: &[u8; 32]) {
        if let Some((open, _)) = self.leases.lock().expect("schedule lock").get_mut(lease) {
            *open = None;
        }
    }
}

pub struct AppState {
    pub config: Config,
    /// This oracle's signing key: challenges and their answers are bound to it.
    pub identity: [u8; 32],
    pub chain: Chain,
    pub store: Store,
    pub queue: mpsc::Sender<Pending>,
    pub metrics: Arc<Metrics>,
    pub readiness: Readiness,
    schedule: ChallengeSchedule,
    overloaded: Arc<AtomicU64>,
}

impl AppState {
    pub fn new(
        config: Config,
        identity: [u8; 32],
        chain: Chain,
        store: Store,
        queue: mpsc::Sender<Pending>,
        metrics: Arc<Metrics>,
        readiness: Readiness,
    ) -> Self {
        let overloaded =
            metrics.counter("oracle_heartbeats_refused_total", "Heartbeats refused.", "reason=\"overloaded\"");
        let schedule = ChallengeSchedule::default();
        AppState { config, identity, chain, store, queue, metrics, readiness, schedule, overloaded }
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    let answer_limit = state.config.max_answer_bytes();
    let body_limit = state.config.max_body_bytes;
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let counted = state.metrics.clone();
    let api = Router::new()
        .route("/v1/heartbeats", post(post_heartbeat).layer(DefaultBodyLimit::max(body_limit)))
        .route("/v1/workers/{worker}/challenge", get(get_challenge))
        .route("/v1/challenges/{id}", post(post_answer).layer(DefaultBodyLimit::max(answer_limit)))
        .route("/v1/leases/{lease}/intervals", get(get_intervals))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .with_state(state);
    timelock_service_kit::with_common_layers(api, timeout, counted)
}

pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn parse_body<T: serde::de::DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::BodyTooLarge, rejection.body_text())
        } else {
            ApiError::new(ErrorCode::Malformed, rejection.body_text())
        }
    })?;
    serde_json::from_slice(&body).map_err(|e| ApiError::new(ErrorCode::Malformed, format!("invalid JSON: {e}")))
}

fn chain_unavailable(error: impl std::fmt::Display) -> ApiError {
    tracing::warn!(%error, "chain read failed");
    ApiError::new(ErrorCode::ChainUnavailable, "cannot read the chain right now; retry")
}

async fn registered_worker(state: &AppState, worker: [u8; 32]) -> Result<WorkerInfo, ApiError> {
    let address = Pubkey::new_from_array(worker);
    state
        .chain
        .worker(address)
        .await
        .map_err(chain_unavailable)?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownWorker, format!("no worker account {address}")))
}

#[utoipa::path(post, path = "/v1/heartbeats", summary = "Store a signed heartbeat (202 once committed), with the lease's open challenge",
    request_body = SignedHeartbeat,
    responses(
        (status = 202, description = "verified and durably stored", body = HeartbeatAccepted),
        (status = 400, description = "not JSON or not a heartbeat", body = ErrorBody),
        (status = 401, description = "not signed by the worker's device key", body = ErrorBody),
        (status = 404, description = "unknown worker or lease", body = ErrorBody),
        (status = 409, description = "a replayed sequence", body = ErrorBody),
        (status = 413, description = "body over the limit", body = ErrorBody),
        (status = 422, description = "outside the clock skew or the lease", body = ErrorBody),
        (status = 429, description = "overloaded; retry", body = ErrorBody),
        (status = 503, description = "storage or chain unavailable; retry", body = ErrorBody)))]
pub async fn post_heartbeat(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let now = unix_now();
    let signed: SignedHeartbeat = parse_body(body)?;
    let beat = &signed.heartbeat;
    if i64::try_from(beat.sequence).is_err() {
        return Err(ApiError::new(ErrorCode::Malformed, "sequence must be below 2^63"));
    }
    let skew = state.config.max_clock_skew_secs;
    if beat.timestamp < now - skew {
        return Err(ApiError::new(
            ErrorCode::TooOld,
            format!("timestamp {} is more than {skew} s behind the oracle's clock ({now})", beat.timestamp),
        ));
    }
    if beat.timestamp > now + skew {
        return Err(ApiError::new(
            ErrorCode::TooNew,
            format!("timestamp {} is more than {skew} s ahead of the oracle's clock ({now})", beat.timestamp),
        ));
    }
    let worker = registered_worker(&state, beat.worker).await?;
    let lease_address = Pubkey::new_from_array(beat.lease);
    let mut lease = state.chain.lease(lease_address, false).await.map_err(chain_unavailable)?;
    if lease.is_some_and(|l| now > l.end_ts) {
        // The cached span may predate an extension.
        lease = state.chain.lease(lease_address, true).await.map_err(chain_unavailable)?;
    }
    let lease =
        lease.ok_or_else(|| ApiError::new(ErrorCode::UnknownLease, format!("no lease account {lease_address}")))?;
    if lease.worker.to_bytes() != beat.worker {
        return Err(ApiError::new(
            ErrorCode::UnknownLease,
            format!("lease {lease_address} belongs to worker {}, not this one", lease.worker),
        ));
    }
    // The oracle's clock decides, as it does for the judgement.
    if now < lease.start_ts || now > lease.end_ts {
        return Err(ApiError::new(
            ErrorCode::LeaseNotActive,
            format!("lease {lease_address} runs from {} to {}, not now ({now})", lease.start_ts, lease.end_ts),
        ));
    }

    let (sequence, worker_key, lease_key) = (beat.sequence, beat.worker, beat.lease);
    let (reply, answer) = oneshot::channel();
    let pending = Pending { heartbeat: signed, device_key: worker.device_key, received_at: now, reply };
    if let Err(error) = state.queue.try_send(pending) {
        return Err(match error {
            mpsc::error::TrySendError::Full(_) => {
                state.overloaded.fetch_add(1, Ordering::Relaxed);
                ApiError::new(ErrorCode::Overloaded, "too many heartbeats queued; retry shortly")
            }
            mpsc::error::TrySendError::Closed(_) => {
                ApiError::new(ErrorCode::ShuttingDown, "the oracle is shutting down")
            }
        });
    }
    match answer.await {
        Ok(Ok(())) => {
            // Verified and stored: the worker itself is asking, so a due challenge goes out now.
            let challenge = due_challenge(&state, worker_key, lease_key).await;
            let body = HeartbeatAccepted {
                accepted: true,
                sequence,
                oracle: state.identity,
                open_challenge: challenge.map(open_challenge),
            };
            Ok((StatusCode::ACCEPTED, Json(body)).into_response())
        }
        Ok(Err(Refusal::BadSignature)) => {
            Err(ApiError::new(ErrorCode::BadSignature, "signature does not match the worker's registered device key"))
        }
        Ok(Err(Refusal::Replay { last })) => Err(ApiError::new(
            ErrorCode::Replay,
            format!("sequence {sequence} is not above the last accepted sequence {last}"),
        )),
        Ok(Err(Refusal::Storage)) | Err(_) => Err(ApiError::new(ErrorCode::StorageUnavailable, "not stored; retry")),
    }
}

fn parse_key(text: &str) -> Result<[u8; 32], ApiError> {
    text.parse::<Pubkey>()
        .map(|k| k.to_bytes())
        .map_err(|_| ApiError::new(ErrorCode::Malformed, format!("{text:?} is not a base58 public key")))
}

/// The lease's open challenge for a heartbeat just stored, issuing one when due; `None` on a database failure
/// (the heartbeat is stored; the challenge goes out with a later one).
async fn due_challenge(state: &AppState, worker: [u8; 32], lease: [u8; 32]) -> Option<ChallengeRecord> {
    let now = unix_now();
    if let Some(known) = state.schedule.known(&lease, now) {
        return known;
    }
    let c = &state.config;
    let (every, timeout, size) = (c.challenge_every_secs, c.challenge_timeout_secs, c.challenge_size);
    match state.store.challenge_for_heartbeat(&state.identity, &worker, &lease, now, every, timeout, size).await {
        Ok((open, next_due)) => {
            state.schedule.remember(lease, open.clone(), next_due);
            open
        }
        Err(error) => {
            tracing::warn!(%error, "issuing a challenge");
            None
        }
    }
}

fn open_challenge(record: ChallengeRecord) -> OpenChallenge {
    OpenChallenge { challenge: record.challenge, issued_at: record.issued_at, deadline: record.deadline }
}

/// A worker's signed request for its open challenge.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FetchProof {
    /// When the worker signed the request (Unix seconds; within the oracle's clock skew).
    timestamp: i64,
    /// The device key's signature of the fetch domain, the worker, this oracle and the timestamp.
    #[param(pattern = "^[0-9a-fA-F]{128}$")]
    signature: String,
}

/// The worker's open challenge from this oracle (204 when none): only for the worker itself, by a request
/// it signed for this oracle within the allowed clock skew. Reading issues nothing and starts no clock.
#[utoipa::path(get, path = "/v1/workers/{worker}/challenge", summary = "The worker's open challenge, read by the worker itself (signed)",
    params(("worker" = String, Path, description = "the worker account (base58)", format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"), FetchProof),
    responses(
        (status = 200, description = "the open challenge", body = OpenChallenge),
        (status = 204, description = "none open"),
        (status = 400, description = "an unsigned or malformed request", body = ErrorBody),
        (status = 401, description = "not signed by the worker for this oracle", body = ErrorBody),
        (status = 404, description = "unknown worker", body = ErrorBody),
        (status = 422, description = "signed outside the clock skew", body = ErrorBody),
        (status = 503, description = "chain unavailable; retry", body = ErrorBody)))]
pub async fn get_challenge(
    State(state): State<Arc<AppState>>,
    Path(worker): Path<String>,
    proof: Result<Query<FetchProof>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let worker = parse_key(&worker)?;
    let Query(proof) = proof.map_err(|_| {
        ApiError::new(ErrorCode::Malformed, "sign the request: ?timestamp=<unix seconds>&signature=<128 hex digits>")
    })?;
    let signature = timelock_protocol::signature_from_hex(&proof.signature)
        .ok_or_else(|| ApiError::new(ErrorCode::Malformed, "signature must be 128 hex digits"))?;
    let now = unix_now();
    let skew = state.config.max_clock_skew_secs;
    // abs_diff: a timestamp near i64::MIN must be refused, not overflow.
    if proof.timestamp.abs_diff(now) > skew.unsigned_abs() {
        return Err(ApiError::new(
            ErrorCode::TooOld,
            format!("request signed at {}, more than {skew} s from the oracle's clock ({now})", proof.timestamp),
        ));
    }
    let info = registered_worker(&state, worker).await?;
    challenge::verify_fetch(&worker, &state.identity, proof.timestamp, &signature, &info.device_key).map_err(|_| {
        ApiError::new(ErrorCode::BadSignature, "request not signed by the worker's device key for this oracle")
    })?;
    let open = state
        .store
        .open_challenge(&state.identity, &worker, now)
        .await
        .map_err(|e| ApiError::internal("reading challenges", e))?;
    Ok(match open {
        Some(record) => Json(open_challenge(record)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

#[utoipa::path(post, path = "/v1/challenges/{id}", summary = "Answer a challenge (once), judged at once",
    params(("id" = u64, Path, description = "the challenge's id", maximum = 9_223_372_036_854_775_807_u64)),
    request_body = SignedAnswer,
    responses(
        (status = 200, description = "judged", body = AnswerJudged),
        (status = 400, description = "not JSON or not an answer", body = ErrorBody),
        (status = 401, description = "not signed by the worker's device key for this challenge", body = ErrorBody),
        (status = 404, description = "no such challenge for this worker", body = ErrorBody),
        (status = 409, description = "already answered", body = ErrorBody),
        (status = 413, description = "body over the limit", body = ErrorBody),
        (status = 422, description = "expired, or the body's id is not the URL's", body = ErrorBody),
        (status = 503, description = "chain unavailable; retry", body = ErrorBody)))]
pub async fn post_answer(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let now = unix_now();
    let id: i64 =
        id.parse().map_err(|_| ApiError::new(ErrorCode::Malformed, format!("{id:?} is not a challenge id")))?;
    let signed: SignedAnswer = parse_body(body)?;
    if signed.answer.id != id as u64 {
        return Err(ApiError::new(ErrorCode::IdMismatch, "the answer's id differs from the URL's"));
    }
    let record = state
        .store
        .challenge(&state.identity, id)
        .await
        .map_err(|e| ApiError::internal("reading challenges", e))?
        .filter(|r| r.worker == signed.worker)
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownChallenge, format!("no challenge {id} for this worker")))?;
    let worker = registered_worker(&state, record.worker).await?;
    // Signed for this oracle's challenge: an answer given to another oracle (one that reused this id) fails here.
    signed.verify(&record.challenge, &worker.device_key).map_err(|_| {
        ApiError::new(ErrorCode::BadSignature, "answer not signed by the worker's device key for this challenge")
    })?;
    if record.answered {
        return Err(ApiError::new(ErrorCode::AlreadyAnswered, format!("challenge {id} has an answer")));
    }
    if now > record.deadline {
        return Err(ApiError::new(
            ErrorCode::TooOld,
            format!("challenge {id} expired at {} and counts as failed", record.deadline),
        ));
    }
    let max_micros = state.config.challenge_max_micros(&worker.gpu_model);
    let reported_micros = signed.answer.duration_micros;
    let verifier_seed: [u8; 32] = rand::random();
    let (issued_at, lease) = (record.issued_at, record.lease);
    let mut verdict = tokio::task::spawn_blocking(move || {
        challenge::verify(&record.challenge, &signed.answer, &verifier_seed, 4, max_micros)
    })
    .await
    .map_err(|e| ApiError::internal("verifying an answer", e))?;
    // The agent's own timing is a claim; the oracle's clock from issue to answer (whole seconds, with slack for
    // the network) bounds it.
    if verdict == ChallengeVerdict::Passed && now - issued_at > (max_micros / 1_000_000) as i64 + ANSWER_SLACK_SECS {
        verdict = ChallengeVerdict::TooSlow;
    }
    let recorded = state
        .store
        .record_answer(id, now, reported_micros, verdict)
        .await
        .map_err(|e| ApiError::internal("recording an answer", e))?;
    state.schedule.answered(&lease);
    if !recorded {
        return Err(ApiError::new(ErrorCode::AlreadyAnswered, format!("challenge {id} has an answer")));
    }
    tracing::info!(challenge = id, ?verdict, "challenge answered");
    let label = format!("verdict=\"{verdict:?}\"");
    state
        .metrics
        .counter("oracle_challenge_verdicts_total", "Challenge answers judged, by verdict.", &label)
        .fetch_add(1, Ordering::Relaxed);
    Ok(Json(AnswerJudged { id: id as u64, verdict }).into_response())
}

/// Which page of a lease's intervals.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IntervalPage {
    /// Intervals that start at or after this time (Unix seconds, the oracle's clock); 0 by default.
    #[serde(default)]
    from: i64,
    /// Most intervals to return, 1 to 1,000 (500 by default).
    #[serde(default = "default_interval_limit")]
    #[param(minimum = 1, maximum = 1000)]
    limit: i64,
}

fn default_interval_limit() -> i64 {
    500
}

/// One judged interval `[start, end)` and why it was or was not paid.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct JudgedInterval {
    pub start: i64,
    pub end: i64,
    #[serde(flatten)]
    pub reason: Reason,
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LeaseIntervals {
    /// The lease (base58).
    pub lease: String,
    /// This oracle's signing key (base58): whose verdicts these are.
    pub oracle: String,
    pub intervals: Vec<JudgedInterval>,
    /// `from` of the next page, absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// This oracle's verdict on each judged interval of the lease, with its reason: proven, missed, excused (the
/// oracle itself was down), a foreign process (with its container and image), a missing or mismatched GPU, a
/// failed challenge. Kept after the heartbeats behind them are dropped.
#[utoipa::path(get, path = "/v1/leases/{lease}/intervals", summary = "Why each interval of a lease was or was not paid",
    params(("lease" = String, Path, description = "the lease account (base58)", format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"), IntervalPage),
    responses(
        (status = 200, description = "the judged intervals, oldest first (none yet for a lease not judged)", body = LeaseIntervals),
        (status = 400, description = "a malformed lease or page", body = ErrorBody),
        (status = 503, description = "database unavailable; retry", body = ErrorBody)))]
pub async fn get_intervals(
    State(state): State<Arc<AppState>>,
    Path(lease): Path<String>,
    page: Result<Query<IntervalPage>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<LeaseIntervals>, ApiError> {
    let lease_key = parse_key(&lease)?;
    let Query(page) = page.map_err(|e| ApiError::new(ErrorCode::Malformed, e.body_text()))?;
    if !(1..=1000).contains(&page.limit) {
        return Err(ApiError::new(ErrorCode::Malformed, "limit must be between 1 and 1000"));
    }
    let rows = state
        .store
        .intervals(&state.identity, &lease_key, page.from, page.limit + 1)
        .await
        .map_err(|e| ApiError::internal("reading intervals", e))?;
    let more = rows.len() as i64 > page.limit;
    let intervals: Vec<JudgedInterval> = rows
        .into_iter()
        .take(page.limit as usize)
        .map(|(start, step, reason)| JudgedInterval { start, end: start.saturating_add(step), reason })
        .collect();
    let next = if more { intervals.last().map(|i| i.start.saturating_add(1)) } else { None };
    Ok(Json(LeaseIntervals {
        lease: Pubkey::new_from_array(lease_key).to_string(),
        oracle: Pubkey::new_from_array(state.identity).to_string(),
        intervals,
        next,
    }))
}

#[utoipa::path(get, path = "/health", summary = "The process and its database answer", responses((status = 200, description = "OK", body = Health), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    timelock_service_kit::health(&state.store.pool).await
}

/// Doing its job: the database answers and the attestation rounds keep succeeding (`/health` only says the
/// process answers).
#[utoipa::path(get, path = "/ready", summary = "Doing its job: the database answers and the attestation rounds keep succeeding", responses((status = 200, description = "ready", body = Health), (status = 503, description = "not ready, and why", body = ErrorBody)))]
pub async fn ready(State(state): State<Arc<AppState>>) -> Response {
    // An outage of its own still open (the chain node or the database failing) is a stall `Outages` reports.
    state.readiness.respond(&state.store.pool).await
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let queued = state.queue.max_capacity() - state.queue.capacity();
    state
        .metrics
        .gauge("oracle_queue_depth", "Heartbeats waiting for the writer.", "")
        .store(queued as u64, Ordering::Relaxed);
    ([("content-type", "text/plain; version=0.0.4")], state.metrics.render())
}
