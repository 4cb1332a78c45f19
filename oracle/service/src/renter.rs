//! The renter's voice (`timelock_protocol::renter`): `POST /v1/renter-reports` takes a report from a probe in the
//! renter's container, granted by the cluster's renter; a report whose GPUs are not the worker's registered ones
//! is a complaint, which makes the worker's next heartbeat in this oracle's turn bring a challenge. The policy weighs complaints
//! (`policy::Evidence::renter`).

use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use timelock::state::Gpu;
use timelock_protocol::policy::RenterSight;
use timelock_protocol::renter::{RenterReportAccepted, SignedReport, MAX_REPORTED_GPUS};
use timelock_service_kit::{ApiError, ErrorBody, ErrorCode};

use crate::api::{active_lease, parse_body, registered_worker, unix_now, within_skew, AppState};
use crate::store::{Key, Store};

/// What became of a renter report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    New,
    /// This (lease, probe, sequence) was stored before.
    Again,
    /// The lease had a report less than an interval ago: one per interval is all the policy reads.
    TooSoon,
}

impl Store {
    /// Stores a report once per (lease, probe, sequence), and at most one per lease every `every_secs`.
    pub async fn record_renter_report(
        &self,
        signed: &SignedReport,
        received_at: i64,
        agrees: bool,
        every_secs: i64,
    ) -> sqlx::Result<Stored> {
        let report = &signed.report;
        // One lease's reports are taken one at a time, so that concurrent copies cannot slip past the rate.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(encode($1, 'hex'), 1))")
            .bind(&report.lease[..])
            .execute(&mut *tx)
            .await?;
        let (again, recent): (bool, bool) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM oracle.renter_reports WHERE lease = $1 AND probe = $2 AND sequence = $3), \
                 EXISTS (SELECT 1 FROM oracle.renter_reports WHERE lease = $1 AND received_at > $4)",
        )
        .bind(&report.lease[..])
        .bind(&signed.grant.grant.probe[..])
        .bind(report.sequence as i64)
        .bind(received_at - every_secs)
        .fetch_one(&mut *tx)
        .await?;
        if again {
            return Ok(Stored::Again);
        }
        if recent {
            return Ok(Stored::TooSoon);
        }
        let stored = sqlx::query(
            "INSERT INTO oracle.renter_reports (lease, probe, sequence, received_at, agrees, gpus, matmul_size, \
                 matmul_ms, report) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(&report.lease[..])
        .bind(&signed.grant.grant.probe[..])
        .bind(report.sequence as i64)
        .bind(received_at)
        .bind(agrees)
        .bind(report.gpus.len() as i32)
        .bind(report.matmul_size as i32)
        .bind(report.matmul_ms as i32)
        .bind(serde_json::to_value(signed).expect("reports serialize"))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(if stored.rows_affected() == 1 { Stored::New } else { Stored::Again })
    }

    /// The lease's renter reports received in `[from, to)`, by time.
    pub async fn renter_sights(&self, lease: &Key, from: i64, to: i64) -> sqlx::Result<Vec<RenterSight>> {
        let rows: Vec<(i64, bool, i32)> = sqlx::query_as(
            "SELECT received_at, agrees, gpus FROM oracle.renter_reports \
             WHERE lease = $1 AND received_at >= $2 AND received_at < $3 ORDER BY received_at",
        )
        .bind(&lease[..])
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(received_at, agrees, gpus)| RenterSight { received_at, agrees, gpus: gpus as usize })
            .collect())
    }
}

#[utoipa::path(post, path = "/v1/renter-reports", summary = "Store a renter probe's report of the GPUs it sees (202)",
    request_body = SignedReport,
    responses(
        (status = 202, description = "verified and stored; `agrees` says whether the GPUs are the registered ones", body = RenterReportAccepted),
        (status = 400, description = "not JSON or not a report", body = ErrorBody),
        (status = 401, description = "not granted by the cluster's renter, or not signed by the granted probe", body = ErrorBody),
        (status = 404, description = "unknown lease, or not the grant's", body = ErrorBody),
        (status = 409, description = "already stored", body = ErrorBody),
        (status = 429, description = "another report for the lease within the interval", body = ErrorBody),
        (status = 413, description = "body over the limit", body = ErrorBody),
        (status = 422, description = "outside the clock skew or the lease, or the grant expired", body = ErrorBody),
        (status = 503, description = "storage or chain unavailable; retry", body = ErrorBody)))]
pub async fn post_renter_report(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let now = unix_now();
    let signed: SignedReport = parse_body(body)?;
    let (report, grant) = (&signed.report, &signed.grant.grant);
    if report.gpus.len() > MAX_REPORTED_GPUS {
        return Err(ApiError::new(ErrorCode::Malformed, format!("at most {MAX_REPORTED_GPUS} GPUs")));
    }
    if i64::try_from(report.sequence).is_err() {
        return Err(ApiError::new(ErrorCode::Malformed, "sequence must be below 2^63"));
    }
    within_skew(&state, report.timestamp, now)?;
    if grant.expires_at < now {
        return Err(ApiError::new(ErrorCode::TooOld, format!("the probe's grant expired at {}", grant.expires_at)));
    }
    let lease_address = Pubkey::new_from_array(report.lease);
    if report.lease != grant.lease {
        return Err(ApiError::new(
            ErrorCode::UnknownLease,
            format!("the grant is for another lease than {lease_address}"),
        ));
    }
    let lease = active_lease(&state, lease_address, now).await?;
    signed.verify(&lease.renter.to_bytes()).map_err(|_| {
        ApiError::new(
            ErrorCode::BadSignature,
            "not granted by the cluster's renter, or not signed by the granted probe",
        )
    })?;
    let worker = registered_worker(&state, lease.worker.to_bytes()).await?;
    let agrees = Gpu::set_digest_of_uuids(report.gpus.iter().map(String::as_str)) == worker.gpu_set;
    let every = state.config.interval_secs;
    let stored = state.store.record_renter_report(&signed, now, agrees, every).await.map_err(|error| {
        tracing::warn!(%error, "storing a renter report");
        ApiError::new(ErrorCode::StorageUnavailable, "not stored; retry")
    })?;
    match stored {
        Stored::New => {}
        Stored::Again => {
            return Err(ApiError::new(ErrorCode::Replay, format!("report {} is stored already", report.sequence)));
        }
        Stored::TooSoon => {
            return Err(ApiError::new(
                ErrorCode::TooFrequent,
                format!("one report per lease every {every} s (an interval of the policy)"),
            ));
        }
    }
    if !agrees {
        // The complaint is answered by a challenge at the worker's next heartbeat in this oracle's turn, whatever
        // the schedule said.
        state.schedule.forget(&report.lease);
    }
    Ok((StatusCode::ACCEPTED, Json(RenterReportAccepted { accepted: true, agrees })).into_response())
}
