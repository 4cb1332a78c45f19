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
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use timelock_protocol::challenge::{
    self, AnswerJudged, Challenge, ChallengeVerdict, CommitmentTaken, OpenChallenge, Probe, SignedCommitment,
    SignedOpening,
};
use timelock_protocol::policy::Reason;
use timelock_protocol::{HeartbeatAccepted, SignedHeartbeat, VerifyError};
use timelock_service_kit::{ApiError, ErrorBody, ErrorCode, Health, Metrics, Readiness};
use tokio::sync::{mpsc, oneshot};

use crate::chain::{Chain, LeaseInfo, WorkerInfo};
use crate::config::Config;
use crate::ingest::{EncodedHeartbeat, Pending, Refusal};
use crate::store::{ChallengeRecord, Store};

/// Per lease, what the store last said of its challenges: the open one and when the next is due. Every
/// heartbeat asks; the database is asked only when a challenge is due or the open one has expired.
pub struct ChallengeSchedule {
    leases: std::sync::Mutex<std::collections::HashMap<[u8; 32], Scheduled>>,
    /// Leases remembered at most (they come from verified heartbeats, so from real leases; forgetting costs a
    /// query).
    capacity: usize,
}

/// A lease's open challenge (if any) and when its next one is due.
type Scheduled = (Option<ChallengeRecord>, i64);

impl ChallengeSchedule {
    fn new(capacity: usize) -> Self {
        ChallengeSchedule { leases: Default::default(), capacity: capacity.max(1) }
    }

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
        if leases.len() >= self.capacity && !leases.contains_key(&lease) {
            leases.clear();
        }
        leases.insert(lease, (open, next_due));
    }

    /// Whatever was known of the lease: the next heartbeat asks the database (a complaint may make a challenge due).
    pub(crate) fn forget(&self, lease: &[u8; 32]) {
        self.leases.lock().expect("schedule lock").remove(lease);
    }

    /// The lease's open challenge was answered.
    fn answered(&self, lease: &[u8; 32]) {
        if let Some((open, _)) = self.leases.lock().expect("schedule lock").get_mut(lease) {
            *open = None;
        }
    }
}

/// This oracle's place in the oracle set, learnt by the attestation rounds. New challenges go out only in the
/// heartbeat intervals of its index, so that one worker gets at most one oracle's new challenge per interval: the
/// agent computes one product at a time, and every oracle's commitment clock runs from its own issue. While the
/// place is unknown (no round yet), any interval is this oracle's.
#[derive(Default)]
pub struct Turns {
    index: AtomicU64,
    count: AtomicU64,
}

impl Turns {
    pub fn learn(&self, index: usize, count: usize) {
        self.index.store(index as u64, Ordering::Relaxed);
        self.count.store(count as u64, Ordering::Relaxed);
    }

