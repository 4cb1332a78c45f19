//! A booked cluster whose workers have device keys the test holds, on the real .so in LiteSVM, shared with
//! oracle services the test starts: the world of the oracle tests, its benchmark and its crash test.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anchor_lang::prelude::Pubkey;
use ed25519_dalek::SigningKey;
use solana_signer::Signer;
use sqlx::PgPool;
use timelock_oracle::{Config, RunningOracle};
use timelock_protocol::{GpuSample, Heartbeat, SignedHeartbeat};

use crate::svm_backend::SvmBackend;
use crate::{Renter, TestFixture, ONE_USDC};

/// The image the renter declares as its workload and runs.
pub const JOB_IMAGE: &str = "ghcr.io/renter/job:v1";
pub const CLUSTER_ID: u64 = 1;

pub struct LeasedWorker {
    pub worker: Pubkey,
    pub supplier: Pubkey,
    pub lease: Pubkey,
    pub device: SigningKey,
    pub gpu_count: u16,
}

pub struct OracleWorld {
    pub chain: Arc<SvmBackend<TestFixture>>,
    pub renter: Renter,
    pub workers: Vec<LeasedWorker>,
    /// When the leases started (chain time).
    pub start: i64,
}

pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

/// Device key of the `i`-th worker: derived, so a separate process can rebuild the same world.
pub fn device_key(i: usize) -> SigningKey {
    let mut seed = [0x5e_u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    SigningKey::from_bytes(&seed)
}

impl OracleWorld {
    /// `workers` workers of `gpu_count` H100s, booked for `hours` in one cluster whose leases started
    /// `started_secs_ago` seconds before the wall clock (the chain's clock is set to the wall clock, which the
    /// oracle's timestamp checks use).
    pub fn new(workers: usize, gpu_count: u16, hours: u32, started_secs_ago: i64) -> Self {
        let mut f = TestFixture::new();
        let start = unix_now() - started_secs_ago;
        f.set_time(start);
        let devices: Vec<SigningKey> = (0..workers).map(device_key).collect();
        let keys: Vec<Pubkey> = devices.iter().map(|d| Pubkey::new_from_array(d.verifying_key().to_bytes())).collect();
        let refs = f.workers_with_devices(&keys, gpu_count);
        let renter = f.renter(100_000_000 * ONE_USDC);
        f.create_cluster(&renter, CLUSTER_ID, hours).expect("cluster_create");
        f.set_workload(&renter, CLUSTER_ID, &[JOB_IMAGE]).expect("cluster_set_workload");
        for chunk in refs.chunks(10) {
            f.add_workers(&renter, CLUSTER_ID, chunk).expect("cluster_add_workers");
        }
        let workers = refs
            .iter()
            .zip(devices)
            .map(|(r, device)| LeasedWorker {
                worker: r.worker,
                supplier: r.supplier,
                lease: f.lease_address(&renter, CLUSTER_ID, r),
                device,
                gpu_count,
            })
            .collect();
        f.set_time(unix_now());
        OracleWorld { chain: Arc::new(SvmBackend::new(f)), renter, workers, start }
    }

    /// What an honest agent reports: every GPU present, only the renter's job on them.
    pub fn honest_gpus(&self, worker: usize) -> Vec<GpuSample> {
        self.gpus(worker, &[Some(JOB_IMAGE)])
    }

    /// Every registered GPU of the worker running a process of each image (`None`: a host process).
    pub fn gpus(&self, worker: usize, images: &[Option<&str>]) -> Vec<GpuSample> {
        let w = &self.workers[worker];
        crate::simulated_gpus(&w.worker, w.gpu_count, images)
    }

    pub fn heartbeat(&self, worker: usize, sequence: u64, timestamp: i64, gpus: Vec<GpuSample>) -> SignedHeartbeat {
        let w = &self.workers[worker];
        Heartbeat { worker: w.worker.to_bytes(), lease: w.lease.to_bytes(), sequence, timestamp, gpus }.sign(&w.device)
    }

    /// Settings for tests: any free port, no waiting on caches, and challenges a CPU answers (the test hosts
    /// have no GPU: their H100s get the default class, not the H100's).
    pub fn oracle_config() -> Config {
        Config {
            listen: "127.0.0.1:0".into(),
            chain_cache_secs: 0,
            challenge_classes: Default::default(),
            challenge_default: timelock_oracle::config::ChallengeClass { size: 24, commit_ms: 10_000 },
            ..Config::default()
        }
    }

    /// Starts oracle `index` of the fixture's oracle set (no background rounds: tests call them).
    pub async fn start_oracle(&self, pool: PgPool, index: usize, config: Config) -> RunningOracle {
        self.try_start_oracle(pool, index, config).await.expect("oracle starts")
    }

    pub async fn try_start_oracle(
        &self,
        pool: PgPool,
        index: usize,
        config: Config,
    ) -> Result<RunningOracle, timelock_oracle::StartError> {
        self.start_oracle_on(self.chain.clone(), pool, index, config).await
    }

    /// Oracle `index` reading the chain through `node` (this world's chain behind a fault, say).
    pub async fn start_oracle_on(
        &self,
        node: timelock_oracle::chain::SharedBackend,
        pool: PgPool,
        index: usize,
        config: Config,
    ) -> Result<RunningOracle, timelock_oracle::StartError> {
        let signer = self.chain.lock().oracles[index].insecure_clone();
        assert!(self.chain.lock().config().params.oracles.contains(&signer.pubkey()));
        timelock_oracle::start(config, node, pool, signer, false).await
    }

    /// What worker `index`'s agent needs: its identity, and a telemetry file in `dir` saying all is honest.
    pub fn agent_of(&self, index: usize, dir: &std::path::Path) -> (timelock_agent::Identity, std::path::PathBuf) {
        let telemetry = dir.join(format!("gpus-{index}.json"));
        std::fs::write(&telemetry, serde_json::to_string(&self.honest_gpus(index)).unwrap()).unwrap();
        let identity = timelock_agent::Identity {
            worker: self.workers[index].worker.to_bytes(),
            lease: self.workers[index].lease.to_bytes(),
        };
        (identity, telemetry)
    }

    /// The signing key of oracle `index`: what its challenges and their answers are bound to.
    pub fn oracle_identity(&self, index: usize) -> [u8; 32] {
        self.chain.lock().oracles[index].pubkey().to_bytes()
    }

    pub fn lease(&self, worker: usize) -> timelock::state::Lease {
        self.chain.lock().account(&self.workers[worker].lease)
    }
}
