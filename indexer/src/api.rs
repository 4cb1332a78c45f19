//! The query API (`/v1`, documented at `/openapi.json`): workers with filters and sorting, suppliers, clusters,
//! leases, payouts and slashes by supplier and time, network stats. Lists use keyset cursors (`next_cursor`),
//! so a page costs the same however deep it is. Rows are rendered to JSON by Postgres itself.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anchor_lang::prelude::Pubkey;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::{PgPool, Postgres, QueryBuilder};
use timelock_service_kit::{ApiError, Metrics};

pub const MAX_LIMIT: i64 = 500;
/// `timelock::state::Worker::is_bookable` over the mirror's columns: available, not leased, not jailed (a jailed
/// worker stays jailed after its cool-down until `worker_unjail`). The bookable-workers indexes cover its first
/// two terms.
pub const BOOKABLE_SQL: &str = "available AND active_lease IS NULL AND jailed_until = 0";
const DEFAULT_LIMIT: i64 = 50;

pub struct ApiState {
    pub pool: PgPool,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: Arc<ApiState>, request_timeout: Duration) -> Router {
    let api = Router::new()
        .route("/v1/workers", get(list_workers))
        .route("/v1/workers/{address}", get(one_worker))
        .route("/v1/suppliers", get(list_suppliers))
        .route("/v1/suppliers/{address}", get(one_supplier))
        .route("/v1/clusters", get(list_clusters))
        .route("/v1/clusters/{address}", get(one_cluster))
        .route("/v1/leases", get(list_leases))
        .route("/v1/leases/{address}", get(one_lease))
        .route("/v1/payouts", get(list_payouts))
        .route("/v1/slashes", get(list_slashes))
        .route("/v1/stats", get(stats))
        .route("/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(state);
    timelock_service_kit::with_common_layers(api, request_timeout)
}

type ApiResult = Result<Response, ApiError>;

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| ApiError::bad_request("bad_filter", e.body_text()))
}

fn database(error: sqlx::Error) -> ApiError {
    ApiError::internal("database query failed", error)
}

fn address(text: &str) -> Result<String, ApiError> {
    text.parse::<Pubkey>()
        .map(|k| k.to_string())
        .map_err(|_| ApiError::bad_request("bad_address", format!("{text:?} is not a base58 public key")))
}

fn optional_address(text: &Option<String>) -> Result<Option<String>, ApiError> {
    text.as_deref().map(address).transpose()
}

fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    match requested.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        n => Err(ApiError::bad_request("bad_filter", format!("limit must be 1-{MAX_LIMIT}, got {n}"))),
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A cursor is the last row's (sort value, address), opaque to clients.
fn encode_cursor(value: i64, address: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{value}:{address}"))
}

fn decode_cursor(cursor: &Option<String>) -> Result<Option<(i64, String)>, ApiError> {
    let Some(cursor) = cursor else { return Ok(None) };
    let invalid = || ApiError::bad_request("bad_cursor", "cursor is not one this API returned");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (value, address) = text.split_once(':').ok_or_else(invalid)?;
    Ok(Some((value.parse().map_err(|_| invalid())?, address.to_string())))
}

/// Runs a list query whose rows are JSON objects, and pages it by `(sort column, address)`.
async fn page(
    pool: &PgPool,
    sql: QueryBuilder<'_, Postgres>,
    sort_column: &str,
    descending: bool,
    cursor: Option<(i64, String)>,
    limit: i64,
) -> ApiResult {
    keyset_page(pool, sql, sort_column, "address", descending, cursor, limit).await
}

