//! [`Story`]: the demo's lifecycle on a local chain (four hosts, a renter, three oracles and the indexer).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer;
use timelock::state::ConfigParams;
use timelock_agent::Identity;
use timelock_sdk::rpc::RpcBackend;

use super::{
    oracle_config, start_indexer, start_oracle, write_telemetry, SimulatedAgent, Stack, PAYMENT_DECIMALS,
    STAKE_DECIMALS,
};

/// One simulated GPU host of the story.
pub struct Host {
    pub name: &'static str,
    pub index: u32,
    pub worker: Pubkey,
    pub lease: Pubkey,
    pub device: ed25519_dalek::SigningKey,
    pub agent: Option<SimulatedAgent>,
}

pub const GPUS_PER_HOST: u16 = 8;
pub const PRICE: u64 = 2_000_000;
/// The image of the renter's job: its workload on chain, and what its processes run.
pub const JOB: &str = "ghcr.io/renter/job:v1";
pub const HEARTBEAT_SECS: u64 = 3;

/// The lifecycle on a local chain: a supplier stakes and registers four 8 × H100 hosts with the CLI, a renter
/// books them all with the CLI, agents report (two honest, one running a foreign process, one that goes
/// offline), three oracles (threshold 2) judge and attest, the indexer mirrors it all.
pub struct Story {
    pub stack: Stack,
    pub supplier: Keypair,
    pub renter: Keypair,
    pub hosts: Vec<Host>,
    pub database_url: String,
    pub oracles: Vec<Option<timelock_oracle::RunningOracle>>,
    pub oracle_urls: Vec<String>,
    pub indexer: Option<timelock_indexer::RunningIndexer>,
    /// The oracles' chain client, made (and finally dropped) outside any async runtime: the blocking RPC
    /// client owns a runtime of its own.
    backends: Vec<Arc<RpcBackend>>,
    pub run: String,
}

pub const DEMO_DISPUTE_WINDOW_SECS: i64 = 10;

/// Demo-speed protocol settings: 10-second epochs and dispute window, one fault jails.
pub fn demo_params(params: &mut ConfigParams) {
    params.epoch_secs = 10;
    params.dispute_window_secs = DEMO_DISPUTE_WINDOW_SECS;
    params.jail_fault_threshold = 1;
}

impl Story {
    /// Chain, supplier, hosts and booking (all with the CLI); no services yet.
    pub fn booked(dir: &Path, rpc_port: u16, run: &str) -> Story {
        let stack = Stack::start(dir, rpc_port, demo_params);
        let (supplier, supplier_file) = stack.actor("supplier");
        let (renter, renter_file) = stack.actor("renter");
        let _ = (supplier_file, renter_file);
        stack.mint_to(&stack.stake_mint, &supplier.pubkey(), 1_000_000 * 10u64.pow(u32::from(STAKE_DECIMALS)));
        stack.mint_to(&stack.payment_mint, &renter.pubkey(), 10_000 * 10u64.pow(u32::from(PAYMENT_DECIMALS)));
        stack.ata(&supplier.pubkey(), &stack.payment_mint);
        stack.ata(&renter.pubkey(), &stack.stake_mint);
        stack.cli(&supplier, &["supplier", "register"]).expect("supplier register");
        let stake = (100_000 * 10u64.pow(u32::from(STAKE_DECIMALS))).to_string();
        stack.cli(&supplier, &["supplier", "stake", &stake]).expect("supplier stake");
        let names = ["honest-1", "honest-2", "cheater", "flaky"];
        let mut hosts = Vec::new();
        for (i, name) in names.into_iter().enumerate() {
            let device = ed25519_dalek::SigningKey::from_bytes(&rand_seed(i));
            let device_key = Pubkey::new_from_array(device.verifying_key().to_bytes()).to_string();
            let index = (i + 1) as u32;
            let (index_text, gpus, price) = (index.to_string(), GPUS_PER_HOST.to_string(), PRICE.to_string());
            let worker = timelock_sdk::pda::worker(&timelock_sdk::pda::supplier(&supplier.pubkey()).0, index).0;
            let uuids = crate::gpu_uuids(&worker, GPUS_PER_HOST);
            let gpu_args = uuids.iter().flat_map(|uuid| ["--gpu", uuid.as_str()]);
            stack
                .cli(
                    &supplier,
                    &[
                        "worker",
                        "register",
                        "--index",
                        &index_text,
                        "--gpu-model",
                        "H100-SXM",
                        "--gpu-count",
                        &gpus,
                        "--vram-gib",
                        "80",
                        "--cpu-cores",
                        "96",
                        "--ram-gib",
                        "1024",
                        "--region",
                        "US-EAST",
                        "--tier",
                        "4",
                        "--green",
                        "--price",
                        &price,
                        "--device-key",
                        &device_key,
                    ]
                    .into_iter()
                    .chain(gpu_args)
                    .collect::<Vec<_>>(),
                )
                .expect("worker register");
            hosts.push(Host { name, index, worker, lease: Pubkey::default(), device, agent: None });
        }
        stack
            .cli(
                &renter,
                &[
                    "cluster",
                    "create",
                    "--id",
                    "1",
                    "--hours",
                    "1",
                    "--count",
                    "4",
                    "--gpu-model",
                    "H100-SXM",
                    "--image",
                    JOB,
                ],
            )
            .expect("cluster create");
        let cluster = timelock_sdk::pda::cluster(&renter.pubkey(), 1).0;
        let stack_url = stack.validator.rpc_url.clone();
        for host in &mut hosts {
            host.lease = timelock_sdk::pda::lease(&cluster, &host.worker).0;
        }
        Story {
            stack,
            supplier,
            renter,
            hosts,
            database_url: String::new(),
            oracles: Vec::new(),
            oracle_urls: Vec::new(),
            indexer: None,
            backends: vec![Arc::new(RpcBackend::new(&stack_url))],
            run: run.to_string(),
        }
    }

