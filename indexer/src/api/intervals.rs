//! Why each interval of a lease was or was not paid, as each configured oracle judged it: the indexer asks every
//! oracle in `oracle_urls` (`GET /v1/leases/{lease}/intervals` of the oracle service) at once and answers with
//! each one's page, or why that oracle could not be heard. The intervals are the oracle's own JSON, passed
//! through: their reasons are defined once, in the protocol crate (`timelock_protocol::policy::Reason`).

use std::time::Duration;

use serde::Deserializer;

use super::*;

/// The longest an oracle is waited for, whatever the request timeout: one slow oracle costs at most this.
const ORACLE_TIMEOUT: Duration = Duration::from_secs(2);

/// The most of an oracle's answer that is read: a page of 500 intervals with the longest reasons an oracle keeps
/// (three texts of 256 characters) is under 0.5 MiB.
const MAX_ORACLE_BODY: usize = 4 << 20;

/// The oracles the API asks, and the client it asks them with.
pub struct Oracles {
    urls: Vec<String>,
    http: reqwest::Client,
    /// How long each is waited for.
    timeout: Duration,
}

impl Oracles {
    /// Each URL must be `http://` or `https://` with a host; a trailing `/` is dropped. An oracle is waited for
    /// [`ORACLE_TIMEOUT`] at most, and at most half the request timeout, so that the answer always comes in time
    /// to say which oracle was slow.
    pub fn new(urls: &[String], request_timeout: Duration) -> Result<Self, String> {
        let urls = urls
            .iter()
            .map(|url| {
                let parsed = reqwest::Url::parse(url).map_err(|e| format!("oracle_urls: {url:?}: {e}"))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                    return Err(format!("oracle_urls: {url:?} is not an http(s) URL with a host"));
                }
                Ok(url.trim_end_matches('/').to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let timeout = ORACLE_TIMEOUT.min(request_timeout / 2).max(Duration::from_millis(100));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("oracle_urls: cannot build an HTTP client: {e}"))?;
        Ok(Oracles { urls, http, timeout })
    }
}

/// `oracle_urls` from a settings file (an array) or the environment (an array, or one comma-separated string).
pub fn url_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Urls {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Urls::deserialize(deserializer)? {
        Urls::List(urls) => urls,
        Urls::Text(text) => text.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_string).collect(),
    })
}

/// Which page of a lease's intervals to ask each oracle for.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IntervalQuery {
    /// Intervals that start at or after this time (Unix seconds, the oracles' clocks); 0 by default. Each
    /// oracle's `next` is the `from` of its next page.
    pub from: Option<i64>,
    /// Most intervals from each oracle.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Every configured oracle's verdicts on a lease's intervals, in the order of `oracle_urls`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LeaseIntervals {
    /// The lease (base58).
    pub lease: String,
    /// One entry per configured oracle: its page of intervals, or why it could not be heard.
    pub oracles: Vec<OracleIntervals>,
}

/// One oracle's answer, or why there is none.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum OracleIntervals {
    Answered(OracleAnswer),
    Failed(OracleFailure),
}

/// One oracle's page of a lease's judged intervals.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OracleAnswer {
    /// The oracle as configured.
    pub url: String,
    /// The oracle's signing key (base58): whose verdicts these are.
    pub oracle: String,
    /// Each judged interval, oldest first, as the oracle serves it: `start` and `end` (Unix seconds) and why it
    /// was or was not paid (`reason`: `proven`, `missed`, `excused`, `foreign_process`, `dropped_image`,
    /// `missing_gpu`, `gpu_mismatch`, `challenge_failed`, `renter_disagreement`, with the reason's own fields; see the
    /// oracle's
    /// `/openapi.json`). None yet for a lease the oracle has not judged.
    #[schema(value_type = Vec<Object>)]
    pub intervals: Vec<Value>,
    /// `from` of this oracle's next page; `null` on its last.
    pub next: Option<i64>,
}

/// An oracle that could not be heard: unreachable, too slow, or refusing the request.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OracleFailure {
    /// The oracle as configured.
    pub url: String,
    /// What went wrong.
    pub error: String,
}

/// What an oracle's `GET /v1/leases/{lease}/intervals` answers (only the envelope is read; the intervals pass
/// through as they are).
#[derive(Deserialize)]
struct OraclePage {
    oracle: String,
    intervals: Vec<Value>,
    next: Option<i64>,
}

