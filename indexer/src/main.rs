use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use sqlx::postgres::PgPoolOptions;
use timelock_indexer::source::RpcSource;
use timelock_indexer::{Config, StartError};
use timelock_service_kit::ServiceArgs;

#[tokio::main]
async fn main() {
    timelock_service_kit::init_tracing();
    let args = ServiceArgs::from_env(
        "timelock-indexer",
        "Mirrors timelock into Postgres and serves the query API",
        "TIMELOCK_INDEXER_",
        &[("api-only", "Serve the API only, without ingesting (read replicas)")],
    );
    if let Err(error) = run(args).await {
        tracing::error!("{error}");
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

async fn run(args: ServiceArgs) -> Result<(), StartError> {
    let config: Config = timelock_service_kit::load_config(args.config.as_deref(), "TIMELOCK_INDEXER_")?;
    let program = Pubkey::from_str(&config.program_id).map_err(|e| StartError::Config(format!("program_id: {e}")))?;
    let commitment =
        CommitmentConfig::from_str(&config.commitment).map_err(|e| StartError::Config(format!("commitment: {e}")))?;
    let pool =
        PgPoolOptions::new().max_connections(16).connect(&config.database_url).await.map_err(StartError::Database)?;
    let url = timelock_sdk::rpc::resolve_url(&config.rpc_url);
    let source = (!args.has("api-only")).then(|| RpcSource::new(&url, program, commitment));
    let indexer = timelock_indexer::start(&config, pool, source).await?;
    println!("timelock-indexer listening on http://{}", indexer.addr);
    timelock_service_kit::shutdown_signal().await;
    indexer.stop().await;
    Ok(())
}
