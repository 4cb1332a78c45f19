use std::sync::Arc;

use sqlx::postgres::PgPoolOptions;
use timelock_oracle::chain::SharedBackend;
use timelock_oracle::Config;
use timelock_sdk::rpc::{read_keypair, RpcBackend};
use timelock_service_kit::ServiceArgs;

#[global_allocator]
static ALLOCATOR: timelock_oracle::Allocator = timelock_oracle::Allocator {};

fn main() {
    timelock_oracle::keep_freed_memory();
    timelock_service_kit::init_tracing();
    let args = ServiceArgs::from_env(
        "timelock-oracle",
        "Judges GPU heartbeats and attests proven time on chain",
        "TIMELOCK_ORACLE_",
        &[],
    );
    let config: Config = timelock_service_kit::load_config(args.config.as_deref(), "TIMELOCK_ORACLE_")
        .unwrap_or_else(|error| fail(&error.to_string()));
    let signer = read_keypair(&config.keypair).unwrap_or_else(|error| fail(&error));
    // The blocking RPC client owns a runtime of its own: it is made, and finally dropped, outside the service's.
    let backend: SharedBackend = Arc::new(RpcBackend::new(&config.rpc_url));
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Err(error) = runtime.block_on(async {
        let pool = PgPoolOptions::new().max_connections(16).connect(&config.database_url).await.map_err(|e| {
            format!("cannot connect to {}: {e}", timelock_service_kit::redact_url(&config.database_url))
        })?;
        let oracle =
            timelock_oracle::start(config, backend.clone(), pool, signer, true).await.map_err(|e| e.to_string())?;
        println!("timelock-oracle listening on http://{}", oracle.addr);
        timelock_service_kit::shutdown_signal().await;
        oracle.stop().await;
        Ok::<(), String>(())
    }) {
        fail(&error);
    }
    drop(runtime);
    drop(backend);
}

fn fail(message: &str) -> ! {
    tracing::error!("{message}");
    eprintln!("error: {message}");
    std::process::exit(1)
}
