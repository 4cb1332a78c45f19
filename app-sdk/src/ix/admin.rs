//! The admin's instructions: the config, its admin and the pause switch.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::system_program;
use timelock::state::ConfigParams;
use timelock::{accounts, instruction, ID};

use super::{build, event_authority};
use crate::pda;

pub fn config_init(
    admin: Pubkey,
    stake_mint: Pubkey,
    payment_mint: Pubkey,
    stake_token_program: Pubkey,
    params: ConfigParams,
) -> Instruction {
    build(
        accounts::ConfigInit {
            admin,
            config: pda::config().0,
            stake_mint,
            payment_mint,
            stake_vault: pda::stake_vault().0,
            program_data: pda::program_data(),
            stake_token_program,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::ConfigInit { params },
    )
}

fn admin_config(admin: Pubkey) -> accounts::AdminConfig {
    accounts::AdminConfig { admin, config: pda::config().0, event_authority: event_authority(), program: ID }
}

pub fn config_update(admin: Pubkey, params: ConfigParams) -> Instruction {
    build(admin_config(admin), instruction::ConfigUpdate { params })
}

pub fn admin_transfer(admin: Pubkey, new_admin: Pubkey) -> Instruction {
    build(admin_config(admin), instruction::AdminTransfer { new_admin })
}

pub fn admin_accept(pending_admin: Pubkey) -> Instruction {
    build(
        accounts::AdminAccept {
            pending_admin,
            config: pda::config().0,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::AdminAccept {},
    )
}

pub fn pause(admin: Pubkey) -> Instruction {
    build(admin_config(admin), instruction::Pause {})
}

pub fn unpause(admin: Pubkey) -> Instruction {
    build(admin_config(admin), instruction::Unpause {})
}
