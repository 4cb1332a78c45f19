//! The network day by day, for the explorer's charts: what settlements paid and the median price renters booked
//! each GPU model at. Aggregated here, so that a chart costs one request whatever the network's size, instead of
//! paging through every payout and lease.

use super::*;

const DAY: i64 = 86_400;
/// Longest history one request may ask for.
pub const MAX_DAYS: u32 = 90;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DailyFilter {
    /// Days back from today (UTC), today included: 1-90 (default 14).
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<u32>,
}

/// The median price of one GPU model's leases booked on a day.
#[derive(Serialize, Deserialize, Clone, utoipa::ToSchema)]
pub struct DailyPrice {
    pub gpu_model: String,
    /// Payment-mint base units per GPU-hour, over the leases that started that day.
    pub median_price_per_gpu_hour: f64,
    pub leases: u64,
}

/// One UTC day of the network.
#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct Day {
    /// The day's first second (Unix seconds, UTC midnight).
    pub day: i64,
    /// Payment-mint base units settled (to suppliers and fees) that day.
    pub volume_paid: u128,
    /// Leases booked that day, by GPU model (the worker's model now).
    pub prices: Vec<DailyPrice>,
}

/// Every day of the range, oldest first, days without activity included.
#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct Daily {
    pub days: Vec<Day>,
}

#[utoipa::path(get, path = "/v1/stats/daily", summary = "Day by day (UTC): volume paid and the median booked price per GPU model", params(DailyFilter), responses((status = 200, description = "OK", body = Daily), (status = 400, description = "bad request", body = ErrorBody), (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn daily_stats(
    State(state): State<Arc<ApiState>>,
    filter: Result<Query<DailyFilter>, QueryRejection>,
) -> ApiResult {
    let days = match query(filter)?.days.unwrap_or(14) {
        n @ 1..=MAX_DAYS => i64::from(n),
        n => return Err(ApiError::new(ErrorCode::BadFilter, format!("days must be 1-{MAX_DAYS}, got {n}"))),
    };
    let today = now().div_euclid(DAY) * DAY;
    let from = today - (days - 1) * DAY;
    // `at` is `COALESCE(block_time, 0)`, the time `payouts_by_at` orders by.
    let volumes: Vec<(i64, String)> = sqlx::query_as(
        "SELECT (block_time / 86400) * 86400, sum(amount + fee)::text FROM indexer.payouts \
         WHERE kind = 'settlement' AND at >= $1 AND block_time IS NOT NULL GROUP BY 1",
    )
    .bind(from)
    .fetch_all(&state.pool)
    .await
    .map_err(database)?;
    let prices: Vec<(i64, String, f64, i64)> = sqlx::query_as(
        "SELECT (l.start_ts / 86400) * 86400, w.gpu_model, \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY l.price_per_gpu_hour::float8), count(*) \
         FROM indexer.leases l JOIN indexer.workers w ON w.address = l.worker \
         WHERE l.start_ts >= $1 GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(from)
    .fetch_all(&state.pool)
    .await
    .map_err(database)?;
    let mut out = Vec::with_capacity(days as usize);
    for i in 0..days {
        let day = from + i * DAY;
        let volume_paid = match volumes.iter().find(|(d, _)| *d == day) {
            Some((_, sum)) => sum_of(sum)?,
            None => 0,
        };
        let prices = prices
            .iter()
            .filter(|(d, ..)| *d == day)
            .map(|(_, gpu_model, median, leases)| DailyPrice {
                gpu_model: gpu_model.clone(),
                median_price_per_gpu_hour: *median,
                leases: *leases as u64,
            })
            .collect();
        out.push(Day { day, volume_paid, prices });
    }
    Ok(Json(Daily { days: out }).into_response())
}
