//! The whole system on a real local chain: a `timelock-localnet` validator process with the program, mints and
//! a config; oracle services and the indexer against it and Postgres; worker agents posting heartbeats. The demo
//! (`make demo`) and the end-to-end tests drive the same [`Stack`].

mod agent;
mod services;
mod stack;
mod story;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use solana_keypair::Keypair;

pub use agent::{write_gpus, write_telemetry, SimulatedAgent};
pub use services::{oracle_config, start_indexer, start_oracle, SLOW_PROVER_CLASS};
pub use stack::Stack;
pub use story::{
    demo_params, Host, Role, Story, DEMO_DISPUTE_WINDOW_SECS, GPUS_PER_HOST, HEARTBEAT_SECS, HOSTS, JOB, PRICE,
    SLOW_PROVER_MODEL,
};

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