async fn ask(
    http: reqwest::Client,
    timeout: Duration,
    url: String,
    lease: String,
    from: i64,
    limit: i64,
) -> OracleIntervals {
    let request = http.get(format!("{url}/v1/leases/{lease}/intervals")).query(&[("from", from), ("limit", limit)]);
    let failed = |error: String| OracleIntervals::Failed(OracleFailure { url: url.clone(), error });
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(e) if e.is_timeout() => return failed(format!("no answer within {timeout:?}")),
        Err(e) if e.is_connect() => return failed(format!("unreachable: {}", source_of(&e))),
        Err(e) => return failed(format!("request failed: {}", source_of(&e))),
    };
    let status = response.status();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > MAX_ORACLE_BODY => {
                return failed(format!("answered more than {MAX_ORACLE_BODY} bytes"));
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) if e.is_timeout() => return failed(format!("no answer within {timeout:?}")),
            Err(e) => return failed(format!("reading the answer failed: {}", source_of(&e))),
        }
    }
    if !status.is_success() {
        // The oracle's JSON error (`{"error": {"code", "message"}}`) when it sent one.
        let error: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let said = match (error["error"]["code"].as_str(), error["error"]["message"].as_str()) {
            (Some(code), Some(message)) => format!(": {code}: {message}"),
            _ => String::new(),
        };
        return failed(format!("answered {}{said}", status.as_u16()));
    }
    match serde_json::from_slice::<OraclePage>(&body) {
        Ok(page) => OracleIntervals::Answered(OracleAnswer {
            url: url.clone(),
            oracle: page.oracle,
            intervals: page.intervals,
            next: page.next,
        }),
        Err(e) => failed(format!("not a page of intervals: {e}")),
    }
}

/// The innermost cause of a client error (reqwest's own text only says "error sending request").
fn source_of(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Every configured oracle's verdicts on the lease's intervals, asked at once; an oracle that cannot be heard
/// is an entry with its `error`, never a failure of the whole answer.
#[utoipa::path(get, path = "/v1/leases/{address}/intervals", summary = "Why each interval of a lease was or was not paid, from every configured oracle",
    params(("address" = String, Path, description = "base58 account address", format = "solana-address", pattern = "^[1-9A-HJ-NP-Za-km-z]{32,44}$"), IntervalQuery),
    responses(
        (status = 200, description = "each configured oracle's page of intervals, or its error", body = LeaseIntervals),
        (status = 400, description = "bad address or page", body = ErrorBody),
        (status = 500, description = "server fault", body = ErrorBody)))]
pub async fn lease_intervals(
    State(state): State<Arc<ApiState>>,
    Path(address_text): Path<String>,
    page: Result<Query<IntervalQuery>, QueryRejection>,
) -> ApiResult {
    let lease = address(&address_text)?;
    let page = query(page)?;
    let (from, limit) = (page.from.unwrap_or(0), limit(page.limit)?);
    let Oracles { urls, http, timeout } = &state.oracles;
    let asked: Vec<_> = urls
        .iter()
        .map(|url| tokio::spawn(ask(http.clone(), *timeout, url.clone(), lease.clone(), from, limit)))
        .collect();
    let mut oracles = Vec::with_capacity(asked.len());
    for (url, answer) in urls.iter().zip(asked) {
        oracles.push(answer.await.unwrap_or_else(|e| {
            OracleIntervals::Failed(OracleFailure { url: url.clone(), error: format!("asking it failed: {e}") })
        }));
    }
    Ok(Json(LeaseIntervals { lease, oracles }).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_urls_come_from_a_list_or_a_comma_separated_variable() {
        std::env::set_var("TLIDXTEST_ORACLE_URLS", "http://o1:8780, http://o2:8780/");
        let config: crate::Config = timelock_service_kit::load_config(None, "TLIDXTEST_").unwrap();
        assert_eq!(config.oracle_urls, ["http://o1:8780", "http://o2:8780/"]);
        std::env::set_var("TLIDXTEST_ORACLE_URLS", r#"["http://o3:8780"]"#);
        let config: crate::Config = timelock_service_kit::load_config(None, "TLIDXTEST_").unwrap();
        assert_eq!(config.oracle_urls, ["http://o3:8780"]);
        std::env::remove_var("TLIDXTEST_ORACLE_URLS");
        let config: crate::Config = timelock_service_kit::load_config(None, "TLIDXTEST_").unwrap();
        assert!(config.oracle_urls.is_empty(), "none by default");

        let oracles = Oracles::new(&config.oracle_urls, Duration::from_secs(5)).unwrap();
        assert!(oracles.urls.is_empty());
        let oracles = Oracles::new(&["http://o2:8780/".into()], Duration::from_secs(5)).unwrap();
        assert_eq!(oracles.urls, ["http://o2:8780"]);
        for bad in ["o1:8780", "ftp://o1", "not a url"] {
            assert!(Oracles::new(&[bad.into()], Duration::from_secs(5)).is_err(), "{bad}");
        }
    }
}
