//! [`Story`]: the demo's lifecycle on a local chain (seven hosts, a supplier cheating in each way the oracles
//! judge, a renter, three oracles and the indexer).

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
    oracle_config, start_indexer, start_oracle, write_gpus, SimulatedAgent, Stack, PAYMENT_DECIMALS, STAKE_DECIMALS,
};

/// What a host of the story does, and so why the oracles do not pay its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Honest,
    /// A crypto miner beside the renter's job from [`Story::cheat`] on: `foreign_process`.
    Miner,
    /// One GPU swapped for a card not registered to the worker from [`Story::cheat`] on: `gpu_mismatch`.
    SwappedGpu,
    /// One of its eight booked GPUs gone from [`Story::cheat`] on: `missing_gpu`.
    MissingGpu,
    /// Registered as an A100 ([`SLOW_PROVER_MODEL`]), whose challenge class its CPU cannot commit to in time
    /// (`SLOW_PROVER_CLASS`): `challenge_failed` from its first challenge on, so it proves hardly any time.
    SlowProver,
    /// Drops off the network ([`Story::go_offline`]): `missed`.
    Offline,
}

impl Role {
    /// The reason the oracles give for this host's unpaid intervals (`timelock_protocol::policy::Reason`).
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Role::Honest => None,
            Role::Miner => Some("foreign_process"),
            Role::SwappedGpu => Some("gpu_mismatch"),
            Role::MissingGpu => Some("missing_gpu"),
            Role::SlowProver => Some("challenge_failed"),
            Role::Offline => Some("missed"),
        }
    }

    /// Whether the host proves time before it cheats (the slow prover fails its first challenge, issued in the
    /// answer to its first heartbeat).
    pub fn proves_time(self) -> bool {
        self != Role::SlowProver
    }
}

/// The hosts of the story, in worker-index order: two honest, then one for each way of going unpaid.
pub const HOSTS: &[(&str, Role)] = &[
    ("honest-1", Role::Honest),
    ("honest-2", Role::Honest),
    ("cheater", Role::Miner),
    ("flaky", Role::Offline),
    ("swapped-gpu", Role::SwappedGpu),
    ("missing-gpu", Role::MissingGpu),
    ("slow-prover", Role::SlowProver),
];

/// The GPU model of the slow prover: a class the demo's oracles size for a GPU (every other host is an H100).
pub const SLOW_PROVER_MODEL: &str = "A100-80G";

/// One simulated GPU host of the story.
pub struct Host {
    pub name: &'static str,
    pub role: Role,
    pub gpu_model: &'static str,
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

/// The lifecycle on a local chain: a supplier stakes and registers seven 8-GPU hosts with the CLI (six H100s and
/// an A100), a renter books them all with the CLI, agents report ([`HOSTS`]: two honest, then one running a
/// foreign process, one that goes offline, one with a swapped GPU, one with a GPU missing and one too slow for
/// its challenges), three oracles (threshold 2) judge and attest, the indexer mirrors it all and asks the
/// oracles why each host went unpaid.
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
        let mut hosts = Vec::new();
        for (i, &(name, role)) in HOSTS.iter().enumerate() {
            let gpu_model = if role == Role::SlowProver { SLOW_PROVER_MODEL } else { "H100-SXM" };
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
                        gpu_model,
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
            hosts.push(Host { name, role, gpu_model, index, worker, lease: Pubkey::default(), device, agent: None });
        }
        // The H100s are found and booked by the renter's terms; the A100 is added to the same cluster by address.
        let h100s = hosts.iter().filter(|h| h.gpu_model == "H100-SXM").count().to_string();
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
                    &h100s,
                    "--gpu-model",
                    "H100-SXM",
                    "--image",
                    JOB,
                ],
            )
            .expect("cluster create");
        let others: Vec<String> =
            hosts.iter().filter(|h| h.gpu_model != "H100-SXM").map(|h| h.worker.to_string()).collect();
        let add = ["cluster", "add", "--id", "1"].into_iter().chain(others.iter().map(String::as_str));
        stack.cli(&renter, &add.collect::<Vec<_>>()).expect("cluster add");
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
        let oracles = self.oracle_urls.iter().filter(|u| !u.is_empty()).cloned().collect();
        self.indexer = Some(start_indexer(&self.stack.validator.rpc_url, url, oracles).await);
    }

    /// Three oracles and the indexer, against Postgres at `database_url`.
    pub async fn start_services(&mut self, database_url: &str) {
        self.database_url = database_url.to_string();
        for i in 0..3 {
            self.start_oracle(i, true).await;
        }
        self.start_indexer(true).await;
    }

    /// Every host's agent starts reporting: honest telemetry for all (the cheaters turn later).
    pub fn start_agents(&mut self) {
        let oracles: Vec<String> = self.oracle_urls.clone();
        for host in &mut self.hosts {
            let telemetry = self.stack.dir.join(format!("{}-gpus.json", host.name));
            write_gpus(&telemetry, &host.gpus(&[Some(JOB)]));
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

    /// The cheaters turn: a miner appears on the cheater's GPUs, the swapped-gpu host reports a card that is
    /// not registered to its worker in place of one that is, the missing-gpu host reports one GPU less.
    pub fn cheat(&mut self) {
        for host in &self.hosts {
            let mut gpus = host.gpus(&[Some(JOB)]);
            match host.role {
                Role::Miner => gpus = host.gpus(&[Some(JOB), Some("crypto-miner")]),
                Role::SwappedGpu => gpus[3].uuid = format!("GPU-swapped-in-{}", host.index),
                Role::MissingGpu => {
                    gpus.pop();
                }
                Role::Honest | Role::SlowProver | Role::Offline => continue,
            }
            write_gpus(&host.agent.as_ref().expect("agent").telemetry, &gpus);
        }
    }

    /// The flaky host loses its network.
    pub fn go_offline(&mut self) {
        if let Some(agent) = self.host("flaky").agent.as_mut() {
            agent.stop();
        }
    }

    /// Whether every host that cheats (all but the honest ones) has a fault on chain.
    pub fn every_cheater_faulted(&self) -> bool {
        self.hosts.iter().filter(|h| h.role != Role::Honest).all(|h| self.lease(h).faults > 0)
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

impl Host {
    /// What an agent on this host reports: its registered GPUs, of its model, each running a process of each
    /// image (`None`: outside any container).
    pub fn gpus(&self, images: &[Option<&str>]) -> Vec<timelock_protocol::GpuSample> {
        let mut gpus = crate::simulated_gpus(&self.worker, GPUS_PER_HOST, images);
        for gpu in &mut gpus {
            gpu.model = self.gpu_model.to_string();
        }
        gpus
    }
}

fn rand_seed(i: usize) -> [u8; 32] {
    let mut seed: [u8; 32] = rand::random();
    seed[0] = i as u8;
    seed
}
