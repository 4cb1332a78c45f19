//! The web console (`web/`, built to static files by `make console`) at `/`, beside the API it reads, so that
//! one URL is the whole product; and `/v1/console-config`, which tells the page where the chain is.

use std::path::{Component, Path as FsPath, PathBuf};

use axum::http::{header, StatusCode};

use super::*;

/// What the console is told about its deployment (`console_dir`, `console_rpc_url`, `console_cluster`).
#[derive(Clone, Debug)]
pub struct Console {
    pub dir: PathBuf,
    pub config: ConsoleConfig,
}

/// Where the console's browser reaches the chain.
#[derive(Serialize, Deserialize, Clone, Debug, utoipa::ToSchema)]
pub struct ConsoleConfig {
    /// Solana JSON-RPC URL for the browser (reads accounts, sends the wallet's transactions).
    pub rpc_url: String,
    /// `localnet`, `devnet`, `testnet` or `mainnet-beta`: what the console shows and asks wallets for.
    pub cluster: String,
    /// The timelock program's address.
    pub program_id: String,
}

#[utoipa::path(get, path = "/v1/console-config", summary = "Where the web console reaches the chain: RPC URL, cluster, program", responses((status = 200, description = "OK", body = ConsoleConfig), (status = 400, description = "bad request", body = ErrorBody)))]
pub async fn console_config(State(state): State<Arc<ApiState>>) -> Json<ConsoleConfig> {
    Json(state.console.config.clone())
}

pub async fn console_index(State(state): State<Arc<ApiState>>) -> Response {
    serve_file(&state.console.dir, "index.html").await
}

pub async fn console_asset(State(state): State<Arc<ApiState>>, Path(path): Path<String>) -> Response {
    serve_file(&state.console.dir.join("assets"), &path).await
}

/// A file under `dir`, or a JSON 404 (a path leaving `dir`, or a console that was never built, says so).
async fn serve_file(dir: &FsPath, relative: &str) -> Response {
    let path = FsPath::new(relative);
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return ApiError::new(ErrorCode::NoSuchRoute, "no such file").into_response();
    }
    let file = dir.join(path);
    match tokio::task::spawn_blocking(move || std::fs::read(file)).await {
        Ok(Ok(bytes)) => {
            // Vite names assets by content hash: they never change under a name. The page itself must be
            // re-read so that a new build is picked up.
            let cache = if relative == "index.html" { "no-cache" } else { "public, max-age=31536000, immutable" };
            (StatusCode::OK, [(header::CONTENT_TYPE, content_type(path)), (header::CACHE_CONTROL, cache)], bytes)
                .into_response()
        }
        _ if relative == "index.html" => ApiError::new(
            ErrorCode::NoSuchRoute,
            format!("the console is not built in {}: run `make console` (or set console_dir)", dir.display()),
        )
        .into_response(),
        _ => ApiError::new(ErrorCode::NoSuchRoute, "no such file").into_response(),
    }
}

fn content_type(path: &FsPath) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// The clusters a wallet knows (Wallet Standard's `solana:<cluster>` chains).
pub const CLUSTERS: &[&str] = &["localnet", "devnet", "testnet", "mainnet-beta"];

impl Console {
    pub fn new(config: &crate::Config) -> Result<Console, String> {
        if !CLUSTERS.contains(&config.console_cluster.as_str()) {
            return Err(format!("console_cluster must be one of {CLUSTERS:?}, got {:?}", config.console_cluster));
        }
        // The indexer's own `rpc_url` may carry a provider's key: browsers are told it only on a local chain, and
        // otherwise the cluster's public endpoint unless `console_rpc_url` names one.
        let rpc_url = match (config.console_rpc_url.as_str(), config.console_cluster.as_str()) {
            ("", "localnet") => config.rpc_url.clone(),
            ("", cluster) => format!("https://api.{cluster}.solana.com"),
            (url, _) => url.to_string(),
        };
        Ok(Console {
            dir: config.console_dir.clone(),
            config: ConsoleConfig {
                rpc_url,
                cluster: config.console_cluster.clone(),
                program_id: config.program_id.clone(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_told_the_indexers_rpc_url_only_on_a_local_chain() {
        let config = |cluster: &str, console_rpc_url: &str| crate::Config {
            rpc_url: "https://rpc.example/?api-key=secret".into(),
            console_cluster: cluster.into(),
            console_rpc_url: console_rpc_url.into(),
            ..crate::Config::default()
        };
        let told = |cluster, url| Console::new(&config(cluster, url)).map(|c| c.config.rpc_url);
        assert_eq!(told("localnet", ""), Ok("https://rpc.example/?api-key=secret".into()));
        assert_eq!(told("devnet", ""), Ok("https://api.devnet.solana.com".into()));
        assert_eq!(told("mainnet-beta", ""), Ok("https://api.mainnet-beta.solana.com".into()));
        assert_eq!(told("mainnet-beta", "https://public.example"), Ok("https://public.example".into()));
        assert!(told("mainnet", "").unwrap_err().contains("console_cluster must be one of"));
    }
}
