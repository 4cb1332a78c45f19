//! Rust client for the timelock program. Account layouts, instruction arguments and events are the program
//! crate's own types (re-exported here); this crate adds PDA derivation, instruction builders, catalogs, and
//! the JSON views and worker filter that the CLI and the indexer API share. The command line is the
//! `timelock-cli` crate, the IDL generator `timelock-idl`.

pub mod batch;
pub mod catalog;
pub mod client;
pub mod filter;
pub mod ix;
pub mod pda;
pub mod rpc;
pub mod tokens;
pub mod view;

pub use anchor_lang::prelude::Pubkey;
pub use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
pub use anchor_spl::{token::ID as TOKEN_PROGRAM_ID, token_2022::ID as TOKEN_2022_PROGRAM_ID};
pub use timelock::state::{Config, ConfigParams, Supplier, Worker, WorkerSpec};
pub use timelock::{self, constants, errors, events, state, ID as PROGRAM_ID};