/// As [`page`], with the unique tie-breaking column `key` (also a field of each row's JSON).
async fn keyset_page(
    pool: &PgPool,
    mut sql: QueryBuilder<'_, Postgres>,
    sort_column: &str,
    key: &str,
    descending: bool,
    cursor: Option<(i64, String)>,
    limit: i64,
) -> ApiResult {
    if let Some((value, after)) = cursor {
        sql.push(format!(" AND ({sort_column}, {key}) {} (", if descending { "<" } else { ">" }));
        sql.push_bind(value).push(", ").push_bind(after).push(")");
    }
    let direction = if descending { "DESC" } else { "ASC" };
    sql.push(format!(" ORDER BY {sort_column} {direction}, {key} {direction} LIMIT "));
    sql.push_bind(limit + 1);
    let mut rows: Vec<(Value, i64)> = sql.build_query_as().fetch_all(pool).await.map_err(database)?;
    let next = (rows.len() as i64 > limit).then(|| {
        rows.truncate(limit as usize);
        let (last, value) = rows.last().expect("limit ≥ 1");
        encode_cursor(*value, last[key].as_str().unwrap_or_default())
    });
    let items: Vec<Value> = rows.into_iter().map(|(row, _)| row).collect();
    Ok(Json(json!({ "items": items, "next_cursor": next })).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WorkerFilter {
    pub gpu_model: Option<String>,
    pub min_gpus: Option<i32>,
    pub min_vram_gib: Option<i32>,
    pub region: Option<String>,
    /// Lowest connectivity tier accepted.
    pub min_connectivity_tier: Option<i32>,
    /// Compliance bits all required (1 SOC 2, 2 HIPAA, 4 end-to-end encryption).
    pub compliance: Option<i32>,
    pub green: Option<bool>,
    /// Free to book now: available, not leased, not jailed.
    pub available: Option<bool>,
    pub max_price: Option<i64>,
    pub supplier: Option<String>,
    /// `price` (default), `-price`, `-gpus`, `-registered`.
    pub sort: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

async fn list_workers(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<WorkerFilter>, QueryRejection>,
) -> ApiResult {
    let f = query(filter)?;
    let (column, descending) = match f.sort.as_deref().unwrap_or("price") {
        "price" => ("price_per_gpu_hour", false),
        "-price" => ("price_per_gpu_hour", true),
        "-gpus" => ("gpu_count::bigint", true),
        "-registered" => ("registered_at", true),
        other => {
            return Err(ApiError::bad_request(
                "bad_filter",
                format!("sort {other:?}: use price, -price, -gpus or -registered"),
            ))
        }
    };
    if let Some(model) = &f.gpu_model {
        if timelock_sdk::catalog::gpu_model_code(model).is_none() {
            return Err(ApiError::bad_request("bad_filter", format!("unknown gpu_model {model:?}")));
        }
    }
    let limit = limit(f.limit)?;
    let cursor = decode_cursor(&f.cursor)?;
    let supplier = optional_address(&f.supplier)?;
    let mut sql =
        QueryBuilder::new(format!("SELECT to_jsonb(w) - 'closed', {column} FROM indexer.workers w WHERE NOT closed"));
    if let Some(model) = &f.gpu_model {
        sql.push(" AND gpu_model = ").push_bind(model.to_ascii_uppercase());
    }
    if let Some(n) = f.min_gpus {
        sql.push(" AND gpu_count >= ").push_bind(n);
    }
    if let Some(n) = f.min_vram_gib {
        sql.push(" AND vram_gib >= ").push_bind(n);
    }
    if let Some(region) = &f.region {
        sql.push(" AND region = ").push_bind(region.to_ascii_uppercase());
    }
    if let Some(tier) = f.min_connectivity_tier {
        sql.push(" AND connectivity_tier >= ").push_bind(tier);
    }
    if let Some(bits) = f.compliance {
        sql.push(" AND compliance & ").push_bind(bits).push(" = ").push_bind(bits);
    }
    if let Some(green) = f.green {
        sql.push(" AND green_energy = ").push_bind(green);
    }
    // Spelled out (not compared with a parameter) so that the planner can use the bookable-workers indexes.
    match f.available {
        Some(true) => {
            sql.push(" AND ").push(BOOKABLE_SQL);
        }
        Some(false) => {
            sql.push(" AND NOT (").push(BOOKABLE_SQL).push(")");
        }
        None => {}
    }
    if let Some(price) = f.max_price {
        sql.push(" AND price_per_gpu_hour <= ").push_bind(price);
    }
    if let Some(supplier) = supplier {
        sql.push(" AND supplier = ").push_bind(supplier);
    }
    page(&state.pool, sql, column, descending, cursor, limit).await
}

async fn one(pool: &PgPool, table: &str, address_text: &str, what: &'static str) -> Result<Value, ApiError> {
    let address = address(address_text)?;
    let row: Option<Value> =
        sqlx::query_scalar(&format!("SELECT to_jsonb(t) FROM indexer.{table} t WHERE address = $1"))
            .bind(&address)
            .fetch_optional(pool)
            .await
            .map_err(database)?;
    row.ok_or_else(|| ApiError::not_found(what, format!("no {table} row for {address}")))
}

/// The hottest read: the row's JSON as Postgres renders it goes out untouched (no parse and re-serialise).
async fn one_worker(State(state): State<Arc<ApiState>>, Path(address_text): Path<String>) -> ApiResult {
    let address = address(&address_text)?;
    let row: Option<String> =
        sqlx::query_scalar("SELECT (to_jsonb(t) - 'closed')::text FROM indexer.workers t WHERE address = $1")
            .bind(&address)
            .fetch_optional(&state.pool)
            .await
            .map_err(database)?;
    let row = row.ok_or_else(|| ApiError::not_found("unknown_worker", format!("no workers row for {address}")))?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], row).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

async fn list_suppliers(
    State(state): State<Arc<ApiState>>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> ApiResult {
    let p = query(paging)?;
    let sql = QueryBuilder::new("SELECT to_jsonb(s), staked FROM indexer.suppliers s WHERE NOT closed");
    page(&state.pool, sql, "staked", true, decode_cursor(&p.cursor)?, limit(p.limit)?).await
}

async fn one_supplier(State(state): State<Arc<ApiState>>, Path(address): Path<String>) -> ApiResult {
    let mut supplier = one(&state.pool, "suppliers", &address, "unknown_supplier").await?;
    let (earned, slashed): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT sum(amount)::bigint FROM indexer.payouts WHERE supplier = $1 AND kind = 'settlement'), \
                (SELECT sum(amount)::bigint FROM indexer.slashes WHERE supplier = $1)",
    )
    .bind(supplier["address"].as_str())
    .fetch_one(&state.pool)
    .await
    .map_err(database)?;
    supplier["earned_total"] = json!(earned.unwrap_or(0));
    supplier["slashes_total"] = json!(slashed.unwrap_or(0));
    Ok(Json(supplier).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFilter {
    pub renter: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

async fn list_clusters(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<ClusterFilter>, QueryRejection>,
) -> ApiResult {
    let f = query(filter)?;
    let mut sql = QueryBuilder::new("SELECT to_jsonb(c), start_ts FROM indexer.clusters c WHERE true");
    if let Some(renter) = optional_address(&f.renter)? {
        sql.push(" AND renter = ").push_bind(renter);
    }
    page(&state.pool, sql, "start_ts", true, decode_cursor(&f.cursor)?, limit(f.limit)?).await
}

async fn one_cluster(State(state): State<Arc<ApiState>>, Path(address): Path<String>) -> ApiResult {
    let mut cluster = one(&state.pool, "clusters", &address, "unknown_cluster").await?;
    let leases: Vec<Value> =
        sqlx::query_scalar("SELECT to_jsonb(l) FROM indexer.leases l WHERE cluster = $1 ORDER BY address")
            .bind(cluster["address"].as_str())
            .fetch_all(&state.pool)
            .await
            .map_err(database)?;
    cluster["leases"] = Value::Array(leases);
    Ok(Json(cluster).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseFilter {
    pub cluster: Option<String>,
    pub worker: Option<String>,
    pub supplier: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

async fn list_leases(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<LeaseFilter>, QueryRejection>,
) -> ApiResult {
    let f = query(filter)?;
    let mut sql = QueryBuilder::new("SELECT to_jsonb(l), start_ts FROM indexer.leases l WHERE true");
    for (column, value) in [("cluster", &f.cluster), ("worker", &f.worker), ("supplier", &f.supplier)] {
        if let Some(value) = optional_address(value)? {
            sql.push(format!(" AND {column} = ")).push_bind(value);
        }
    }
    page(&state.pool, sql, "start_ts", true, decode_cursor(&f.cursor)?, limit(f.limit)?).await
}

async fn one_lease(State(state): State<Arc<ApiState>>, Path(address): Path<String>) -> ApiResult {
    let mut lease = one(&state.pool, "leases", &address, "unknown_lease").await?;
    let attestations: Vec<Value> = sqlx::query_scalar(
        "SELECT to_jsonb(a) - 'lease' FROM indexer.attestations a WHERE lease = $1 ORDER BY slot, signature",
    )
    .bind(lease["address"].as_str())
    .fetch_all(&state.pool)
    .await
    .map_err(database)?;
    lease["attestations"] = Value::Array(attestations);
    Ok(Json(lease).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyFilter {
    pub supplier: Option<String>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Payouts and slashes: paged by (block time, event id `signature/instruction/event`).
async fn money(pool: &PgPool, table: &str, filter: Result<Query<MoneyFilter>, QueryRejection>) -> ApiResult {
    let f = query(filter)?;
    if let (Some(from), Some(to)) = (f.from, f.to) {
        if from >= to {
            return Err(ApiError::bad_request("bad_filter", "from must be before to"));
        }
    }
    let mut sql = QueryBuilder::new(format!(
        "SELECT to_jsonb(r) - 'at', at FROM (SELECT *, signature || '/' || ix_index || '/' || event_index AS id, \
         COALESCE(block_time, 0) AS at FROM indexer.{table}) r WHERE true"
    ));
    if let Some(supplier) = optional_address(&f.supplier)? {
        sql.push(" AND supplier = ").push_bind(supplier);
    }
    if let Some(from) = f.from {
        sql.push(" AND at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        sql.push(" AND at < ").push_bind(to);
    }
    keyset_page(pool, sql, "at", "id", true, decode_cursor(&f.cursor)?, limit(f.limit)?).await
}

async fn list_payouts(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<MoneyFilter>, QueryRejection>,
) -> ApiResult {
    money(&state.pool, "payouts", filter).await
}

async fn list_slashes(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<MoneyFilter>, QueryRejection>,
) -> ApiResult {
    money(&state.pool, "slashes", filter).await
}

async fn stats(State(state): State<Arc<ApiState>>) -> ApiResult {
    let now = now();
    let by_model_region: Vec<Value> = sqlx::query_scalar(&format!(
        "SELECT jsonb_build_object('gpu_model', gpu_model, 'region', region, \
             'gpus_total', sum(gpu_count), \
             'gpus_available', COALESCE(sum(gpu_count) FILTER (WHERE {BOOKABLE_SQL}), 0), \
             'gpus_rented', COALESCE(sum(gpu_count) FILTER (WHERE active_lease IS NOT NULL), 0)) \
         FROM indexer.workers WHERE NOT closed GROUP BY gpu_model, region ORDER BY gpu_model, region",
    ))
    .fetch_all(&state.pool)
    .await
    .map_err(database)?;
    let prices: Vec<Value> = sqlx::query_scalar(
        "SELECT jsonb_build_object('gpu_model', gpu_model, 'median_price_per_gpu_hour', \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY price_per_gpu_hour)) \
         FROM indexer.workers WHERE NOT closed GROUP BY gpu_model ORDER BY gpu_model",
    )
    .fetch_all(&state.pool)
    .await
    .map_err(database)?;
    let volume: Option<i64> = sqlx::query_scalar(
        "SELECT sum(amount + fee)::bigint FROM indexer.payouts WHERE kind = 'settlement' AND block_time >= $1",
    )
    .bind(now - 86_400)
    .fetch_one(&state.pool)
    .await
    .map_err(database)?;
    let total: i64 = by_model_region.iter().map(|r| r["gpus_total"].as_i64().unwrap_or(0)).sum();
    let available: i64 = by_model_region.iter().map(|r| r["gpus_available"].as_i64().unwrap_or(0)).sum();
    let rented: i64 = by_model_region.iter().map(|r| r["gpus_rented"].as_i64().unwrap_or(0)).sum();
    Ok(Json(json!({
        "gpus_total": total,
        "gpus_available": available,
        "gpus_rented": rented,
        "utilization": if total > 0 { rented as f64 / total as f64 } else { 0.0 },
        "by_model_and_region": by_model_region,
        "median_price_by_model": prices,
        "volume_paid_24h": volume.unwrap_or(0),
    }))
    .into_response())
}

async fn health(State(state): State<Arc<ApiState>>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => Json(json!({ "status": "ok" })).into_response(),
        Err(e) => ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", e.to_string())
            .into_response(),
    }
}

async fn metrics(State(state): State<Arc<ApiState>>) -> impl IntoResponse {
    ([("content-type", "text/plain; version=0.0.4")], state.metrics.render())
}
