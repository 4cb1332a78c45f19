//! The query API (`/v1`, documented at `/openapi.json`): workers with filters and sorting, suppliers, clusters,
//! leases, payouts and slashes by supplier and time, network stats, and the oracles' verdicts on a lease's
//! intervals (asked of the oracles, not stored). Lists use keyset cursors (`next_cursor`),
//! so a page costs the same however deep it is. Every body is a typed value: an account's view
//! (`timelock_sdk::view`, the same JSON the CLI prints) or a derived row (`crate::rows`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anchor_lang::prelude::Pubkey;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder};
use timelock_sdk::filter::{FilterError, WorkerFilter, WorkerSort, DEFAULT_LIMIT, MAX_LIMIT};
use timelock_sdk::view::{ClusterView, LeaseView, SupplierView, WorkerView};
use timelock_service_kit::{ApiError, ErrorBody, ErrorCode, Health, Metrics, Readiness};

use crate::rows::{Attestation, Payout, Slash};

/// What the API serves of a mirrored account row: the view's columns, without the mirror's own bookkeeping.
const VIEW_OF: &str = "to_jsonb(t) - 'slot' - 'finalized' - 'closed'";

pub mod accounts;
pub mod console;
pub mod history;
pub mod intervals;
pub mod money;

use accounts::*;
use console::*;
use history::*;
use intervals::*;
use money::*;

pub struct ApiState {
    pub pool: PgPool,
    pub metrics: Arc<Metrics>,
    pub readiness: Readiness,
    /// The last network totals and when they were computed (`money::STATS_TTL`).
    pub stats: tokio::sync::Mutex<Option<(std::time::Instant, money::Stats)>>,
    /// The oracles `/v1/leases/{address}/intervals` asks (`oracle_urls`).
    pub oracles: intervals::Oracles,
    /// The web console's files and what it is told (`console_*`).
    pub console: console::Console,
    /// The live workers in memory (`workers_in_memory`), which the worker list and reads are served from.
    pub workers: Option<Arc<crate::worker_model::WorkerModel>>,
}

pub fn router(state: Arc<ApiState>, request_timeout: Duration) -> Router {
    let counted = state.metrics.clone();
    let api = Router::new()
        .route("/v1/workers", get(list_workers))
        .route("/v1/workers/{address}", get(one_worker))
        .route("/v1/suppliers", get(list_suppliers))
        .route("/v1/suppliers/{address}", get(one_supplier))
        .route("/v1/suppliers/{address}/totals", get(supplier_totals))
        .route("/v1/clusters", get(list_clusters))
        .route("/v1/clusters/{address}", get(one_cluster))
        .route("/v1/leases", get(list_leases))
        .route("/v1/leases/{address}", get(one_lease))
        .route("/v1/leases/{address}/attestations", get(lease_attestations))
        .route("/v1/leases/{address}/intervals", get(lease_intervals))
        .route("/v1/payouts", get(list_payouts))
        .route("/v1/slashes", get(list_slashes))
        .route("/v1/stats", get(stats))
        .route("/v1/stats/daily", get(daily_stats))
        .route("/v1/console-config", get(console_config))
        .route("/", get(console_index))
        .route("/assets/{*path}", get(console_asset))
        .route("/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state);
    timelock_service_kit::with_common_layers(api, request_timeout, counted)
}

type ApiResult = Result<Response, ApiError>;

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| ApiError::new(ErrorCode::BadFilter, e.body_text()))
}

fn database(error: impl std::fmt::Display) -> ApiError {
    ApiError::internal("database query failed", error)
}

/// A stored row that does not read back as its type (an unknown enum value, a missing column): a server fault,
/// never a silently defaulted field.
fn corrupt(error: impl std::fmt::Display) -> ApiError {
    ApiError::internal("stored row does not match its type", error)
}

/// An address as stored: base58 text. Text that is not 32 to 44 base58 digits (the documented pattern) is
/// refused; such text that is not 32 bytes is no account's address and simply finds nothing (a 404, or an
/// empty page).
fn address(text: &str) -> Result<String, ApiError> {
    match bs58::decode(text).into_vec() {
        Ok(bytes) if (32..=44).contains(&text.len()) => Ok(match <[u8; 32]>::try_from(bytes) {
            Ok(key) => Pubkey::new_from_array(key).to_string(),
            Err(_) => text.to_string(),
        }),
        _ => Err(ApiError::new(ErrorCode::BadAddress, format!("{text:?} is not a base58 address"))),
    }
}

fn optional_address(text: &Option<String>) -> Result<Option<String>, ApiError> {
    text.as_deref().map(address).transpose()
}

