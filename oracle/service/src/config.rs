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
    /// Accounts each chain cache holds (workers, leases) and leases the challenge schedule remembers: at least the
    /// hosts this oracle serves, or their heartbeats fall through to node reads and database queries. Keys found
    /// not to exist (made-up ones: keys come from requests) are held apart, a quarter of this more, and evict only
    /// each other. An entry is 344 bytes (a worker), 168 (a lease) or 328 (a schedule entry), before the maps' slack.
    pub cache_entries: usize,
    pub attest_every_secs: u64,
    /// `/ready` turns 503 when no attestation round has succeeded for this long.
    pub ready_max_silence_secs: u64,
    pub request_timeout_secs: u64,
    /// Micro-lamports per compute unit on attestation transactions.
    pub priority_fee: u64,
    /// How often each leased worker is challenged, on average: each challenge draws when the next is due, from half
    /// to one and a half of this, so several come per lease-hour at times the supplier cannot predict.
    pub challenge_every_secs: i64,
    /// Time allowed for the whole exchange, from issue (in the answer to a heartbeat) to the opening; a challenge
    /// with no verdict by then failed.
    pub challenge_timeout_secs: i64,
    /// The challenge of each GPU class (catalog model name): its matrix size and the milliseconds from issue
    /// within which the commitment must arrive. A class not listed gets `challenge_default`.
    pub challenge_classes: BTreeMap<String, ChallengeClass>,
    pub challenge_default: ChallengeClass,
    /// Product rows the agent opens once committed (each a ~1/p chance for a row it did not compute).
    pub challenge_rows: u32,
    /// Seconds from the probe within which the opening must arrive (reading memory, no computing).
    pub challenge_open_secs: i64,
    /// How long a lease's heartbeats are kept after it was last seen open on chain (its totals are final once it
    /// is closed; this is the auditors' time). Verdicts and evidence digests are kept for good.
    pub evidence_keep_secs: i64,
    /// How often daily heartbeat partitions are created ahead and expired ones dropped.
    pub retention_every_secs: u64,
}

/// The benchmark challenge of a GPU class.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChallengeClass {
    pub size: u32,
    pub commit_ms: u64,
}

/// Sizes for which a GPU of the class computes, hashes and commits in about a second or two, and its deadline.
/// No GPU was lent when these were set: they are estimates from the classes' integer throughput (the product
/// costs n³ 32×32→64-bit multiply-adds), to be replaced by the figures `docs/gpu-evidence.md` records from a
/// real card. A CPU answering n = 8192 needs 5.5·10¹¹ modular multiply-adds: minutes, not seconds.
///
/// Not the default yet: the agent's CUDA solver is not written, and with this table every honest agent would
/// fail every challenge (its CPU solver refuses such sizes). An operator turns it on with `challenge_classes`
/// once agents run the GPU solver.
pub fn gpu_challenge_classes() -> BTreeMap<String, ChallengeClass> {
    [
        ("B200", 8_192, 2_500),
        ("H200", 8_192, 3_000),
        ("H100-SXM", 8_192, 3_000),
        ("H100-PCIE", 8_192, 4_000),
        ("A100-80G", 8_192, 6_000),
        ("A100-40G", 8_192, 6_000),
        ("L40S", 6_144, 5_000),
        ("RTX-4090", 6_144, 5_000),
        ("A6000", 6_144, 6_000),
        ("RTX-3090", 4_096, 4_000),
    ]
    .into_iter()
    .map(|(model, size, commit_ms)| (model.to_string(), ChallengeClass { size, commit_ms }))
    .collect()
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
            // A shard's 250,000 hosts at a million single-GPU hosts, with room.
            cache_entries: 300_000,
            attest_every_secs: 60,
            ready_max_silence_secs: 300,
            request_timeout_secs: 10,
            priority_fee: 0,
            challenge_every_secs: 1_200,
            challenge_timeout_secs: 120,
            challenge_classes: BTreeMap::new(),
            challenge_default: ChallengeClass { size: 96, commit_ms: 5_000 },
            challenge_rows: 16,
            challenge_open_secs: 30,
            evidence_keep_secs: timelock::constants::MAX_DISPUTE_WINDOW_SECS,
            retention_every_secs: 3_600,
        }
    }
}

impl Config {
    pub fn policy(&self) -> PolicyParams {
        PolicyParams {
            interval_secs: self.interval_secs,
            offline_tolerance: self.offline_tolerance,
            fault_span_secs: timelock::constants::FAULT_SPAN_SECS,
            // The challenge a complaint triggers goes out at the oracle's next turn (at most one interval per
            // oracle of the set away, one more for a heartbeat that missed it) and is answered within its timeout.
            renter_cover_secs: self.interval_secs * (timelock::constants::MAX_ORACLES as i64 + 1)
                + self.challenge_timeout_secs,
        }
    }

    pub fn challenge_class(&self, gpu_model: &str) -> ChallengeClass {
        self.challenge_classes.get(gpu_model).copied().unwrap_or(self.challenge_default)
    }

    /// An opening carries C·r and the opened rows (about 11 bytes an entry as JSON) with their proofs.
    pub fn max_opening_bytes(&self) -> usize {
        let largest = self.challenge_classes.values().chain([&self.challenge_default]).map(|c| c.size).max();
        let n = largest.unwrap_or(0) as usize;
        let entries = n * (1 + self.challenge_rows as usize);
        let proofs = self.challenge_rows as usize * 32 * 70;
        self.max_body_bytes.max(entries * 11 + proofs + 4_096)
    }
}