    /// Starts oracle `i` with its own database (created on first start, kept across restarts).
    pub async fn start_oracle(&mut self, i: usize, fresh: bool) {
        let name = format!("{}_oracle{i}", self.run);
        let url = if fresh {
            crate::postgres::fresh_database(&self.database_url, &name).await
        } else {
            format!("{}/{name}", self.database_url.rsplit_once('/').unwrap().0)
        };
        let config = oracle_config(&self.stack.validator.rpc_url, url, HEARTBEAT_SECS as i64);
        let oracle = start_oracle(config, self.backends[0].clone(), &self.stack.oracles[i]).await;
        while self.oracles.len() <= i {
            self.oracles.push(None);
            self.oracle_urls.push(String::new());
        }
        self.oracle_urls[i] = format!("http://{}", oracle.addr);
        self.oracles[i] = Some(oracle);
    }

    pub async fn start_indexer(&mut self, fresh: bool) {
        let name = format!("{}_indexer", self.run);
        let url = if fresh {
            crate::postgres::fresh_database(&self.database_url, &name).await
        } else {
            format!("{}/{name}", self.database_url.rsplit_once('/').unwrap().0)
        };
        self.indexer = Some(start_indexer(&self.stack.validator.rpc_url, url).await);
    }

    /// Three oracles and the indexer, against Postgres at `database_url`.
    pub async fn start_services(&mut self, database_url: &str) {
        self.database_url = database_url.to_string();
        for i in 0..3 {
            self.start_oracle(i, true).await;
        }
        self.start_indexer(true).await;
    }

    /// Every host's agent starts reporting: honest telemetry for all (the cheater turns later).
    pub fn start_agents(&mut self) {
        let oracles: Vec<String> = self.oracle_urls.clone();
        for host in &mut self.hosts {
            let telemetry = self.stack.dir.join(format!("{}-gpus.json", host.name));
            write_telemetry(&telemetry, &host.worker, GPUS_PER_HOST, &[Some(JOB)]);
            let identity = Identity { worker: host.worker.to_bytes(), lease: host.lease.to_bytes() };
            host.agent = Some(SimulatedAgent::start(
                identity,
                host.device.clone(),
                telemetry,
                oracles.clone(),
                Duration::from_secs(HEARTBEAT_SECS),
            ));
        }
    }

    pub fn host(&mut self, name: &str) -> &mut Host {
        self.hosts.iter_mut().find(|h| h.name == name).expect("host")
    }

    /// A miner appears on the cheater's GPUs.
    pub fn cheat(&mut self) {
        let host = self.host("cheater");
        let telemetry = host.agent.as_ref().expect("agent").telemetry.clone();
        let worker = host.worker;
        write_telemetry(&telemetry, &worker, GPUS_PER_HOST, &[Some(JOB), Some("crypto-miner")]);
    }

    /// The flaky host loses its network.
    pub fn go_offline(&mut self) {
        if let Some(agent) = self.host("flaky").agent.as_mut() {
            agent.stop();
        }
    }

    pub fn lease(&self, host: &Host) -> timelock::state::Lease {
        self.stack.client.account(&host.lease).expect("lease")
    }

    pub fn worker(&self, host: &Host) -> timelock::state::Worker {
        self.stack.client.account(&host.worker).expect("worker")
    }

    /// Settles every lease with the CLI (permissionless; the supplier cranks here).
    pub fn settle_all(&self) -> Vec<Value> {
        self.hosts
            .iter()
            .map(|h| {
                let worker = h.worker.to_string();
                let renter = self.renter.pubkey().to_string();
                self.stack
                    .cli(&self.supplier, &["lease", "settle", "--id", "1", "--worker", &worker, "--renter", &renter])
                    .unwrap_or_else(|e| panic!("settle {}: {e}", h.name))
            })
            .collect()
    }

    pub async fn stop_services(&mut self) {
        for host in &mut self.hosts {
            if let Some(agent) = host.agent.as_mut() {
                agent.stop();
            }
        }
        for oracle in self.oracles.iter_mut() {
            if let Some(oracle) = oracle.take() {
                oracle.stop().await;
            }
        }
        if let Some(indexer) = self.indexer.take() {
            indexer.stop().await;
        }
    }
}

fn rand_seed(i: usize) -> [u8; 32] {
    let mut seed: [u8; 32] = rand::random();
    seed[0] = i as u8;
    seed
}
