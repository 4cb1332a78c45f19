//! The incentive pool: set up, funded, and claimed per epoch.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::system_program;
use timelock::{accounts, instruction, ID};

use super::{build, event_authority};
use crate::pda;

pub fn incentives_init(
    admin: Pubkey,
    stake_mint: Pubkey,
    token_program: Pubkey,
    emission_per_epoch: u64,
    emission_epoch_secs: i64,
) -> Instruction {
    build(
        accounts::IncentivesInit {
            admin,
            config: pda::config().0,
            pool: pda::incentive_pool().0,
            stake_mint,
            vault: pda::incentive_vault().0,
            token_program,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::IncentivesInit { emission_per_epoch, emission_epoch_secs },
    )
}

pub fn incentives_fund(
    admin: Pubkey,
    stake_mint: Pubkey,
    admin_tokens: Pubkey,
    token_program: Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::IncentivesFund {
            admin,
            config: pda::config().0,
            pool: pda::incentive_pool().0,
            stake_mint,
            vault: pda::incentive_vault().0,
            admin_tokens,
            token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::IncentivesFund { amount },
    )
}

/// The supplier's share of an ended epoch; `rent_payer` is who paid its record (the settling cranker).
pub fn incentives_claim(
    authority: Pubkey,
    epoch: u64,
    rent_payer: Pubkey,
    stake_mint: Pubkey,
    destination: Pubkey,
    token_program: Pubkey,
) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::IncentivesClaim {
            authority,
            config: pda::config().0,
            supplier,
            pool: pda::incentive_pool().0,
            epoch: pda::incentive_epoch(epoch).0,
            supplier_incentive: pda::supplier_incentive(&supplier, epoch).0,
            rent_payer,
            stake_mint,
            vault: pda::incentive_vault().0,
            destination,
            token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::IncentivesClaim {},
    )
}
