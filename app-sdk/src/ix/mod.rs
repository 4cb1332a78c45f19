//! One builder per program instruction. Account lists come from the program's generated `timelock::accounts`
//! structs and data from `timelock::instruction`, so a layout change in the program is a compile error here.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas};
use timelock::ID;

use crate::pda;

mod admin;
mod cluster;
mod incentives;
mod lease;
mod supplier;

pub use admin::*;
pub use cluster::*;
pub use incentives::*;
pub use lease::*;
pub use supplier::*;

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

fn event_authority() -> Pubkey {
    pda::event_authority().0
}

/// Compute-unit limit for the transaction (the runtime's default of 200,000 per instruction is too small for
/// large booking and attestation batches).
pub fn compute_unit_limit(units: u32) -> Instruction {
    solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(units)
}

/// Priority fee in micro-lamports per compute unit.
pub fn compute_unit_price(micro_lamports: u64) -> Instruction {
    solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(micro_lamports)
}
