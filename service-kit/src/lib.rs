//! What every timelock service shares, so that the oracle and the indexer behave alike: configuration from a
//! file and the environment, JSON errors, Prometheus metrics, the HTTP layers (timeouts, CORS, tracing) and a
//! graceful shutdown on Ctrl-C or SIGTERM.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower_http::cors::CorsLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

mod args;
mod copy;
mod error;
mod readiness;
mod writer_lock;

pub use args::{Invocation, ServiceArgs};
pub use copy::CopyRows;
pub use error::{ApiError, ErrorBody, ErrorCode, ErrorDetail};
pub use readiness::{health, Health, Readiness};
pub use writer_lock::{WriterLock, WriterLockError};

/// Why a service's settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(std::path::PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
}

/// Defaults, then the TOML file (when given), then `DATABASE_URL` for the field `database_url` (the variable every
/// Postgres tool already honours), then `PREFIX_FIELD` environment variables (`PREFIX_DATABASE_URL` wins over
/// `DATABASE_URL`).
pub fn load_config<T: Serialize + DeserializeOwned + Default>(
    file: Option<&Path>,
    env_prefix: &str,
) -> Result<T, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Some(file) = file {
        if !file.exists() {
            return Err(ConfigError::MissingFile(file.to_path_buf()));
        }
        figment = figment.merge(Toml::file(file));
    }
    // The service's own variable wins over the generic `DATABASE_URL` another tool may have set.
    figment
        .merge(Env::raw().only(&["DATABASE_URL"]))
        .merge(Env::prefixed(env_prefix))
        .extract()
        .map_err(|e| ConfigError::Invalid(Box::new(e)))
}

/// A connection URL fit for a log line: its password, if any, replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((credentials, host)) = rest.rsplit_once('@') else { return url.to_string() };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// `RUST_LOG` filtering (default `info`); JSON lines when `LOG_FORMAT=json`, for log shippers.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and systemd send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested; finishing in-flight work");
}

/// Counters and gauges in the Prometheus text format. Each series is an atomic, so hot paths pay one add.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<String, Series>>,
}

struct Series {
    help: &'static str,
    kind: &'static str,
    values: BTreeMap<String, Arc<AtomicU64>>,
}

impl Metrics {
    /// A monotonic counter; `labels` like `reason="replay"` (empty for none).
    pub fn counter(&self, name: &str, help: &'static str, labels: &str) -> Arc<AtomicU64> {
        self.series(name, help, "counter", labels)
    }

    /// A value that goes up and down (set with `store`).
    pub fn gauge(&self, name: &str, help: &'static str, labels: &str) -> Arc<AtomicU64> {
        self.series(name, help, "gauge", labels)
    }

    fn series(&self, name: &str, help: &'static str, kind: &'static str, labels: &str) -> Arc<AtomicU64> {
        let mut series = self.series.lock().expect("metrics lock");
        let entry = series.entry(name.to_string()).or_insert_with(|| Series { help, kind, values: BTreeMap::new() });
        entry.values.entry(labels.to_string()).or_default().clone()
    }

    pub fn render(&self) -> String {
        let series = self.series.lock().expect("metrics lock");
        let mut out = String::new();
        for (name, s) in series.iter() {
            out.push_str(&format!("# HELP {name} {}\n# TYPE {name} {}\n", s.help, s.kind));
            for (labels, value) in &s.values {
                let labels = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
                out.push_str(&format!("{name}{labels} {}\n", value.load(Ordering::Relaxed)));
            }
        }
        out
    }
}

/// The layers every API gets: a request timeout answered as JSON 503, permissive CORS (read-only explorers
/// call from browsers), request tracing, and a JSON 404 for unknown routes.
pub fn with_common_layers(router: Router, request_timeout: Duration, metrics: Arc<Metrics>) -> Router {
    let statuses = Arc::new(StatusCounters { metrics, counters: std::array::from_fn(|_| std::sync::OnceLock::new()) });
    router
        .fallback(|| async { ApiError::new(ErrorCode::NoSuchRoute, "no such route; see /openapi.json or the README") })
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, request_timeout))
        .layer(CorsLayer::permissive())
        // Outermost, so that timeouts, preflights and unknown routes are counted too: every response is, as
        // it leaves (a counter per status, found without a lock or an allocation once it exists).
        .layer(TraceLayer::new_for_http().on_response(
            move |response: &axum::http::Response<_>, latency: Duration, span: &tracing::Span| {
                use tower_http::trace::OnResponse;
                statuses.count(response.status());
                tower_http::trace::DefaultOnResponse::default().on_response(response, latency, span);
            },
        ))
}

/// `http_responses_total` by status.
struct StatusCounters {
    metrics: Arc<Metrics>,
    counters: [std::sync::OnceLock<Arc<AtomicU64>>; 1000],
}

