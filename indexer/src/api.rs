//! The query API (`/v1`, documented at `/openapi.json`): workers with filters and sorting, suppliers, clusters,
//! leases, payouts and slashes by supplier and time, network stats. Lists use keyset cursors (`next_cursor`),
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
use serde_json::{json, Value};
use sqlx::{PgPool, Postgres, QueryBuilder};
use timelock_sdk::filter::{FilterError, WorkerFilter, WorkerSort, DEFAULT_LIMIT, MAX_LIMIT};
use timelock_sdk::view::{ClusterView, LeaseView, SupplierView, WorkerView};
use timelock_service_kit::{ApiError, ErrorCode, Metrics};

use crate::rows::{Attestation, Payout, Slash};

/// What the API serves of a mirrored account row: the view's columns, without the mirror's own bookkeeping.
const VIEW_OF: &str = "to_jsonb(t) - 'slot' - 'finalized' - 'closed'";

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
        .route("/v1/suppliers/{address}/totals", get(supplier_totals))
        .route("/v1/clusters", get(list_clusters))
        .route("/v1/clusters/{address}", get(one_cluster))
        .route("/v1/leases", get(list_leases))
        .route("/v1/leases/{address}", get(one_lease))
        .route("/v1/leases/{address}/attestations", get(lease_attestations))
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
    query.map(|Query(q)| q).map_err(|e| ApiError::new(ErrorCode::BadFilter, e.body_text()))
}

fn database(error: sqlx::Error) -> ApiError {
    ApiError::internal("database query failed", error)
}

/// A stored row that does not read back as its type (an unknown enum value, a missing column): a server fault,
/// never a silently defaulted field.
fn corrupt(error: serde_json::Error) -> ApiError {
    ApiError::internal("stored row does not match its type", error)
}

fn address(text: &str) -> Result<String, ApiError> {
    text.parse::<Pubkey>()
        .map(|k| k.to_string())
        .map_err(|_| ApiError::new(ErrorCode::BadAddress, format!("{text:?} is not a base58 public key")))
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
    if value.parse::<i128>().is_err() {
        return Err(invalid());
    }
    Ok(Some((value.to_string(), key.to_string())))
}

/// A page of rows of type `T`: `items` and the cursor of the next page (`null` on the last).
#[derive(Serialize)]
struct Page<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
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
    if let Some((value, after)) = cursor {
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

/// The list query over a view table: each row's view, its sort value as text, its address.
fn view_list(table: &str, column: &str) -> QueryBuilder<'static, Postgres> {
    QueryBuilder::new(format!("SELECT {VIEW_OF}, ({column})::text AS cursor_value, address FROM indexer.{table} t WHERE NOT closed"))
}

async fn list_workers(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<WorkerFilter>, QueryRejection>,
) -> ApiResult {
    let f = query(filter)?;
    let checked = f.check().map_err(|e| {
        let code = if matches!(e, FilterError::BadAddress(_)) { ErrorCode::BadAddress } else { ErrorCode::BadFilter };
        ApiError::new(code, e.to_string())
    })?;
    let (column, sql_type, descending) = match checked.sort {
        WorkerSort::Price => ("price_per_gpu_hour", "numeric", false),
        WorkerSort::PriceDescending => ("price_per_gpu_hour", "numeric", true),
        WorkerSort::GpusDescending => ("gpu_count", "int4", true),
        WorkerSort::RegisteredDescending => ("registered_at", "int8", true),
    };
    let cursor = decode_cursor(&f.cursor)?;
    let mut sql = view_list("workers", column);
    if let Some((_, name)) = checked.gpu_model {
        sql.push(" AND gpu_model = ").push_bind(name);
    }
    if let Some(n) = f.min_gpus {
        sql.push(" AND gpu_count >= ").push_bind(i32::from(n));
    }
    if let Some(n) = f.min_vram_gib {
        sql.push(" AND vram_gib >= ").push_bind(i32::from(n));
    }
    if let Some((_, region)) = checked.region {
        sql.push(" AND region = ").push_bind(region);
    }
    if let Some(tier) = f.min_connectivity_tier {
        sql.push(" AND connectivity_tier >= ").push_bind(i32::from(tier));
    }
    if let Some(bits) = f.compliance {
        let bits = i32::from(bits);
        sql.push(" AND compliance & ").push_bind(bits).push(" = ").push_bind(bits);
    }
    if let Some(green) = f.green {
        sql.push(" AND green_energy = ").push_bind(green);
    }
    // Spelled out (not compared with a parameter) so that the planner can use the bookable-workers indexes.
    match f.available {
        Some(true) => sql.push(" AND bookable"),
        Some(false) => sql.push(" AND NOT bookable"),
        None => &mut sql,
    };
    if let Some(price) = f.max_price {
        sql.push(" AND price_per_gpu_hour <= ").push_bind(price.to_string()).push("::numeric");
    }
    if let Some(supplier) = checked.supplier {
        sql.push(" AND supplier = ").push_bind(supplier.to_string());
    }
    let order = Order { column, sql_type, key: "address", descending };
    page::<WorkerView>(&state.pool, sql, order, cursor, i64::from(checked.limit)).await
}

