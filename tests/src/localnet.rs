//! The whole system on a real local chain: a `timelock-localnet` validator process with the program, mints and
//! a config; oracle services and the indexer against it and Postgres; worker agents posting heartbeats. The demo
//! (`make demo`) and the end-to-end tests drive the same [`Stack`].

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
use clap::Parser;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer;
use timelock::state::ConfigParams;
use timelock_agent::client::Agent;
use timelock_agent::telemetry::FileSource;
use timelock_agent::Identity;
use timelock_sdk::cli::{self, Cli, Context};
use timelock_sdk::client::Client;
use timelock_sdk::rpc::RpcBackend;
use timelock_sdk::{catalog, ix, tokens, TOKEN_PROGRAM_ID};

pub const STAKE_DECIMALS: u8 = 9;
pub const PAYMENT_DECIMALS: u8 = 6;

/// The node binary: `$TIMELOCK_LOCALNET_BIN` (`make test-agave` points it at Agave's validator), else the
/// LiteSVM node where `make localnet` builds it.
pub fn localnet_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TIMELOCK_LOCALNET_BIN") {
        return path.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    target.join("debug/timelock-localnet")
}

/// A `timelock-localnet` process, stopped (SIGTERM) when dropped.
pub struct Validator {
    child: Child,
    pub rpc_url: String,
    pub payer: Keypair,
}

impl Validator {
    pub fn start(dir: &Path, upgrade_authority: &Pubkey, rpc_port: u16) -> Validator {
        let binary = localnet_binary();
        assert!(binary.exists(), "{} is missing: run `make localnet`", binary.display());
        let program = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/timelock.so");
        let payer_file = dir.join("validator-payer.json");
        let mut child = Command::new(&binary)
            .arg("--ledger")
            .arg(dir.join("ledger"))
            .arg("--upgrade-authority")
            .arg(upgrade_authority.to_string())
            .arg("--program")
            .arg(&program)
            .arg("--payer-out")
            .arg(&payer_file)
            .arg("--rpc-port")
            .arg(rpc_port.to_string())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("validator.log")).expect("validator log"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        // The validator prints progress of its own before the ready line.
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready: Value = loop {
            match lines.next() {
                Some(Ok(line)) if line.starts_with('{') => break serde_json::from_str(&line).expect("ready line"),
                Some(Ok(_)) => continue,
                _ => {
                    let log = std::fs::read_to_string(dir.join("validator.log")).unwrap_or_default();
                    let tail: String =
                        log.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
                    panic!("{} exited before it was ready:\n{tail}", binary.display())
                }
            }
        };
        let payer = timelock_sdk::rpc::read_keypair(&payer_file).expect("payer keypair");
        Validator { child, rpc_url: ready["rpc_url"].as_str().unwrap().to_string(), payer }
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        unsafe {
            kill(self.child.id() as i32, 15);
        }
        let _ = self.child.wait();
    }
}

extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
}

/// The program deployed and configured on a validator, with its mints and treasury.
pub struct Stack {
    pub validator: Validator,
    pub client: Client<RpcBackend>,
    pub admin: Keypair,
    pub treasury: Keypair,
    pub oracles: Vec<Keypair>,
    pub stake_mint: Pubkey,
    pub payment_mint: Pubkey,
    pub dir: PathBuf,
}

