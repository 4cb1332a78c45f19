//! Payouts, slashes and the network totals: what the events say money did.

use super::*;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MoneyFilter {
    #[param(format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$")]
    pub supplier: Option<String>,
    /// Unix seconds, inclusive.
    #[param(minimum = -9_223_372_036_854_775_808_i64, maximum = 9_223_372_036_854_775_807_i64)]
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    #[param(minimum = -9_223_372_036_854_775_808_i64, maximum = 9_223_372_036_854_775_807_i64)]
    pub to: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    #[param(pattern = "^[A-Za-z0-9_-]{1,512}$")]
    pub cursor: Option<String>,
}

/// A payout or slash with its event id (`signature/instruction/event`), the key its pages are ordered by.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Identified<T> {
    /// `signature/instruction/event`
    pub id: String,
    #[serde(flatten)]
    pub row: T,
}

/// Payouts and slashes: paged by (block time, event id).
async fn money<T: DeserializeOwned + Serialize>(
    pool: &PgPool,
    table: &str,
    filter: Result<Query<MoneyFilter>, QueryRejection>,
) -> ApiResult {
    let f = query(filter)?;
    // `[from, to)` with `to` not after `from` is empty: a page of nothing, as for any range without rows.
    if f.from.zip(f.to).is_some_and(|(from, to)| from >= to) {
        return Ok(Json(Page::<Identified<T>> { items: Vec::new(), next_cursor: None }).into_response());
    }
    // `at` and `id` are stored columns (0008), each list's order in an index.
    let mut sql = QueryBuilder::new(format!(
        "SELECT to_jsonb(r) - 'at' - 'id', at::text AS cursor_value, id FROM indexer.{table} r WHERE true"
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
#[utoipa::path(get, path = "/v1/payouts", summary = "Settlements and claims, newest first", params(MoneyFilter), responses((status = 200, description = "OK", body = Page<Identified<Payout>>), (status = 400, description = "bad request", body = ErrorBody), (status = 422, description = "a cursor that is not one of this list and order", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn list_payouts(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<MoneyFilter>, QueryRejection>,
) -> ApiResult {
    money::<Payout>(&state.pool, "payouts", filter).await
}

#[utoipa::path(get, path = "/v1/slashes", summary = "Slashes, newest first", params(MoneyFilter), responses((status = 200, description = "OK", body = Page<Identified<Slash>>), (status = 400, description = "bad request", body = ErrorBody), (status = 422, description = "a cursor that is not one of this list and order", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn list_slashes(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<MoneyFilter>, QueryRejection>,
) -> ApiResult {
    money::<Slash>(&state.pool, "slashes", filter).await
}

/// GPUs of one model in one region.
#[derive(Serialize, Deserialize, Clone, utoipa::ToSchema)]
pub struct GpusByModelAndRegion {
    pub gpu_model: String,
    pub region: String,
    pub gpus_total: u64,
    /// On bookable workers (`Worker::is_bookable`).
    pub gpus_available: u64,
    pub gpus_rented: u64,
}

#[derive(Serialize, Deserialize, Clone, utoipa::ToSchema)]
pub struct MedianPrice {
    pub gpu_model: String,
    /// Payment-mint base units per GPU-hour, over listed workers.
    pub median_price_per_gpu_hour: f64,
}

/// Network totals, under the CLI's `timelock stats` names.
#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct Stats {
    pub gpus_total: u64,
    pub gpus_available: u64,
    pub gpus_rented: u64,
    /// Rented over total GPUs.
    pub utilization: f64,
    pub by_model_and_region: Vec<GpusByModelAndRegion>,
    pub median_price_by_model: Vec<MedianPrice>,
    /// Payment-mint base units settled (to suppliers and fees) in the last 24 hours.
    pub volume_paid_24h: u128,
}

/// Network totals under the CLI's `timelock stats` names.
#[utoipa::path(get, path = "/v1/stats", summary = "Network totals: GPUs by model and region, utilisation, median prices, 24 h volume", responses((status = 200, description = "OK", body = Stats), (status = 400, description = "bad request", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn stats(State(state): State<Arc<ApiState>>) -> ApiResult {
    // One request computes while the others wait for its result; within the TTL they share it.
    let mut cached = state.stats.lock().await;
    if let Some((_, stats)) = cached.as_ref().filter(|(at, _)| at.elapsed() < STATS_TTL) {
        return Ok(Json(stats.clone()).into_response());
    }
    let fresh = network_totals(&state.pool).await?;
    *cached = Some((std::time::Instant::now(), fresh.clone()));
    Ok(Json(fresh).into_response())
}

/// The totals cost whole-table aggregates: they are computed at most once per `STATS_TTL` whatever the
/// request rate, so that anonymous traffic on `/v1/stats` costs the database nothing more.
pub const STATS_TTL: std::time::Duration = std::time::Duration::from_secs(2);

async fn network_totals(pool: &PgPool) -> Result<Stats, ApiError> {
    let now = now();
    let by_model_and_region: Vec<Value> = sqlx::query_scalar(
        "SELECT jsonb_build_object('gpu_model', gpu_model, 'region', region, \
             'gpus_total', sum(gpu_count), \
             'gpus_available', COALESCE(sum(gpu_count) FILTER (WHERE bookable), 0), \
             'gpus_rented', COALESCE(sum(gpu_count) FILTER (WHERE active_lease IS NOT NULL), 0)) \
         FROM indexer.workers WHERE NOT closed GROUP BY gpu_model, region ORDER BY gpu_model, region",
    )
    .fetch_all(pool)
    .await
    .map_err(database)?;
    let median_price_by_model: Vec<Value> = sqlx::query_scalar(
        "SELECT jsonb_build_object('gpu_model', gpu_model, 'median_price_per_gpu_hour', \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY price_per_gpu_hour::float8)) \
         FROM indexer.workers WHERE NOT closed GROUP BY gpu_model ORDER BY gpu_model",
    )
    .fetch_all(pool)
    .await
    .map_err(database)?;
    // `at` is `COALESCE(block_time, 0)`, the time `payouts_by_at` orders by.
    let volume: String = sqlx::query_scalar(
        "SELECT COALESCE(sum(amount + fee), 0)::text FROM indexer.payouts \
         WHERE kind = 'settlement' AND at >= $1 AND block_time IS NOT NULL",
    )
    .bind(now - 86_400)
    .fetch_one(pool)
    .await
    .map_err(database)?;
    let volume = sum_of(&volume)?;
    fn read<T: DeserializeOwned>(rows: Vec<Value>) -> Result<Vec<T>, serde_json::Error> {
        rows.into_iter().map(serde_json::from_value).collect()
    }
    let by_model_and_region: Vec<GpusByModelAndRegion> = read(by_model_and_region).map_err(corrupt)?;
    let median_price_by_model: Vec<MedianPrice> = read(median_price_by_model).map_err(corrupt)?;
    let sum = |pick: fn(&GpusByModelAndRegion) -> u64| by_model_and_region.iter().map(pick).sum::<u64>();
    let (gpus_total, gpus_rented) = (sum(|r| r.gpus_total), sum(|r| r.gpus_rented));
    Ok(Stats {
        gpus_total,
        gpus_available: sum(|r| r.gpus_available),
        gpus_rented,
        utilization: if gpus_total > 0 { gpus_rented as f64 / gpus_total as f64 } else { 0.0 },
        by_model_and_region,
        median_price_by_model,
        volume_paid_24h: volume,
    })
}
