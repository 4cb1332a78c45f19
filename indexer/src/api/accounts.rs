//! The account endpoints: each answers an account's view, the JSON `timelock … show -o json` prints.

use axum::http::header::CONTENT_TYPE;

use super::*;
use crate::worker_model::{SyncError, WorkerQuery};

fn model_error(error: Arc<SyncError>) -> ApiError {
    match &*error {
        SyncError::Database(error) => database(error),
        SyncError::Corrupt(error) => corrupt(error),
    }
}

#[utoipa::path(get, path = "/v1/workers", summary = "Workers, filtered and sorted", params(WorkerFilter), responses((status = 200, description = "OK", body = Page<WorkerView>), (status = 400, description = "bad request", body = ErrorBody), (status = 422, description = "a cursor that is not one of this list and order", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn list_workers(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<WorkerFilter>, QueryRejection>,
) -> ApiResult {
    let mut f = query(filter)?;
    // A supplier address of another length than 32 bytes is no supplier's: nothing matches.
    if let Some(supplier) = &f.supplier {
        if address(supplier)?.parse::<Pubkey>().is_err() {
            return Ok(Json(Page::<WorkerView> { items: Vec::new(), next_cursor: None }).into_response());
        }
        f.supplier = Some(address(supplier)?);
    }
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
    if cursor.as_ref().is_some_and(|(value, _)| !fits(value, sql_type)) {
        return Err(ApiError::new(ErrorCode::BadCursor, "cursor is not one of this list and order"));
    }
    let supplier = checked.supplier.map(|s| s.to_string());
    if let Some(model) = &state.workers {
        model.sync(&state.pool).await.map_err(model_error)?;
        let query = WorkerQuery {
            sort: checked.sort,
            gpu_model: checked.gpu_model.map(|(_, name)| name),
            region: checked.region.as_ref().map(|(_, name)| name.as_str()),
            supplier: supplier.as_deref(),
            min_gpus: f.min_gpus,
            min_vram_gib: f.min_vram_gib,
            min_connectivity_tier: f.min_connectivity_tier,
            compliance: f.compliance,
            green: f.green,
            available: f.available,
            max_price: f.max_price,
            cursor,
            limit: checked.limit as usize,
        };
        let body = model
            .page(&query, encode_cursor)
            .map_err(|_| ApiError::new(ErrorCode::BadCursor, "cursor is not one of this list and order"))?;
        return Ok(([(CONTENT_TYPE, "application/json")], body).into_response());
    }
    let mut sql = view_list("workers", column, Some(true));
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
    if let Some(supplier) = supplier {
        sql.push(" AND supplier = ").push_bind(supplier);
    }
    let order = Order { column, sql_type, key: "address", descending };
    page::<WorkerView>(&state.pool, sql, order, cursor, i64::from(checked.limit)).await
}

/// One account that exists on chain now, as its view. A closed account is unknown here, as it is to the chain
/// and the CLI; the lists of clusters and leases keep closed ones as history (`open=false`).
async fn one<V: DeserializeOwned + Serialize>(
    pool: &PgPool,
    table: &str,
    address_text: &str,
    unknown: ErrorCode,
) -> ApiResult {
    let address = address(address_text)?;
    let row: Option<Value> =
        sqlx::query_scalar(&format!("SELECT {VIEW_OF} FROM indexer.{table} t WHERE address = $1 AND NOT closed"))
            .bind(&address)
            .fetch_optional(pool)
            .await
            .map_err(database)?;
    let row = row.ok_or_else(|| ApiError::new(unknown, format!("no {table} row for {address}")))?;
    Ok(Json(serde_json::from_value::<V>(row).map_err(corrupt)?).into_response())
}

#[utoipa::path(get, path = "/v1/workers/{address}", summary = "One worker", params(("address" = String, Path, description = "base58 account address", format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$")), responses((status = 200, description = "OK", body = WorkerView), (status = 400, description = "bad address", body = ErrorBody), (status = 404, description = "unknown account", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn one_worker(State(state): State<Arc<ApiState>>, Path(address_text): Path<String>) -> ApiResult {
    if let Some(model) = &state.workers {
        let address = address(&address_text)?;
        model.sync(&state.pool).await.map_err(model_error)?;
        let body = model
            .get(&address)
            .ok_or_else(|| ApiError::new(ErrorCode::UnknownWorker, format!("no workers row for {address}")))?;
        return Ok(([(CONTENT_TYPE, "application/json")], body.into_string()).into_response());
    }
    let address = address_text;
    one::<WorkerView>(&state.pool, "workers", &address, ErrorCode::UnknownWorker).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    #[param(pattern = "^[A-Za-z0-9_-]{1,512}$")]
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/suppliers", summary = "Suppliers, most stake first", params(Paging), responses((status = 200, description = "OK", body = Page<SupplierView>), (status = 400, description = "bad request", body = ErrorBody), (status = 422, description = "a cursor that is not one of this list and order", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn list_suppliers(
    State(state): State<Arc<ApiState>>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> ApiResult {
    let p = query(paging)?;
    let order = Order { column: "staked", sql_type: "numeric", key: "address", descending: true };
    let sql = view_list("suppliers", order.column, Some(true));
    page::<SupplierView>(&state.pool, sql, order, decode_cursor(&p.cursor)?, limit(p.limit)?).await
}

#[utoipa::path(get, path = "/v1/suppliers/{address}", summary = "One supplier", params(("address" = String, Path, description = "base58 account address", format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$")), responses((status = 200, description = "OK", body = SupplierView), (status = 400, description = "bad address", body = ErrorBody), (status = 404, description = "unknown account", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn one_supplier(State(state): State<Arc<ApiState>>, Path(address): Path<String>) -> ApiResult {
    one::<SupplierView>(&state.pool, "suppliers", &address, ErrorCode::UnknownSupplier).await
}