impl Stack {
    /// A validator on `rpc_port` with the program configured by `params` (3 oracles, threshold 2 by default).
    pub fn start(dir: &Path, rpc_port: u16, tune: impl FnOnce(&mut ConfigParams)) -> Stack {
        std::fs::create_dir_all(dir).expect("stack directory");
        let admin = Keypair::new();
        let validator = Validator::start(dir, &admin.pubkey(), rpc_port);
        let client = Client::new(RpcBackend::new(&validator.rpc_url));
        let mut stack = Stack {
            client,
            admin,
            treasury: Keypair::new(),
            oracles: (0..3).map(|_| Keypair::new()).collect(),
            stake_mint: Pubkey::default(),
            payment_mint: Pubkey::default(),
            dir: dir.to_path_buf(),
            validator,
        };
        stack.fund(&stack.admin.pubkey(), 100_000_000_000);
        for oracle in &stack.oracles {
            stack.fund(&oracle.pubkey(), 10_000_000_000);
        }
        stack.stake_mint = stack.create_mint(STAKE_DECIMALS);
        stack.payment_mint = stack.create_mint(PAYMENT_DECIMALS);
        let treasury = stack.treasury.pubkey();
        stack.ata(&treasury, &stack.stake_mint);
        stack.ata(&treasury, &stack.payment_mint);
        let oracles = stack.oracles.iter().map(|o| o.pubkey()).collect();
        let mut params = catalog::default_config_params(treasury, oracles, 2);
        tune(&mut params);
        let init =
            ix::config_init(stack.admin.pubkey(), stack.stake_mint, stack.payment_mint, TOKEN_PROGRAM_ID, params);
        stack.send(&[init], &[&stack.admin]);
        stack
    }

    pub fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) {
        let signers: Vec<&(dyn Signer + Sync)> = signers.iter().map(|k| *k as &(dyn Signer + Sync)).collect();
        if let Err(error) = self.client.send(instructions, &signers) {
            let programs: Vec<String> = instructions.iter().map(|i| i.program_id.to_string()).collect();
            panic!("transaction of {programs:?} paid by {} failed: {error}", signers[0].pubkey());
        }
    }

    /// SOL from the validator's payer.
    pub fn fund(&self, to: &Pubkey, lamports: u64) {
        let payer = &self.validator.payer;
        self.send(&[system_instruction::transfer(&payer.pubkey(), to, lamports)], &[payer]);
    }

    fn create_mint(&self, decimals: u8) -> Pubkey {
        let mint = Keypair::new();
        let rent = self.client.backend.rpc.get_minimum_balance_for_rent_exemption(tokens::MINT_LEN).expect("rent");
        let admin = self.admin.pubkey();
        self.send(
            &tokens::create_mint(&admin, &mint.pubkey(), &admin, &TOKEN_PROGRAM_ID, decimals, rent),
            &[&self.admin, &mint],
        );
        mint.pubkey()
    }

    /// `owner`'s associated token account of `mint` (created when missing).
    pub fn ata(&self, owner: &Pubkey, mint: &Pubkey) -> Pubkey {
        let admin = self.admin.pubkey();
        self.send(
            &[create_associated_token_account_idempotent(&admin, owner, mint, &TOKEN_PROGRAM_ID)],
            &[&self.admin],
        );
        get_associated_token_address_with_program_id(owner, mint, &TOKEN_PROGRAM_ID)
    }

    pub fn mint_to(&self, mint: &Pubkey, owner: &Pubkey, amount: u64) {
        let account = self.ata(owner, mint);
        self.send(&[tokens::mint_to(&TOKEN_PROGRAM_ID, mint, &account, &self.admin.pubkey(), amount)], &[&self.admin]);
    }

    pub fn balance(&self, owner: &Pubkey, mint: &Pubkey) -> u64 {
        let account = get_associated_token_address_with_program_id(owner, mint, &TOKEN_PROGRAM_ID);
        self.client.account_raw(&account).ok().and_then(|a| tokens::balance(&a.data)).unwrap_or(0)
    }

    /// A funded keypair, saved as `<name>.json` in the stack's directory (for the CLI and agents).
    pub fn actor(&self, name: &str) -> (Keypair, PathBuf) {
        let keypair = Keypair::new();
        self.fund(&keypair.pubkey(), 20_000_000_000);
        let path = self.save_keypair(name, &keypair);
        (keypair, path)
    }

    pub fn save_keypair(&self, name: &str, keypair: &Keypair) -> PathBuf {
        let path = self.dir.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string(&keypair.to_bytes().to_vec()).unwrap()).expect("keypair file");
        path
    }

    /// Runs a `timelock` CLI command (the binary's code, in process) as `keypair`; the JSON it would print.
    pub fn cli(&self, keypair: &Keypair, args: &[&str]) -> Result<Value, String> {
        let mut argv = vec!["timelock", "--url", &self.validator.rpc_url, "--output", "json"];
        argv.extend_from_slice(args);
        let parsed = Cli::try_parse_from(&argv).map_err(|e| e.to_string())?;
        let client = Client::new(RpcBackend::new(&self.validator.rpc_url));
        cli::run(&parsed.command, &Context { client: &client, signer: keypair }).map_err(|e| e.to_string())
    }
}

