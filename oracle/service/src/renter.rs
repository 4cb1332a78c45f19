//! The renter's voice (`timelock_protocol::renter`): `POST /v1/renter-reports` takes a report from a probe in the
//! renter's container, granted by the cluster's renter; a report whose GPUs are not the worker's registered ones
//! is a complaint, which makes the worker's next heartbeat bring a challenge. The policy weighs complaints
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

impl Store {
    /// Stores a report once per (lease, probe, sequence); `false` when it was stored before.
    pub async fn record_renter_report(
        &self,
        signed: &SignedReport,
        received_at: i64,
        agrees: bool,
    ) -> sqlx::Result<bool> {
        let report = &signed.report;
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
        .execute(&self.pool)
        .await?;
        Ok(stored.rows_affected() == 1)
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
        (status = 404, description = "unknown lease, or not of the grant's cluster", body = ErrorBody),
        (status = 409, description = "already stored", body = ErrorBody),
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
    let lease = active_lease(&state, lease_address, now).await?;
    if lease.cluster.to_bytes() != grant.cluster {
        return Err(ApiError::new(
            ErrorCode::UnknownLease,
            format!("lease {lease_address} is of cluster {}, not the grant's", lease.cluster),
        ));
    }
    signed.verify(&lease.renter.to_bytes()).map_err(|_| {
        ApiError::new(
            ErrorCode::BadSignature,
            "not granted by the cluster's renter, or not signed by the granted probe",
        )
    })?;
    let worker = registered_worker(&state, lease.worker.to_bytes()).await?;
    let agrees = Gpu::set_digest_of_uuids(report.gpus.iter().map(String::as_str)) == worker.gpu_set;
    let stored = state.store.record_renter_report(&signed, now, agrees).await.map_err(|error| {
        tracing::warn!(%error, "storing a renter report");
        ApiError::new(ErrorCode::StorageUnavailable, "not stored; retry")
    })?;
    if !stored {
        return Err(ApiError::new(ErrorCode::Replay, format!("report {} is stored already", report.sequence)));
    }
    if !agrees {
        // The complaint is answered by a challenge at the worker's next heartbeat, whatever the schedule said.
        state.schedule.forget(&report.lease);
    }
    Ok((StatusCode::ACCEPTED, Json(RenterReportAccepted { accepted: true, agrees })).into_response())
}