impl StatusCounters {
    fn count(&self, status: StatusCode) {
        let code = status.as_u16();
        if let Some(slot) = self.counters.get(code as usize) {
            let labels = || format!("status=\"{code}\"");
            let counter = slot
                .get_or_init(|| self.metrics.counter("http_responses_total", "HTTP responses by status.", &labels()));
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The `$ref`s of an OpenAPI document that name no schema of its own (empty when every one resolves): what a
/// generated document's test checks.
pub fn unresolved_refs(document: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    found.push(target.clone());
                }
                map.values().for_each(|v| walk(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(document, &mut found);
    found
        .into_iter()
        .filter(|target| {
            let name = target.strip_prefix("#/components/schemas/").unwrap_or(target);
            !document["components"]["schemas"][name].is_object()
        })
        .collect()
}

/// What a service's HTTP server tolerates from a client before it lets go of it.
#[derive(Clone, Copy, Debug)]
pub struct ServeLimits {
    /// A client must send a request's headers within this (a slowloris holding sockets open with a byte a
    /// minute is cut off).
    pub header_read_timeout: Duration,
    /// Open connections at most; beyond it new ones are closed at once, so sockets and memory stay bounded.
    pub max_connections: usize,
    /// How long a graceful shutdown waits for requests in flight.
    pub drain_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4_096,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, ServeLimits::default()).await
}

/// [`serve`] under explicit [`ServeLimits`].
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    limits: ServeLimits,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let open = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(limit = limits.max_connections, "connection limit reached; closing a new connection");
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after the drain timeout; closing them");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_in_a_log_line_keeps_no_password() {
        assert_eq!(redact_url("postgres://app:s3cr:et@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(redact_url("postgres://postgres@127.0.0.1/x"), "postgres://postgres@127.0.0.1/x");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[derive(Serialize, serde::Deserialize, Default, Debug, PartialEq)]
    struct Sample {
        listen: String,
        database_url: String,
        batch: u32,
    }

    #[test]
    // figment's `Jail` closure returns its own (large) error type.
    #[allow(clippy::result_large_err)]
    fn config_layers_file_then_env() {
        let dir = std::env::temp_dir().join(format!("kit-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:1\"\nbatch = 5\n").unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("KITTEST_BATCH", "9");
            jail.set_env("DATABASE_URL", "postgres://x/y");
            let config: Sample = load_config(Some(&file), "KITTEST_").unwrap();
            assert_eq!(config, Sample { listen: "0.0.0.0:1".into(), database_url: "postgres://x/y".into(), batch: 9 });
            // The service's own variable wins over the generic one.
            jail.set_env("KITTEST_DATABASE_URL", "postgres://mine/db");
            let config: Sample = load_config(Some(&file), "KITTEST_").unwrap();
            assert_eq!(config.database_url, "postgres://mine/db");
            Ok(())
        });
        assert!(load_config::<Sample>(Some(&dir.join("missing.toml")), "KITTEST_")
            .unwrap_err()
            .to_string()
            .contains("does not exist"));
    }

    #[test]
    fn metrics_render_in_prometheus_text_format() {
        let metrics = Metrics::default();
        metrics.counter("requests_total", "Requests.", "code=\"202\"").fetch_add(3, Ordering::Relaxed);
        metrics.counter("requests_total", "Requests.", "code=\"409\"").fetch_add(1, Ordering::Relaxed);
        let text = metrics.render();
        assert!(text.contains("# TYPE requests_total counter\n"));
        assert!(text.contains("requests_total{code=\"202\"} 3\n"));
        assert!(text.contains("requests_total{code=\"409\"} 1\n"));
    }
}

#[cfg(test)]
mod serve_tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn started(limits: ServeLimits) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve_with(
            listener,
            router,
            async move {
                let _ = stopped.await;
            },
            limits,
        ));
        (addr, stop)
    }

    #[tokio::test]
    async fn a_client_that_never_finishes_its_headers_is_cut_off() {
        let limits = ServeLimits { header_read_timeout: Duration::from_millis(300), ..ServeLimits::default() };
        let (addr, stop) = started(limits).await;
        let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "the server still holds a connection whose headers never ended");
        // An honest client is served meanwhile.
        let mut honest = tokio::net::TcpStream::connect(addr).await.unwrap();
        honest.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        honest.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"), "{answer}");
        let _ = stop.send(());
    }

    #[tokio::test]
    async fn connections_beyond_the_limit_are_closed() {
        let limits = ServeLimits { max_connections: 2, ..ServeLimits::default() };
        let (addr, stop) = started(limits).await;
        let _held: Vec<_> = futures_connect(addr, 2).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut extra = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = extra.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), extra.read_to_end(&mut rest)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "over the limit: closed without an answer");
        let _ = stop.send(());
    }

    async fn futures_connect(addr: std::net::SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
        let mut streams = Vec::new();
        for _ in 0..n {
            streams.push(tokio::net::TcpStream::connect(addr).await.unwrap());
        }
        streams
    }
}