/// A simulated worker agent: a thread that ticks every `interval` with the telemetry in `telemetry` (which the
/// caller may rewrite to simulate a foreign process or a lost GPU) until `online` is cleared.
pub struct SimulatedAgent {
    pub telemetry: PathBuf,
    pub online: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SimulatedAgent {
    pub fn start(
        identity: Identity,
        device: ed25519_dalek::SigningKey,
        telemetry: PathBuf,
        oracles: Vec<String>,
        interval: Duration,
    ) -> Self {
        let online = Arc::new(AtomicBool::new(true));
        let (running, path) = (online.clone(), telemetry.clone());
        let thread = std::thread::spawn(move || {
            let mut agent = Agent::new(identity, device, Box::new(FileSource { path }), oracles);
            while running.load(Ordering::SeqCst) {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
                let tick = agent.tick(now as u64);
                for error in tick.errors {
                    eprintln!("agent: {error}");
                }
                std::thread::sleep(interval);
            }
        });
        SimulatedAgent { telemetry, online, thread: Some(thread) }
    }

    /// The agent goes offline (its host lost power or network).
    pub fn stop(&mut self) {
        self.online.store(false, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SimulatedAgent {
    fn drop(&mut self) {
        self.stop();
    }
}

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
        challenge_size: 32,
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

/// The indexer on the validator at `rpc_url`, polling every 200 ms at confirmed commitment.
pub async fn start_indexer(rpc_url: &str, database_url: String) -> timelock_indexer::RunningIndexer {
    let pool =
        sqlx::postgres::PgPoolOptions::new().max_connections(8).connect(&database_url).await.expect("indexer database");
    let config = timelock_indexer::Config {
        listen: "127.0.0.1:0".into(),
        database_url,
        rpc_url: rpc_url.to_string(),
        poll_interval_ms: 200,
        ..timelock_indexer::Config::default()
    };
    let source = timelock_indexer::source::RpcSource::new(
        rpc_url,
        timelock::ID,
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    timelock_indexer::start(&config, pool, Some(source)).await.expect("indexer")
}

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
pub const JOB: &str = "renter-job";
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
                    ],
                )
                .expect("worker register");
            let worker = timelock_sdk::pda::worker(&timelock_sdk::pda::supplier(&supplier.pubkey()).0, index).0;
            hosts.push(Host { name, index, worker, lease: Pubkey::default(), device, agent: None });
        }
        stack
            .cli(
                &renter,
                &["cluster", "create", "--id", "1", "--hours", "1", "--count", "4", "--gpu-model", "H100-SXM"],
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
            write_telemetry(&telemetry, host.index, &[Some(JOB)]);
            let identity = Identity {
                worker: host.worker.to_bytes(),
                lease: host.lease.to_bytes(),
                allowed_containers: vec![JOB.into()],
            };
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
        write_telemetry(&telemetry, host.index, &[Some(JOB), Some("crypto-miner")]);
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

/// What an agent's telemetry file says: 8 H100s, each running processes in these containers.
pub fn write_telemetry(path: &Path, host: u32, containers: &[Option<&str>]) {
    let gpus: Vec<timelock_protocol::GpuSample> = (0..GPUS_PER_HOST)
        .map(|g| timelock_protocol::GpuSample {
            uuid: format!("GPU-{host}-{g}"),
            model: "H100-SXM".into(),
            utilization_pct: 97,
            memory_used_mib: 70_000,
            processes: containers
                .iter()
                .enumerate()
                .map(|(p, c)| timelock_protocol::GpuProcess { pid: 4_000 + p as u32, container: c.map(str::to_string) })
                .collect(),
        })
        .collect();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_string(&gpus).unwrap()).expect("telemetry");
    std::fs::rename(&tmp, path).expect("telemetry");
}
