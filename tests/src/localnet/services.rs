//! Starting the off-chain services against a validator: the oracle service and the indexer, at demo speed.

use std::sync::Arc;

use solana_keypair::Keypair;
use timelock_oracle::config::ChallengeClass;
use timelock_sdk::rpc::RpcBackend;

use super::story::SLOW_PROVER_MODEL;

/// The challenge of the story's A100 class: a product the CPU solver computes in a fraction of a second, due
/// within a millisecond of issue (before the answer carrying it has even left the oracle): always too slow.
pub const SLOW_PROVER_CLASS: ChallengeClass = ChallengeClass { size: 256, commit_ms: 1 };

/// Demo-speed oracle settings: heartbeats every `interval_secs`, attestation rounds every 4 s.
pub fn oracle_config(rpc_url: &str, database_url: String, interval_secs: i64) -> timelock_oracle::Config {
    timelock_oracle::Config {
        listen: "127.0.0.1:0".into(),
        database_url,
        rpc_url: rpc_url.to_string(),
        interval_secs,
        offline_tolerance: 1,
        max_clock_skew_secs: 2 * interval_secs,
        attest_every_secs: 4,
        chain_cache_secs: 5,
        // The simulated hosts have no GPU: their H100s get a challenge a CPU answers. The story's A100 host gets
        // a class sized for a GPU, which its CPU solver cannot commit to in time: it fails its challenges.
        challenge_classes: [(SLOW_PROVER_MODEL.to_string(), SLOW_PROVER_CLASS)].into(),
        challenge_default: timelock_oracle::config::ChallengeClass { size: 32, commit_ms: 10_000 },
        ..timelock_oracle::Config::default()
    }
}

pub async fn start_oracle(
    config: timelock_oracle::Config,
    backend: Arc<RpcBackend>,
    signer: &Keypair,
) -> timelock_oracle::RunningOracle {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect(&config.database_url)
        .await
        .expect("oracle database");
    timelock_oracle::start(config, backend, pool, signer.insecure_clone(), true).await.expect("oracle")
}

/// The indexer on the validator at `rpc_url`, polling every 200 ms at confirmed commitment, asking `oracle_urls`
/// for leases' intervals.
pub async fn start_indexer(
    rpc_url: &str,
    database_url: String,
    oracle_urls: Vec<String>,
) -> timelock_indexer::RunningIndexer {
    let pool =
        sqlx::postgres::PgPoolOptions::new().max_connections(8).connect(&database_url).await.expect("indexer database");
    let config = timelock_indexer::Config {
        listen: "127.0.0.1:0".into(),
        database_url,
        rpc_url: rpc_url.to_string(),
        poll_interval_ms: 200,
        oracle_urls,
        ..timelock_indexer::Config::default()
    };
    let source = timelock_indexer::source::RpcSource::new(
        rpc_url,
        timelock::ID,
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    timelock_indexer::start(&config, pool, Some(source)).await.expect("indexer")
}
