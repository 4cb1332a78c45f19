use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use sqlx::postgres::PgPoolOptions;
use timelock_oracle::Config;
use timelock_sdk::rpc::{read_keypair, RpcBackend};

#[derive(Parser, Debug)]
#[command(name = "timelock-oracle", version, about = "Judges GPU heartbeats and attests proven time on chain")]
struct Args {
    /// TOML configuration file; every field can also be set as TIMELOCK_ORACLE_<FIELD> (DATABASE_URL too).
    #[arg(long, env = "TIMELOCK_ORACLE_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() {
    timelock_service_kit::init_tracing();
    if let Err(error) = run(Args::parse()).await {
        tracing::error!("{error}");
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let config: Config = timelock_service_kit::load_config(args.config.as_deref(), "TIMELOCK_ORACLE_")?;
    let signer = read_keypair(&config.keypair)?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", config.database_url))?;
    let backend = Arc::new(RpcBackend::new(&config.rpc_url));
    let oracle = timelock_oracle::start(config, backend, pool, signer, true).await.map_err(|e| e.to_string())?;
    println!("timelock-oracle listening on http://{}", oracle.addr);
    timelock_service_kit::shutdown_signal().await;
    oracle.stop().await;
    Ok(())
}
