//! One module per noun: its subcommands (clap) and how each runs.

pub mod cluster;
pub mod config;
pub mod lease;
pub mod stats;
pub mod supplier;
pub mod worker;

use serde::Serialize;
use serde_json::Value;

/// A view as the command's output: the same JSON the indexer API serves for the account.
pub(crate) fn json(view: impl Serialize) -> Value {
    serde_json::to_value(view).expect("views serialise")
}
