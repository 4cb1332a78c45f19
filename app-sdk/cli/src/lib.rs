//! The `timelock` command line: every program flow for admins, suppliers and renters. The logic is a library
//! function over any [`Backend`], so the tests drive the very same commands against the real program in LiteSVM.
//! One module per noun under `commands/`; [`Context`] holds what every command needs; [`render`] prints.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;
use timelock_sdk::client::{Backend, ClientError};

pub mod commands;
mod context;
mod render;

pub use commands::cluster::ClusterCommand;
pub use commands::config::{ConfigCommand, OracleCommand, ParamArgs};
pub use commands::lease::{LeaseCommand, LeaseRef};
pub use commands::supplier::SupplierCommand;
pub use commands::worker::{worker_layout, SpecArgs, WorkerCommand, WorkerFilterArgs};
pub use context::Context;
pub use render::render;

#[derive(Parser, Debug)]
#[command(name = "timelock", version, about = "Stake, rent and settle GPUs on the timelock program")]
pub struct Cli {
    /// Cluster: localhost, devnet, mainnet-beta, or an RPC URL.
    #[arg(long, short = 'u', global = true, default_value = "localhost", env = "TIMELOCK_URL")]
    pub url: String,
    /// Keypair file in the Solana CLI format [default: ~/.config/solana/id.json].
    #[arg(long, short = 'k', global = true, env = "TIMELOCK_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Priority fee in micro-lamports per compute unit.
    #[arg(long, global = true, default_value_t = 0)]
    pub priority_fee: u64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Protocol configuration (admin).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The oracle set (admin).
    #[command(subcommand)]
    Oracle(OracleCommand),
    /// Supplier stake and earnings.
    #[command(subcommand)]
    Supplier(SupplierCommand),
    /// GPU workers.
    #[command(subcommand)]
    Worker(WorkerCommand),
    /// Rental clusters.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Leases of a cluster.
    #[command(subcommand)]
    Lease(LeaseCommand),
    /// Network totals read from chain.
    Stats,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0}")]
    Usage(String),
}

pub type CliResult = std::result::Result<Value, CliError>;

pub(crate) fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

/// Runs one parsed command.
pub fn run<B: Backend>(command: &Command, ctx: &Context<B>) -> CliResult {
    match command {
        Command::Config(c) => commands::config::run(c, ctx),
        Command::Oracle(o) => commands::config::run_oracle(o, ctx),
        Command::Supplier(s) => commands::supplier::run(s, ctx),
        Command::Worker(w) => commands::worker::run(w, ctx),
        Command::Cluster(c) => commands::cluster::run(c, ctx),
        Command::Lease(l) => commands::lease::run(l, ctx),
        Command::Stats => commands::stats::run(ctx),
    }
}
