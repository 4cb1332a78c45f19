//! Addresses of the program's singleton PDAs, derived at compile time. Checking an account against a constant
//! costs a comparison instead of a `create_program_address` syscall (about 1,500 CU) in every instruction.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::bpf_loader_upgradeable;

use crate::constants::{CONFIG_SEED, STAKE_VAULT_SEED};
use crate::ID_CONST;

const fn derive(seeds: &[&[u8]], program: &Pubkey) -> (Pubkey, u8) {
    let (address, bump) = anchor_lang::derive_program_address(seeds, &program.to_bytes());
    (Pubkey::new_from_array(address), bump)
}

/// The config; also the authority of every program-owned token vault.
pub const CONFIG: (Pubkey, u8) = derive(&[CONFIG_SEED], &ID_CONST);
pub const STAKE_VAULT: (Pubkey, u8) = derive(&[STAKE_VAULT_SEED, &CONFIG.0.to_bytes()], &ID_CONST);
/// The upgradeable loader's record of this program, which names its upgrade authority.
pub const PROGRAM_DATA: Pubkey = derive(&[&ID_CONST.to_bytes()], &bpf_loader_upgradeable::ID).0;

/// Signer seeds of the config PDA, for transfers out of program vaults.
pub const CONFIG_SIGNER_SEEDS: &[&[u8]] = &[CONFIG_SEED, &[CONFIG.1]];

pub const INCENTIVE_POOL: (Pubkey, u8) = derive(&[crate::constants::INCENTIVE_POOL_SEED], &ID_CONST);