    /// Whether the interval holding `now` is this oracle's to issue new challenges in.
    pub fn mine(&self, now: i64, interval_secs: i64) -> bool {
        let count = self.count.load(Ordering::Relaxed);
        count == 0 || now.div_euclid(interval_secs.max(1)) as u64 % count == self.index.load(Ordering::Relaxed)
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
    pub(crate) schedule: ChallengeSchedule,
    pub turns: Arc<Turns>,
    overloaded: Arc<AtomicU64>,
    /// `identity` in base58, as every 202 names it (encoded once, not per heartbeat).
    identity_text: String,
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
        let schedule = ChallengeSchedule::new(config.cache_entries);
        let turns = Arc::default();
        let identity_text = Pubkey::new_from_array(identity).to_string();
        AppState {
            config,
            identity,
            chain,
            store,
            queue,
            metrics,
            readiness,
            schedule,
            turns,
            overloaded,
            identity_text,
        }
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    let opening_limit = state.config.max_opening_bytes();
    let body_limit = state.config.max_body_bytes;
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let counted = state.metrics.clone();
    let api = Router::new()
        .route("/v1/heartbeats", post(post_heartbeat).layer(DefaultBodyLimit::max(body_limit)))
        .route("/v1/workers/{worker}/challenge", get(get_challenge))
        .route("/v1/challenges/{id}/commitment", post(post_commitment))
        .route("/v1/challenges/{id}/opening", post(post_opening).layer(DefaultBodyLimit::max(opening_limit)))
        .route("/v1/leases/{lease}/intervals", get(get_intervals))
        .route("/v1/renter-reports", post(crate::renter::post_renter_report).layer(DefaultBodyLimit::max(body_limit)))
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

fn unix_now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
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

/// A sender's clock must be within the configured skew of the oracle's.
pub(crate) fn within_skew(state: &AppState, timestamp: i64, now: i64) -> Result<(), ApiError> {
    let skew = state.config.max_clock_skew_secs;
    if timestamp < now - skew {
        return Err(ApiError::new(
            ErrorCode::TooOld,
            format!("timestamp {timestamp} is more than {skew} s behind the oracle's clock ({now})"),
        ));
    }
    if timestamp > now + skew {
        return Err(ApiError::new(
            ErrorCode::TooNew,
            format!("timestamp {timestamp} is more than {skew} s ahead of the oracle's clock ({now})"),
        ));
    }
    Ok(())
}

/// The lease, running now by the oracle's clock (as the judgement counts it).
pub(crate) async fn active_lease(state: &AppState, address: Pubkey, now: i64) -> Result<LeaseInfo, ApiError> {
    let mut lease = state.chain.lease(address, false).await.map_err(chain_unavailable)?;
    if lease.is_some_and(|l| now > l.end_ts) {
        // The cached span may predate an extension.
        lease = state.chain.lease(address, true).await.map_err(chain_unavailable)?;
    }
    let lease = lease.ok_or_else(|| ApiError::new(ErrorCode::UnknownLease, format!("no lease account {address}")))?;
    if now < lease.start_ts || now > lease.end_ts {
        return Err(ApiError::new(
            ErrorCode::LeaseNotActive,
            format!("lease {address} runs from {} to {}, not now ({now})", lease.start_ts, lease.end_ts),
        ));
    }
    Ok(lease)
}

pub(crate) async fn registered_worker(state: &AppState, worker: [u8; 32]) -> Result<WorkerInfo, ApiError> {
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
    within_skew(&state, beat.timestamp, now)?;
    let worker = registered_worker(&state, beat.worker).await?;
    let lease_address = Pubkey::new_from_array(beat.lease);
    let lease = active_lease(&state, lease_address, now).await?;
    if lease.worker.to_bytes() != beat.worker {
        return Err(ApiError::new(
            ErrorCode::UnknownLease,
            format!("lease {lease_address} belongs to worker {}, not this one", lease.worker),
        ));
    }

    let (sequence, worker_key, lease_key) = (beat.sequence, beat.worker, beat.lease);
    let (reply, answer) = oneshot::channel();
    // Encoded here, once: the decoded heartbeat is dropped on this thread, and the writer only verifies and stores.
    let heartbeat = EncodedHeartbeat::new(&signed);
    drop(signed);
    let pending = Pending { heartbeat, device_key: worker.verifying_key, received_at: now, reply };
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
            let challenge = due_challenge(&state, &worker, worker_key, lease_key, now).await;
            let open = challenge.map(open_challenge);
            let body = accepted_body(&state.identity, &state.identity_text, sequence, open.as_ref());
            Ok((StatusCode::ACCEPTED, [(header::CONTENT_TYPE, "application/json")], body).into_response())
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

/// The JSON of a [`HeartbeatAccepted`], written directly: the oracle's name (`identity`, `text` in base58) is
/// encoded once at start rather than twice per heartbeat (the open challenge is bound to it too).
fn accepted_body(identity: &[u8; 32], text: &str, sequence: u64, open: Option<&OpenChallenge>) -> Vec<u8> {
    use std::io::Write;
    let mut body = Vec::with_capacity(if open.is_some() { 320 } else { 96 });
    let _ = write!(body, r#"{{"accepted":true,"sequence":{sequence},"oracle":"{text}""#);
    if let Some(OpenChallenge { challenge: c, issued_at, deadline, commit_by_ms }) = open {
        let _ = write!(body, r#","open_challenge":{{"challenge":{{"id":{},"seed":["#, c.id);
        for (i, byte) in c.seed.iter().enumerate() {
            let _ = write!(body, "{}{byte}", if i == 0 { "" } else { "," });
        }
        let other;
        let oracle = if c.oracle == *identity {
            text
        } else {
            other = Pubkey::new_from_array(c.oracle).to_string();
            &other
        };
        let _ = write!(
            body,
            r#"],"size":{},"oracle":"{oracle}"}},"issued_at":{issued_at},"deadline":{deadline},"commit_by_ms":{commit_by_ms}}}"#,
            c.size
        );
    }
    body.push(b'}');
    body
}

fn parse_key(text: &str) -> Result<[u8; 32], ApiError> {
    text.parse::<Pubkey>()
        .map(|k| k.to_bytes())
        .map_err(|_| ApiError::new(ErrorCode::BadAddress, format!("{text:?} is not a base58 public key")))
}

/// The lease's open challenge for a heartbeat just stored, issuing one when due; `None` on a database failure
/// (the heartbeat is stored; the challenge goes out with a later one).
///
/// Whose turn it is is read from when the heartbeat arrived (the oracle's clock, before any queue), never from
/// the agent's stamp: an agent free to stamp within the skew could pick, for each oracle, an interval that is not
/// its turn and never be challenged. Oracles' clocks agree to far less than an interval, and an agent sends its
/// heartbeat to all of them at once.
async fn due_challenge(
    state: &AppState,
    info: &WorkerInfo,
    worker: [u8; 32],
    lease: [u8; 32],
    received_at: i64,
) -> Option<ChallengeRecord> {
    let now_ms = unix_now_ms();
    if let Some(known) = state.schedule.known(&lease, now_ms.div_euclid(1_000)) {
        return known;
    }
    let c = &state.config;
    let (every, timeout) = (c.challenge_every_secs, c.challenge_timeout_secs);
    // Sized to the class the worker claims: a lesser card, or a CPU, cannot commit in the class's time.
    let class = c.challenge_class(&info.gpu_model);
    let mine = state.turns.mine(received_at, c.interval_secs);
    let store = &state.store;
    match store.challenge_for_heartbeat(&state.identity, &worker, &lease, now_ms, every, timeout, class, mine).await {
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
    OpenChallenge {
        challenge: record.challenge,
        issued_at: record.issued_at,
        deadline: record.deadline,
        commit_by_ms: record.commit_by_ms,
    }
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

fn challenge_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id >= 0)
        .ok_or_else(|| ApiError::new(ErrorCode::Malformed, format!("{text:?} is not a challenge id")))
}

/// A worker's signed message about one of this oracle's challenges.
trait ChallengeMessage: serde::de::DeserializeOwned {
    const NAME: &'static str;
    fn id(&self) -> u64;
    fn worker(&self) -> [u8; 32];
    fn verify(&self, challenge: &Challenge, device_key: &[u8; 32]) -> Result<(), VerifyError>;
}

impl ChallengeMessage for SignedCommitment {
    const NAME: &'static str = "commitment";
    fn id(&self) -> u64 {
        self.commitment.id
    }
    fn worker(&self) -> [u8; 32] {
        self.worker
    }
    fn verify(&self, challenge: &Challenge, device_key: &[u8; 32]) -> Result<(), VerifyError> {
        SignedCommitment::verify(self, challenge, device_key)
    }
}

impl ChallengeMessage for SignedOpening {
    const NAME: &'static str = "opening";
    fn id(&self) -> u64 {
        self.opening.id
    }
    fn worker(&self) -> [u8; 32] {
        self.worker
    }
    fn verify(&self, challenge: &Challenge, device_key: &[u8; 32]) -> Result<(), VerifyError> {
        SignedOpening::verify(self, challenge, device_key)
    }
}

/// Reads a worker's message about challenge `id` (the URL's): the body names the same id, the challenge is this
/// oracle's and was issued to that worker, it has no verdict yet, and the worker's device key signed the message
/// for it (a message given to another oracle that reused the id fails here).
async fn unjudged_challenge<M: ChallengeMessage>(
    state: &AppState,
    id: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<(i64, M, ChallengeRecord), ApiError> {
    let id = challenge_id(id)?;
    let signed: M = parse_body(body)?;
    if signed.id() != id as u64 {
        return Err(ApiError::new(ErrorCode::IdMismatch, format!("the {}'s id differs from the URL's", M::NAME)));
    }
    let record = state
        .store
        .challenge(&state.identity, id)
        .await
        .map_err(|e| ApiError::internal("reading challenges", e))?
        .filter(|r| r.worker == signed.worker())
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownChallenge, format!("no challenge {id} for this worker")))?;
    let worker = registered_worker(state, record.worker).await?;
    signed.verify(&record.challenge, &worker.device_key).map_err(|_| {
        let message = format!("{} not signed by the worker's device key for this challenge", M::NAME);
        ApiError::new(ErrorCode::BadSignature, message)
    })?;
    if record.answered {
        return Err(ApiError::new(ErrorCode::AlreadyAnswered, format!("challenge {id} has an answer")));
    }
    Ok((id, signed, record))
}

/// Records a verdict once, and counts it.
async fn judge_challenge(
    state: &AppState,
    record: &ChallengeRecord,
    now: i64,
    duration_micros: u64,
    verdict: ChallengeVerdict,
) -> Result<(), ApiError> {
    let id = record.challenge.id as i64;
    let recorded = state
        .store
        .record_answer(id, now, duration_micros, verdict)
        .await
        .map_err(|e| ApiError::internal("recording a verdict", e))?;
    state.schedule.answered(&record.lease);
    if !recorded {
        return Err(ApiError::new(ErrorCode::AlreadyAnswered, format!("challenge {id} has an answer")));
    }
    tracing::info!(challenge = id, ?verdict, "challenge judged");
    let label = format!("verdict=\"{verdict:?}\"");
    state
        .metrics
        .counter("oracle_challenge_verdicts_total", "Challenge answers judged, by verdict.", &label)
        .fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// The agent commits to its product (the Merkle root of its rows). In time for the worker's GPU class, the
/// oracle answers with a probe drawn only now (what to open); too late, with the verdict `TooSlow`.
#[utoipa::path(post, path = "/v1/challenges/{id}/commitment", summary = "Commit to a challenge's product (once), in time for the GPU class",
    params(("id" = u64, Path, description = "the challenge's id", maximum = 9_223_372_036_854_775_807_u64)),
    request_body = SignedCommitment,
    responses(
        (status = 200, description = "the probe to open, or the verdict when too late", body = CommitmentTaken),
        (status = 400, description = "not JSON or not a commitment", body = ErrorBody),
        (status = 401, description = "not signed by the worker's device key for this challenge", body = ErrorBody),
        (status = 404, description = "no such challenge for this worker", body = ErrorBody),
        (status = 409, description = "already committed or judged", body = ErrorBody),
        (status = 413, description = "body over the limit", body = ErrorBody),
        (status = 422, description = "expired, or the body's id is not the URL's", body = ErrorBody),
        (status = 503, description = "chain unavailable; retry", body = ErrorBody)))]
pub async fn post_commitment(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CommitmentTaken>, ApiError> {
    let now_ms = unix_now_ms();
    let now = now_ms.div_euclid(1_000);
    let (id, signed, record) = unjudged_challenge::<SignedCommitment>(&state, &id, body).await?;
    if record.root.is_some() {
        return Err(ApiError::new(ErrorCode::AlreadyAnswered, format!("challenge {id} has a commitment")));
    }
    if now > record.deadline {
        return Err(ApiError::new(
            ErrorCode::TooOld,
            format!("challenge {id} expired at {} and counts as failed", record.deadline),
        ));
    }
    // The oracle's clock from issue decides; the agent's own timing is informative only.
    if now_ms > record.commit_by_ms {
        judge_challenge(&state, &record, now, signed.commitment.duration_micros, ChallengeVerdict::TooSlow).await?;
        return Ok(Json(CommitmentTaken { id: id as u64, probe: None, verdict: Some(ChallengeVerdict::TooSlow) }));
    }
    let probe = Probe {
        id: id as u64,
        seed: rand::random(),
        rows: state.config.challenge_rows,
        open_by: now + state.config.challenge_open_secs,
    };
    let taken = state
        .store
        .record_commitment(id, now_ms, &signed.commitment.root, &probe)
        .await
        .map_err(|e| ApiError::internal("recording a commitment", e))?;
    if !taken {
        return Err(ApiError::new(ErrorCode::AlreadyAnswered, format!("challenge {id} has a commitment")));
    }
    Ok(Json(CommitmentTaken { id: id as u64, probe: Some(probe), verdict: None }))
}

/// The agent opens what the probe named: C·r and the probed rows with their proofs. Judged at once.
#[utoipa::path(post, path = "/v1/challenges/{id}/opening", summary = "Open a committed product where the probe says, judged at once",
    params(("id" = u64, Path, description = "the challenge's id", maximum = 9_223_372_036_854_775_807_u64)),
    request_body = SignedOpening,
    responses(
        (status = 200, description = "judged", body = AnswerJudged),
        (status = 400, description = "not JSON or not an opening", body = ErrorBody),
        (status = 401, description = "not signed by the worker's device key for this challenge", body = ErrorBody),
        (status = 404, description = "no such challenge for this worker", body = ErrorBody),
        (status = 409, description = "already judged, or not committed yet", body = ErrorBody),
        (status = 413, description = "body over the limit", body = ErrorBody),
        (status = 422, description = "the body's id is not the URL's", body = ErrorBody),
        (status = 503, description = "chain unavailable; retry", body = ErrorBody)))]
pub async fn post_opening(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AnswerJudged>, ApiError> {
    let now = unix_now();
    let (id, signed, record) = unjudged_challenge::<SignedOpening>(&state, &id, body).await?;
    let (Some(root), Some(probe)) = (record.root, record.probe.clone()) else {
        return Err(ApiError::new(ErrorCode::NotCommitted, format!("challenge {id} has no commitment to open")));
    };
    let claimed = state.store.claim_opening(id, now).await.map_err(|e| ApiError::internal("taking an opening", e))?;
    if !claimed {
        return Err(ApiError::new(ErrorCode::AlreadyAnswered, format!("challenge {id} has an opening being judged")));
    }
    let verdict = if now > probe.open_by {
        ChallengeVerdict::TooSlow
    } else {
        let challenge = record.challenge.clone();
        tokio::task::spawn_blocking(move || challenge::verify_opening(&challenge, &root, &probe, &signed.opening))
            .await
            .map_err(|e| ApiError::internal("verifying an opening", e))?
    };
    judge_challenge(&state, &record, now, 0, verdict).await?;
    Ok(Json(AnswerJudged { id: id as u64, verdict }))
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
/// oracle itself was down), a foreign process (with its container and image), the renter's own dropped image, a
/// missing or mismatched GPU, a failed challenge, the renter's unanswered complaint. Kept after the heartbeats
/// behind them are dropped.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_202_body_is_what_serde_writes() {
        let identity = [7u8; 32];
        let text = Pubkey::new_from_array(identity).to_string();
        let challenge = |oracle| OpenChallenge {
            challenge: Challenge { id: 42, seed: std::array::from_fn(|i| (i * 9) as u8), size: 24, oracle },
            issued_at: 1_700_000_000,
            deadline: -3,
            commit_by_ms: i64::MAX,
        };
        for open in [None, Some(challenge(identity)), Some(challenge([200; 32]))] {
            let expected =
                HeartbeatAccepted { accepted: true, sequence: u64::MAX, oracle: identity, open_challenge: open };
            let written = accepted_body(&identity, &text, u64::MAX, expected.open_challenge.as_ref());
            let value: serde_json::Value = serde_json::from_slice(&written).unwrap();
            assert_eq!(value, serde_json::to_value(&expected).unwrap());
            assert_eq!(serde_json::from_slice::<HeartbeatAccepted>(&written).unwrap(), expected);
        }
    }
}