fn limit(requested: Option<u32>) -> Result<i64, ApiError> {
    match requested.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(i64::from(n)),
        n => Err(ApiError::new(ErrorCode::BadFilter, format!("limit must be 1-{MAX_LIMIT}, got {n}"))),
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The order of a list: a column and its SQL type (so a cursor's value is compared as that type and the
/// column's index serves the page), then the row's unique key.
struct Order {
    column: &'static str,
    sql_type: &'static str,
    key: &'static str,
    descending: bool,
}

/// A cursor is the last row's (sort value, key), opaque to clients.
fn encode_cursor(value: &str, key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{value}:{key}"))
}

fn decode_cursor(cursor: &Option<String>) -> Result<Option<(String, String)>, ApiError> {
    let Some(cursor) = cursor else { return Ok(None) };
    let invalid = || ApiError::new(ErrorCode::BadCursor, "cursor is not one this API returned");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (value, key) = text.split_once(':').ok_or_else(invalid)?;
    Ok(Some((value.to_string(), key.to_string())))
}

/// Whether a cursor's value fits the sort column's type (a cursor of another sort, or made up, is refused
/// here rather than failing the cast in the query).
fn fits(value: &str, sql_type: &str) -> bool {
    match sql_type {
        "int4" => value.parse::<i32>().is_ok(),
        "int8" => value.parse::<i64>().is_ok(),
        _ => value.parse::<u64>().is_ok(),
    }
}

/// A page of rows of type `T`: `items` and the cursor of the next page (`null` on the last).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The cursor of the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Runs a list query whose columns are each row's JSON (read back as `T`), its sort value as text (named
/// `cursor_value`: under the column's own name, ORDER BY would sort the text) and its key,
/// and pages it by `order`: the rows with their keys, and the next page's cursor.
async fn page_rows<T: DeserializeOwned>(
    pool: &PgPool,
    mut sql: QueryBuilder<'_, Postgres>,
    order: Order,
    cursor: Option<(String, String)>,
    limit: i64,
) -> Result<(Vec<(T, String)>, Option<String>), ApiError> {
    let Order { column, sql_type, key, descending } = order;
    // Keys compare byte-wise, as the CLI sorts addresses and as the list indexes are built.
    let key = format!("{key} COLLATE \"C\"");
    if let Some((value, after)) = cursor {
        if !fits(&value, sql_type) {
            return Err(ApiError::new(ErrorCode::BadCursor, "cursor is not one of this list and order"));
        }
        sql.push(format!(" AND ({column}, {key}) {} (", if descending { "<" } else { ">" }));
        sql.push_bind(value).push(format!("::{sql_type}, ")).push_bind(after).push(")");
    }
    let direction = if descending { "DESC" } else { "ASC" };
    sql.push(format!(" ORDER BY {column} {direction}, {key} {direction} LIMIT "));
    sql.push_bind(limit + 1);
    let mut rows: Vec<(Value, String, String)> = sql.build_query_as().fetch_all(pool).await.map_err(database)?;
    let next = (rows.len() as i64 > limit).then(|| {
        rows.truncate(limit as usize);
        let (_, value, key) = rows.last().expect("limit ≥ 1");
        encode_cursor(value, key)
    });
    let rows = rows
        .into_iter()
        .map(|(row, _, key)| serde_json::from_value::<T>(row).map(|row| (row, key)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(corrupt)?;
    Ok((rows, next))
}

/// A page of account views.
async fn page<T: DeserializeOwned + Serialize>(
    pool: &PgPool,
    sql: QueryBuilder<'_, Postgres>,
    order: Order,
    cursor: Option<(String, String)>,
    limit: i64,
) -> ApiResult {
    let (rows, next_cursor) = page_rows::<T>(pool, sql, order, cursor, limit).await?;
    Ok(Json(Page { items: rows.into_iter().map(|(row, _)| row).collect(), next_cursor }).into_response())
}

#[utoipa::path(get, path = "/health", summary = "Database reachable", responses((status = 200, description = "OK", body = Health), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn health(State(state): State<Arc<ApiState>>) -> Response {
    timelock_service_kit::health(&state.pool).await
}

#[utoipa::path(get, path = "/ready", summary = "Serving current data: the database answers and ingestion keeps succeeding", responses((status = 200, description = "ready", body = Health), (status = 503, description = "not ready, and why", body = ErrorBody)))]
pub async fn ready(State(state): State<Arc<ApiState>>) -> Response {
    state.readiness.respond(&state.pool).await
}

async fn metrics(State(state): State<Arc<ApiState>>) -> impl IntoResponse {
    ([("content-type", "text/plain; version=0.0.4")], state.metrics.render())
}

/// The list query over a view table: each row's view, its sort value as text, its address; all rows, or only
/// the live (`Some(true)`) or closed (`Some(false)`) ones.
fn view_list(table: &str, column: &str, open: Option<bool>) -> QueryBuilder<'static, Postgres> {
    let which = match open {
        Some(true) => "NOT closed",
        Some(false) => "closed",
        None => "true",
    };
    QueryBuilder::new(format!(
        "SELECT {VIEW_OF}, ({column})::text AS cursor_value, address FROM indexer.{table} t WHERE {which}"
    ))
}

/// A `sum(...)::text` of u64 columns, which may exceed u64.
fn sum_of(text: &str) -> Result<u128, ApiError> {
    text.parse().map_err(|e| ApiError::internal("sum is not an integer", e))
}