/// What the events say a supplier was paid and slashed over its whole history (the account holds only what
/// is unclaimed and its running slash total).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SupplierTotals {
    /// Payment-mint base units paid by settlements.
    pub earned_total: u128,
    /// Stake-mint base units slashed.
    pub slashes_total: u128,
}

#[utoipa::path(get, path = "/v1/suppliers/{address}/totals", summary = "What a supplier was paid and slashed over its whole history", params(("address" = String, Path, description = "base58 account address", format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$")), responses((status = 200, description = "OK", body = SupplierTotals), (status = 400, description = "bad request", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn supplier_totals(State(state): State<Arc<ApiState>>, Path(address_text): Path<String>) -> ApiResult {
    let address = address(&address_text)?;
    let (earned, slashed): (String, String) = sqlx::query_as(
        "SELECT COALESCE((SELECT sum(amount) FROM indexer.payouts WHERE supplier = $1 AND kind = 'settlement'), 0)::text, \
                COALESCE((SELECT sum(amount) FROM indexer.slashes WHERE supplier = $1), 0)::text",
    )
    .bind(&address)
    .fetch_one(&state.pool)
    .await
    .map_err(database)?;
    Ok(Json(SupplierTotals { earned_total: sum_of(&earned)?, slashes_total: sum_of(&slashed)? }).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClusterFilter {
    #[param(format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$")]
    pub renter: Option<String>,
    /// Only clusters that exist on chain (true) or only closed ones (false); both when absent.
    pub open: Option<bool>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    #[param(pattern = "^[A-Za-z0-9_-]{1,512}$")]
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/clusters", summary = "Clusters, newest first, closed ones included", params(ClusterFilter), responses((status = 200, description = "OK", body = Page<ClusterView>), (status = 400, description = "bad request", body = ErrorBody), (status = 422, description = "a cursor that is not one of this list and order", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn list_clusters(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<ClusterFilter>, QueryRejection>,
) -> ApiResult {
    let f = query(filter)?;
    let order = Order { column: "start_ts", sql_type: "int8", key: "address", descending: true };
    let mut sql = view_list("clusters", order.column, f.open);
    if let Some(renter) = optional_address(&f.renter)? {
        sql.push(" AND renter = ").push_bind(renter);
    }
    page::<ClusterView>(&state.pool, sql, order, decode_cursor(&f.cursor)?, limit(f.limit)?).await
}

#[utoipa::path(get, path = "/v1/clusters/{address}", summary = "One cluster (its leases: /v1/leases?cluster=)", params(("address" = String, Path, description = "base58 account address", format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$")), responses((status = 200, description = "OK", body = ClusterView), (status = 400, description = "bad address", body = ErrorBody), (status = 404, description = "unknown account", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn one_cluster(State(state): State<Arc<ApiState>>, Path(address): Path<String>) -> ApiResult {
    one::<ClusterView>(&state.pool, "clusters", &address, ErrorCode::UnknownCluster).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LeaseFilter {
    /// Only leases that exist on chain (true) or only settled and closed ones (false); both when absent.
    pub open: Option<bool>,
    #[param(format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$")]
    pub cluster: Option<String>,
    #[param(format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$")]
    pub worker: Option<String>,
    #[param(format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$")]
    pub supplier: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    #[param(pattern = "^[A-Za-z0-9_-]{1,512}$")]
    pub cursor: Option<String>,
}

/// Leases, closed ones included unless `open=true` (a settled lease's account is closed; its row is its record).
#[utoipa::path(get, path = "/v1/leases", summary = "Leases, newest first, settled ones included", params(LeaseFilter), responses((status = 200, description = "OK", body = Page<LeaseView>), (status = 400, description = "bad request", body = ErrorBody), (status = 422, description = "a cursor that is not one of this list and order", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn list_leases(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<LeaseFilter>, QueryRejection>,
) -> ApiResult {
    let f = query(filter)?;
    let order = Order { column: "start_ts", sql_type: "int8", key: "address", descending: true };
    let mut sql = view_list("leases", order.column, f.open);
    for (column, value) in [("cluster", &f.cluster), ("worker", &f.worker), ("supplier", &f.supplier)] {
        if let Some(value) = optional_address(value)? {
            sql.push(format!(" AND {column} = ")).push_bind(value);
        }
    }
    page::<LeaseView>(&state.pool, sql, order, decode_cursor(&f.cursor)?, limit(f.limit)?).await
}

#[utoipa::path(get, path = "/v1/leases/{address}", summary = "One lease", params(("address" = String, Path, description = "base58 account address", format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$")), responses((status = 200, description = "OK", body = LeaseView), (status = 400, description = "bad address", body = ErrorBody), (status = 404, description = "unknown account", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn one_lease(State(state): State<Arc<ApiState>>, Path(address): Path<String>) -> ApiResult {
    one::<LeaseView>(&state.pool, "leases", &address, ErrorCode::UnknownLease).await
}

/// Every oracle's attestation line for a lease, oldest first.
#[utoipa::path(get, path = "/v1/leases/{address}/attestations", summary = "Every oracle's attestation of a lease, oldest first", params(("address" = String, Path, description = "base58 account address", format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$")), responses((status = 200, description = "OK", body = Page<Attestation>), (status = 400, description = "bad request", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn lease_attestations(State(state): State<Arc<ApiState>>, Path(address_text): Path<String>) -> ApiResult {
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