/// One mirrored account, as its view.
async fn one<V: DeserializeOwned + Serialize>(
    pool: &PgPool,
    table: &str,
    address_text: &str,
    unknown: ErrorCode,
) -> ApiResult {
    let address = address(address_text)?;
    let row: Option<Value> = sqlx::query_scalar(&format!("SELECT {VIEW_OF} FROM indexer.{table} t WHERE address = $1"))
        .bind(&address)
        .fetch_optional(pool)
        .await
        .map_err(database)?;
    let row = row.ok_or_else(|| ApiError::new(unknown, format!("no {table} row for {address}")))?;
    Ok(Json(serde_json::from_value::<V>(row).map_err(corrupt)?).into_response())
}

async fn one_worker(State(state): State<Arc<ApiState>>, Path(address): Path<String>) -> ApiResult {
    one::<WorkerView>(&state.pool, "workers", &address, ErrorCode::UnknownWorker).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

async fn list_suppliers(
    State(state): State<Arc<ApiState>>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> ApiResult {
    let p = query(paging)?;
    let order = Order { column: "staked", sql_type: "numeric", key: "address", descending: true };
    let sql = view_list("suppliers", order.column);
    page::<SupplierView>(&state.pool, sql, order, decode_cursor(&p.cursor)?, limit(p.limit)?).await
}

async fn one_supplier(State(state): State<Arc<ApiState>>, Path(address): Path<String>) -> ApiResult {
    one::<SupplierView>(&state.pool, "suppliers", &address, ErrorCode::UnknownSupplier).await
}

/// What the events say a supplier was paid and slashed over its whole history (the account holds only what
/// is unclaimed and its running slash total).
#[derive(Serialize)]
struct SupplierTotals {
    earned_total: u128,
    slashes_total: u128,
}

async fn supplier_totals(State(state): State<Arc<ApiState>>, Path(address_text): Path<String>) -> ApiResult {
    let address = address(&address_text)?;
    let (earned, slashed): (String, String) = sqlx::query_as(
        "SELECT COALESCE((SELECT sum(amount) FROM indexer.payouts WHERE supplier = $1 AND kind = 'settlement'), 0)::text, \
                COALESCE((SELECT sum(amount) FROM indexer.slashes WHERE supplier = $1), 0)::text",
    )
    .bind(&address)
    .fetch_one(&state.pool)
    .await
    .map_err(database)?;
    let total = |text: String| text.parse::<u128>().map_err(|e| ApiError::internal("sum is not an integer", e));
    Ok(Json(SupplierTotals { earned_total: total(earned)?, slashes_total: total(slashed)? }).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFilter {
    pub renter: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

async fn list_clusters(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<ClusterFilter>, QueryRejection>,
) -> ApiResult {
    let f = query(filter)?;
    let order = Order { column: "start_ts", sql_type: "int8", key: "address", descending: true };
    let mut sql = view_list("clusters", order.column);
    if let Some(renter) = optional_address(&f.renter)? {
        sql.push(" AND renter = ").push_bind(renter);
    }
    page::<ClusterView>(&state.pool, sql, order, decode_cursor(&f.cursor)?, limit(f.limit)?).await
}

async fn one_cluster(State(state): State<Arc<ApiState>>, Path(address): Path<String>) -> ApiResult {
    one::<ClusterView>(&state.pool, "clusters", &address, ErrorCode::UnknownCluster).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseFilter {
    pub cluster: Option<String>,
    pub worker: Option<String>,
    pub supplier: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Leases, closed ones included (a settled lease's account is closed; its row is its record).
async fn list_leases(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<LeaseFilter>, QueryRejection>,
) -> ApiResult {
    let f = query(filter)?;
    let order = Order { column: "start_ts", sql_type: "int8", key: "address", descending: true };
    let mut sql =
        QueryBuilder::new(format!("SELECT {VIEW_OF}, start_ts::text AS cursor_value, address FROM indexer.leases t WHERE true"));
    for (column, value) in [("cluster", &f.cluster), ("worker", &f.worker), ("supplier", &f.supplier)] {
        if let Some(value) = optional_address(value)? {
            sql.push(format!(" AND {column} = ")).push_bind(value);
        }
    }
    page::<LeaseView>(&state.pool, sql, order, decode_cursor(&f.cursor)?, limit(f.limit)?).await
}

async fn one_lease(State(state): State<Arc<ApiState>>, Path(address): Path<String>) -> ApiResult {
    one::<LeaseView>(&state.pool, "leases", &address, ErrorCode::UnknownLease).await
}

/// Every oracle's attestation line for a lease, oldest first.
async fn lease_attestations(State(state): State<Arc<ApiState>>, Path(address_text): Path<String>) -> ApiResult {
    let address = address(&address_text)?;
    let rows: Vec<Value> = sqlx::query_scalar(
        "SELECT to_jsonb(a) FROM indexer.attestations a WHERE lease = $1 ORDER BY slot, signature, event_index",
    )
    .bind(&address)
    .fetch_all(&state.pool)
    .await
    .map_err(database)?;
    let items =
        rows.into_iter().map(serde_json::from_value::<Attestation>).collect::<Result<Vec<_>, _>>().map_err(corrupt)?;
    Ok(Json(Page { items, next_cursor: None }).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyFilter {
    pub supplier: Option<String>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A payout or slash with its event id (`signature/instruction/event`), the key its pages are ordered by.
#[derive(Serialize)]
struct Identified<T> {
    id: String,
    #[serde(flatten)]
    row: T,
}

/// Payouts and slashes: paged by (block time, event id).
async fn money<T: DeserializeOwned + Serialize>(
    pool: &PgPool,
    table: &str,
    filter: Result<Query<MoneyFilter>, QueryRejection>,
) -> ApiResult {
    let f = query(filter)?;
    if let (Some(from), Some(to)) = (f.from, f.to) {
        if from >= to {
            return Err(ApiError::new(ErrorCode::BadFilter, "from must be before to"));
        }
    }
    let mut sql = QueryBuilder::new(format!(
        "SELECT to_jsonb(r) - 'at' - 'id', at::text AS cursor_value, id FROM \
         (SELECT *, signature || '/' || ix_index || '/' || event_index AS id, COALESCE(block_time, 0) AS at \
          FROM indexer.{table}) r WHERE true"
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
    let order = Order { column: "at", sql_type: "int8", key: "id", descending: true };
    let (rows, next_cursor) = page_rows::<T>(pool, sql, order, decode_cursor(&f.cursor)?, limit(f.limit)?).await?;
    let items = rows.into_iter().map(|(row, id)| Identified { id, row }).collect();
    Ok(Json(Page { items, next_cursor }).into_response())
}
async fn list_payouts(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<MoneyFilter>, QueryRejection>,
) -> ApiResult {
    money::<Payout>(&state.pool, "payouts", filter).await
}

async fn list_slashes(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<MoneyFilter>, QueryRejection>,
) -> ApiResult {
    money::<Slash>(&state.pool, "slashes", filter).await
}

/// Network totals under the CLI's `timelock stats` names.
async fn stats(State(state): State<Arc<ApiState>>) -> ApiResult {
    let now = now();
    let by_model_region: Vec<Value> = sqlx::query_scalar(
        "SELECT jsonb_build_object('gpu_model', gpu_model, 'region', region, \
             'gpus_total', sum(gpu_count), \
             'gpus_available', COALESCE(sum(gpu_count) FILTER (WHERE bookable), 0), \
             'gpus_rented', COALESCE(sum(gpu_count) FILTER (WHERE active_lease IS NOT NULL), 0)) \
         FROM indexer.workers WHERE NOT closed GROUP BY gpu_model, region ORDER BY gpu_model, region",
    )
    .fetch_all(&state.pool)
    .await
    .map_err(database)?;
    let prices: Vec<Value> = sqlx::query_scalar(
        "SELECT jsonb_build_object('gpu_model', gpu_model, 'median_price_per_gpu_hour', \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY price_per_gpu_hour::float8)) \
         FROM indexer.workers WHERE NOT closed GROUP BY gpu_model ORDER BY gpu_model",
    )
    .fetch_all(&state.pool)
    .await
    .map_err(database)?;
    let volume: String = sqlx::query_scalar(
        "SELECT COALESCE(sum(amount + fee), 0)::text FROM indexer.payouts \
         WHERE kind = 'settlement' AND block_time >= $1",
    )
    .bind(now - 86_400)
    .fetch_one(&state.pool)
    .await
    .map_err(database)?;
    let volume: u128 = volume.parse().map_err(|e| ApiError::internal("sum is not an integer", e))?;
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
        "volume_paid_24h": volume,
    }))
    .into_response())
}

async fn health(State(state): State<Arc<ApiState>>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => Json(json!({ "status": "ok" })).into_response(),
        Err(e) => ApiError::new(ErrorCode::DatabaseUnavailable, e.to_string())
            .into_response(),
    }
}

async fn metrics(State(state): State<Arc<ApiState>>) -> impl IntoResponse {
    ([("content-type", "text/plain; version=0.0.4")], state.metrics.render())
}
