//! Program-derived addresses, with the seeds from `timelock::constants`.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::bpf_loader_upgradeable;
use timelock::constants::*;
use timelock::ID;

pub fn config() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[CONFIG_SEED], &ID)
}

pub fn stake_vault() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[STAKE_VAULT_SEED, config().0.as_ref()], &ID)
}

pub fn supplier(authority: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SUPPLIER_SEED, authority.as_ref()], &ID)
}

pub fn worker(supplier: &Pubkey, worker_index: u32) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[WORKER_SEED, supplier.as_ref(), &worker_index.to_le_bytes()], &ID)
}

/// Signs `emit_cpi!` self-invocations; every instruction takes it.
pub fn event_authority() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[b"__event_authority"], &ID)
}

pub fn program_data() -> Pubkey {
    bpf_loader_upgradeable::get_program_data_address(&ID)
}
