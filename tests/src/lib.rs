//! The test harness (after marginfi v2's `TestFixture`): one object deploys `target/deploy/timelock.so` into
//! LiteSVM with a known upgrade authority, makes mints and funded actors, warps the clock, sends transactions
//! and reports compute units, so that tests read as stories.

pub mod api_fuzz;
pub mod faults;
pub mod localnet;
pub mod oracle_world;
pub mod postgres;
pub mod story;
pub mod svm_backend;

mod assert;
mod attest;
mod cli;
mod cluster;
mod fixture;
mod outcome;
mod settle;
mod spl;
mod supplier;
mod worker;

use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use timelock_sdk::TOKEN_2022_PROGRAM_ID;

pub use assert::{assert_already_in_use, assert_error, assert_runtime_error, ErrorCodeOf};
pub use cluster::Renter;
pub use fixture::TestFixture;
pub use outcome::{Failed, Landed, Recorded, SendResult};
pub use solana_keypair::Keypair;
pub use solana_signer::Signer;
pub use supplier::SupplierActor;
pub use timelock::errors::TimelockError;
pub use worker::{gpu_hashes, gpu_uuids, simulated_gpus};

pub const STAKE_DECIMALS: u8 = 9;
pub const PAYMENT_DECIMALS: u8 = 6;
pub const ONE_STAKE: u64 = 1_000_000_000;
pub const ONE_USDC: u64 = 1_000_000;
/// Start of every fixture's clock, so that timestamps in assertions are readable.
pub const GENESIS_TIME: i64 = 1_800_000_000;

/// A TCP port free on this machine now (for a service that must keep one address across restarts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("bound").port()
}

/// The program's newest transaction (confirmed) on the node at `rpc_url`.
pub async fn newest_program_signature(rpc_url: &str) -> String {
    let request = serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "getSignaturesForAddress",
        "params": [timelock::ID.to_string(), { "limit": 1, "commitment": "confirmed" }],
    });
    let answer: serde_json::Value =
        reqwest::Client::new().post(rpc_url).json(&request).send().await.unwrap().json().await.unwrap();
    answer["result"][0]["signature"].as_str().expect("a transaction").to_string()
}

/// The program the tests run: `target/deploy/timelock.so`, or `$TIMELOCK_PROGRAM_SO` (the profiling build of
/// `scripts/profile-cu.sh`).
pub fn program_so_path() -> PathBuf {
    match std::env::var_os("TIMELOCK_PROGRAM_SO") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/timelock.so"),
    }
}

pub fn token_2022() -> Pubkey {
    TOKEN_2022_PROGRAM_ID
}
