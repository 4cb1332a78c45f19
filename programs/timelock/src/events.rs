//! One event per state change, emitted with `emit_cpi!` so that it survives log truncation. Each carries the
//! resulting state an indexer needs, so it never has to read accounts to follow the chain.

use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::program::invoke_signed;

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

/// Emits `event` exactly as `emit_cpi!` does (a self-invocation signed by the event authority whose data is
/// `EVENT_IX_TAG_LE ‖ discriminator ‖ borsh(event)`), but builds the data with two copies instead of the macro's
/// byte-by-byte iterator, which costs several CU per byte on SBF.
pub fn emit<'info, E: anchor_lang::Event>(event_authority: &AccountInfo<'info>, event: &E) -> Result<()> {
    let body = event.data();
    let mut data = Vec::with_capacity(EVENT_IX_TAG_LE.len() + body.len());
    data.extend_from_slice(EVENT_IX_TAG_LE);
    data.extend_from_slice(&body);
    let ix = Instruction {
        program_id: crate::ID,
        accounts: vec![AccountMeta::new_readonly(*event_authority.key, true)],
        data,
    };
    let seeds: &[&[u8]] = &[b"__event_authority", &[crate::EVENT_AUTHORITY_AND_BUMP.1]];
    invoke_signed(&ix, &[event_authority.clone()], &[seeds]).map_err(Into::into)
}
