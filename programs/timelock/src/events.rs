//! One event per state change, emitted with `emit_cpi!` so that it survives log truncation. Each carries the
//! resulting state an indexer needs, so it never has to read accounts to follow the chain.

use anchor_lang::prelude::*;

use crate::state::{ConfigParams, WorkerSpec};

#[event]
pub struct ConfigInitialized {
    pub admin: Pubkey,
    pub stake_mint: Pubkey,
    pub payment_mint: Pubkey,
    pub stake_vault: Pubkey,
    pub params: ConfigParams,
}

#[event]
pub struct ConfigUpdated {
    pub admin: Pubkey,
    pub params: ConfigParams,
}

#[event]
pub struct AdminTransferProposed {
    pub admin: Pubkey,
    pub pending_admin: Pubkey,
}

#[event]
pub struct AdminTransferred {
    pub previous_admin: Pubkey,
    pub admin: Pubkey,
}

#[event]
pub struct PauseChanged {
    pub admin: Pubkey,
    pub paused: bool,
}

#[event]
pub struct SupplierRegistered {
    pub supplier: Pubkey,
    pub authority: Pubkey,
    pub timestamp: i64,
}

/// Emitted by every instruction that moves a supplier's stake; carries the totals after the change.
#[event]
pub struct StakeChanged {
    pub supplier: Pubkey,
    pub kind: StakeChangeKind,
    pub amount: u64,
    pub staked: u64,
    pub unbonding: u64,
    pub unbond_ready_at: i64,
    pub reserved: u64,
    pub locked: u64,
    pub timestamp: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StakeChangeKind {
    Deposit,
    Unbond,
    Withdraw,
}

#[event]
pub struct WorkerRegistered {
    pub worker: Pubkey,
    pub supplier: Pubkey,
    pub worker_index: u32,
    pub spec: WorkerSpec,
    pub bonded_stake: u64,
    pub supplier_reserved: u64,
    pub timestamp: i64,
}

#[event]
pub struct WorkerUpdated {
    pub worker: Pubkey,
    pub supplier: Pubkey,
    pub spec: WorkerSpec,
    pub bonded_stake: u64,
    pub supplier_reserved: u64,
    pub timestamp: i64,
}

#[event]
pub struct WorkerAvailabilityChanged {
    pub worker: Pubkey,
    pub available: bool,
    pub timestamp: i64,
}

#[event]
pub struct WorkerDeregistered {
    pub worker: Pubkey,
    pub supplier: Pubkey,
    pub released_stake: u64,
    pub supplier_reserved: u64,
    pub timestamp: i64,
}
