use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use timelock_protocol::policy::PolicyParams;

/// The oracle's settings: defaults, then a TOML file (`--config`), then `TIMELOCK_ORACLE_*` variables and
/// `DATABASE_URL`.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(default)]
pub struct Config {
    pub listen: String,
    pub database_url: String,
    /// Cluster URL or moniker (`localhost`, `devnet`, ...).
    pub rpc_url: String,
    /// The oracle's signing keypair (Solana CLI format); its public key must be in the config's oracle set.
    pub keypair: PathBuf,
    /// The agents' heartbeat interval: one judged interval of the policy.
    pub interval_secs: i64,
    /// Consecutive missed intervals that are unpaid but not a fault.
    pub offline_tolerance: u32,
    /// How far a heartbeat's timestamp may be from the oracle's clock.
    pub max_clock_skew_secs: i64,
    pub max_body_bytes: usize,
    /// Heartbeats waiting to be stored; beyond this the service answers 429.
    pub queue_capacity: usize,
    /// Most heartbeats verified and stored in one database transaction.
    pub max_batch: usize,
    /// How long worker and lease accounts are cached.
    pub chain_cache_secs: u64,
    /// How old a cached account may be when it is served because the node fails.
    pub chain_stale_secs: u64,
    pub attest_every_secs: u64,
    /// `/ready` turns 503 when no attestation round has succeeded for this long.
    pub ready_max_silence_secs: u64,
    pub request_timeout_secs: u64,
    /// Micro-lamports per compute unit on attestation transactions.
    pub priority_fee: u64,
    /// Matrix size of the benchmark challenge.
    pub challenge_size: u32,
    /// How often each leased worker is challenged.
    pub challenge_every_secs: i64,
    /// Time allowed between issuing a challenge (in the answer to a heartbeat) and receiving its answer; an
    /// answer later than the model's computing time plus network slack passes no more (`TooSlow`).
    pub challenge_timeout_secs: i64,
    /// Longest computation accepted per GPU model (catalog name); `challenge_max_micros_default` for others.
    pub challenge_max_micros: BTreeMap<String, u64>,
    pub challenge_max_micros_default: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8780".into(),
            database_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            rpc_url: "localhost".into(),
            keypair: PathBuf::from("oracle-keypair.json"),
            interval_secs: 30,
            offline_tolerance: 2,
            max_clock_skew_secs: 60,
            max_body_bytes: 64 * 1024,
            queue_capacity: 50_000,
            max_batch: 2_048,
            chain_cache_secs: 30,
            chain_stale_secs: 120,
            attest_every_secs: 60,
            ready_max_silence_secs: 300,
            request_timeout_secs: 10,
            priority_fee: 0,
            challenge_size: 96,
            challenge_every_secs: 3_600,
            challenge_timeout_secs: 120,
            challenge_max_micros: BTreeMap::new(),
            challenge_max_micros_default: 5_000_000,
        }
    }
}

impl Config {
    pub fn policy(&self) -> PolicyParams {
        PolicyParams {
            interval_secs: self.interval_secs,
            offline_tolerance: self.offline_tolerance,
            fault_span_secs: timelock::constants::FAULT_SPAN_SECS,
        }
    }

    pub fn challenge_max_micros(&self, gpu_model: &str) -> u64 {
        self.challenge_max_micros.get(gpu_model).copied().unwrap_or(self.challenge_max_micros_default)
    }

    /// The answer to a challenge carries the whole product (about 11 bytes an entry as JSON).
    pub fn max_answer_bytes(&self) -> usize {
        let entries = (self.challenge_size as usize).pow(2);
        self.max_body_bytes.max(entries * 11 + 4_096)
    }
}
