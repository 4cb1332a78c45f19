//! Solana's JSON-RPC over a [`Chain`]: the methods a client, the SDK, the services and `anchor`/`solana` tools
//! use, with the request and response types of the RPC crates themselves (so the shapes cannot drift from what
//! `solana-rpc-client` parses), and the same error codes and texts as Agave where a client reads them.

mod encode;
mod methods;
mod params;

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use self::methods::dispatch;
use crate::chain::Chain;

/// What the node reports as its version: the Agave release whose RPC types it speaks.
pub const SOLANA_CORE_VERSION: &str = "4.2.2";

const INVALID_PARAMS: i64 = -32602;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_REQUEST: i64 = -32600;
const PARSE_ERROR: i64 = -32700;

#[derive(Debug)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError { code, message: message.into(), data: None }
    }

    fn params(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_PARAMS, message)
    }
}

type RpcResult = Result<Value, RpcError>;

pub type SharedChain = Arc<Mutex<Chain>>;

/// Serves JSON-RPC (`POST /`) on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    chain: SharedChain,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Browsers (the web console) call from another origin, as they may on Agave's RPC, which allows any.
    let app = axum::Router::new()
        .route("/", axum::routing::post(rpc).options(|| async { cors(axum::http::StatusCode::NO_CONTENT) }))
        .layer(axum::middleware::map_response(|mut response: axum::response::Response| async move {
            response.headers_mut().extend(cors(()).0);
            response
        }))
        .with_state(chain);
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

fn cors<T>(body: T) -> (axum::http::HeaderMap, T) {
    use axum::http::header::*;
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS"));
    headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type, solana-client"));
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    (headers, body)
}

async fn rpc(
    axum::extract::State(chain): axum::extract::State<SharedChain>,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    // Execution holds the chain's lock for milliseconds: off the async workers.
    let response = tokio::task::spawn_blocking(move || handle_body(&chain, &body)).await.expect("RPC handler");
    axum::Json(response)
}

/// One JSON-RPC request body (a single call or a batch) → the response body.
pub fn handle_body(chain: &SharedChain, body: &[u8]) -> Value {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(calls)) if !calls.is_empty() => {
            Value::Array(calls.iter().map(|c| handle_call(chain, c)).collect())
        }
        Ok(call @ Value::Object(_)) => handle_call(chain, &call),
        Ok(_) => envelope(&Value::Null, Err(RpcError::new(INVALID_REQUEST, "Invalid request"))),
        Err(e) => envelope(&Value::Null, Err(RpcError::new(PARSE_ERROR, format!("Parse error: {e}")))),
    }
}

fn handle_call(chain: &SharedChain, call: &Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = call.get("method").and_then(Value::as_str) else {
        return envelope(&id, Err(RpcError::new(INVALID_REQUEST, "Invalid request: no method")));
    };
    let params = match call.get("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(params)) => params.clone(),
        Some(_) => return envelope(&id, Err(RpcError::params("params must be an array"))),
    };
    let mut chain = chain.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    chain.tick();
    envelope(&id, dispatch(&mut chain, method, &params))
}

fn envelope(id: &Value, result: RpcResult) -> Value {
    match result {
        Ok(result) => json!({"jsonrpc": "2.0", "result": result, "id": id}),
        Err(RpcError { code, message, data }) => {
            let mut error = json!({"code": code, "message": message});
            if let Some(data) = data {
                error["data"] = data;
            }
            json!({"jsonrpc": "2.0", "error": error, "id": id})
        }
    }
}
