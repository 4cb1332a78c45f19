//! Real faults for the outage drills: a PostgreSQL server of the test's own that it stops and starts (a real
//! restart, not a mock), and a chain node that stops answering.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_account::Account;
use timelock_sdk::client::{Backend, ClientError, Memcmp, Result, Simulation};

/// A PostgreSQL cluster of one test (`scripts/pg-cluster.sh`), removed when dropped.
pub struct PrivateServer {
    dir: tempfile::TempDir,
    pub port: u16,
}

fn cluster(args: &[&str]) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-cluster.sh");
    let status = std::process::Command::new(script).args(args).status().expect("pg-cluster.sh runs");
    assert!(status.success(), "pg-cluster.sh {args:?} failed");
}

impl PrivateServer {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new().prefix("timelock-pg-drill").tempdir().expect("temp dir");
        let port = crate::free_port();
        let server = PrivateServer { dir, port };
        cluster(&["init", server.dir(), &port.to_string()]);
        server
    }

    fn dir(&self) -> &str {
        self.dir.path().to_str().expect("UTF-8 temp dir")
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: sessions are cut, as in a crash of the connection).
    pub fn stop(&self) {
        cluster(&["stop", self.dir()]);
    }

    pub fn resume(&self) {
        cluster(&["start", self.dir(), &self.port.to_string()]);
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-cluster.sh");
        let _ = std::process::Command::new(script).args(["stop", self.dir()]).status();
    }
}

/// A chain node that can be switched off: while `down`, every call fails as an unreachable node does.
pub struct Unreliable<B> {
    inner: B,
    down: AtomicBool,
}

impl<B: Backend> Unreliable<B> {
    pub fn new(inner: B) -> Arc<Self> {
        Arc::new(Unreliable { inner, down: AtomicBool::new(false) })
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn check(&self) -> Result<()> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ClientError::Rpc("connection refused (the node is down)".into()));
        }
        Ok(())
    }
}

impl<B: Backend> Backend for Unreliable<B> {
    fn get_multiple_accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>> {
        self.check()?;
        self.inner.get_multiple_accounts(addresses)
    }
    fn get_program_accounts(&self, program: &Pubkey, filters: &[Memcmp]) -> Result<Vec<(Pubkey, Account)>> {
        self.check()?;
        self.inner.get_program_accounts(program, filters)
    }
    fn latest_blockhash(&self) -> Result<solana_hash::Hash> {
        self.check()?;
        self.inner.latest_blockhash()
    }
    fn simulate(&self, transaction: &solana_transaction::versioned::VersionedTransaction) -> Result<Simulation> {
        self.check()?;
        self.inner.simulate(transaction)
    }
    fn send_and_confirm(
        &self,
        transaction: &solana_transaction::versioned::VersionedTransaction,
    ) -> Result<solana_signature::Signature> {
        self.check()?;
        self.inner.send_and_confirm(transaction)
    }
    fn unix_timestamp(&self) -> Result<i64> {
        self.check()?;
        self.inner.unix_timestamp()
    }
    fn slot(&self) -> Result<u64> {
        self.check()?;
        self.inner.slot()
    }
}

/// A JSON-RPC node in front of another, counting the calls by method; when `forgetful`, it answers `null` for
/// every signature status, as a node that lags or one behind a load balancer that has not seen them does:
/// what finality must not take for "dropped".
pub struct NodeProxy {
    pub url: String,
    calls: Arc<std::sync::Mutex<std::collections::BTreeMap<String, usize>>>,
    down: Arc<AtomicBool>,
    server: tokio::task::JoinHandle<()>,
}

impl NodeProxy {
    pub async fn start(upstream: &str, forgetful: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let calls = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
        let down = Arc::new(AtomicBool::new(false));
        let (client, upstream, counted, off) =
            (reqwest::Client::new(), upstream.to_string(), calls.clone(), down.clone());
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            let (client, upstream, counted, off) = (client.clone(), upstream.clone(), counted.clone(), off.clone());
            async move {
                use axum::response::IntoResponse;
                if off.load(Ordering::SeqCst) {
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                forward(&client, &upstream, body, forgetful, &counted).await
            }
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        NodeProxy { url, calls, down, server }
    }

    /// The node stops answering (503 to everything), or answers again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Calls of `method` so far.
    pub fn calls(&self, method: &str) -> usize {
        self.calls.lock().expect("calls lock").get(method).copied().unwrap_or(0)
    }
}

impl Drop for NodeProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Calls = std::sync::Mutex<std::collections::BTreeMap<String, usize>>;

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    body: axum::body::Bytes,
    forgetful: bool,
    calls: &Calls,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let requests = match &request {
        serde_json::Value::Array(requests) => requests.iter().collect(),
        single => vec![single],
    };
    for method in requests.iter().filter_map(|r| r["method"].as_str()) {
        *calls.lock().expect("calls lock").entry(method.to_string()).or_default() += 1;
    }
    let sent = client.post(upstream).header("content-type", "application/json").body(body.to_vec()).send().await;
    let Ok(response) = sent else { return axum::http::StatusCode::BAD_GATEWAY.into_response() };
    let mut answer: serde_json::Value = response.json().await.unwrap_or_default();
    if forgetful {
        forget_statuses(&request, &mut answer);
    }
    axum::Json(answer).into_response()
}

fn forget_statuses(request: &serde_json::Value, answer: &mut serde_json::Value) {
    match (request, answer) {
        (serde_json::Value::Array(requests), serde_json::Value::Array(answers)) => {
            requests.iter().zip(answers.iter_mut()).for_each(|(r, a)| forget_statuses(r, a));
        }
        (request, answer) if request["method"] == "getSignatureStatuses" => {
            if let Some(statuses) = answer["result"]["value"].as_array_mut() {
                statuses.iter_mut().for_each(|status| *status = serde_json::Value::Null);
            }
        }
        _ => {}
    }
}
