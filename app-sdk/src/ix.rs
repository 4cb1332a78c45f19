//! One builder per program instruction. Account lists come from the program's generated `timelock::accounts`
//! structs and data from `timelock::instruction`, so a layout change in the program is a compile error here.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::system_program;
use anchor_lang::{InstructionData, ToAccountMetas};
use timelock::state::{ConfigParams, WorkerSpec};
use timelock::{accounts, instruction, ID};

use crate::pda;

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

fn event_authority() -> Pubkey {
    pda::event_authority().0
}

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

pub fn supplier_register(authority: Pubkey) -> Instruction {
    build(
        accounts::SupplierRegister {
            authority,
            config: pda::config().0,
            supplier: pda::supplier(&authority).0,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::SupplierRegister {},
    )
}

/// Accounts for moving stake between `supplier_tokens` (owned by `authority`) and the vault.
#[derive(Clone, Copy, Debug)]
pub struct StakeAccounts {
    pub authority: Pubkey,
    pub stake_mint: Pubkey,
    pub supplier_tokens: Pubkey,
    pub token_program: Pubkey,
}

fn stake_transfer(a: StakeAccounts) -> accounts::StakeTransfer {
    accounts::StakeTransfer {
        authority: a.authority,
        config: pda::config().0,
        supplier: pda::supplier(&a.authority).0,
        stake_mint: a.stake_mint,
        supplier_tokens: a.supplier_tokens,
        stake_vault: pda::stake_vault().0,
        token_program: a.token_program,
        event_authority: event_authority(),
        program: ID,
    }
}

pub fn stake_deposit(accounts: StakeAccounts, amount: u64) -> Instruction {
    build(stake_transfer(accounts), instruction::StakeDeposit { amount })
}

pub fn stake_withdraw(accounts: StakeAccounts) -> Instruction {
    build(stake_transfer(accounts), instruction::StakeWithdraw {})
}

pub fn stake_unbond(authority: Pubkey, amount: u64) -> Instruction {
    build(
        accounts::StakeUnbond {
            authority,
            config: pda::config().0,
            supplier: pda::supplier(&authority).0,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::StakeUnbond { amount },
    )
}

pub fn worker_register(authority: Pubkey, worker_index: u32, spec: WorkerSpec) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::WorkerRegister {
            authority,
            config: pda::config().0,
            supplier,
            worker: pda::worker(&supplier, worker_index).0,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::WorkerRegister { worker_index, spec },
    )
}

fn worker_manage(authority: Pubkey, worker_index: u32) -> accounts::WorkerManage {
    let supplier = pda::supplier(&authority).0;
    accounts::WorkerManage {
        authority,
        config: pda::config().0,
        supplier,
        worker: pda::worker(&supplier, worker_index).0,
        event_authority: event_authority(),
        program: ID,
    }
}

pub fn worker_update(authority: Pubkey, worker_index: u32, spec: WorkerSpec) -> Instruction {
    build(worker_manage(authority, worker_index), instruction::WorkerUpdate { spec })
}

pub fn worker_set_available(authority: Pubkey, worker_index: u32, available: bool) -> Instruction {
    build(worker_manage(authority, worker_index), instruction::WorkerSetAvailable { available })
}

pub fn worker_deregister(authority: Pubkey, worker_index: u32) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::WorkerDeregister {
            authority,
            supplier,
            worker: pda::worker(&supplier, worker_index).0,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::WorkerDeregister {},
    )
}
