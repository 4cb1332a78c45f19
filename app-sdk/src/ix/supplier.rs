//! A supplier's instructions: registration, stake and workers.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::system_program;
use timelock::state::WorkerSpec;
use timelock::{accounts, instruction, ID};

use super::{build, event_authority};
use crate::pda;

/// Registers `authority` as a supplier and opens its earnings vault for `payment_mint`.
pub fn supplier_register(authority: Pubkey, payment_mint: Pubkey, payment_token_program: Pubkey) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::SupplierRegister {
            authority,
            config: pda::config().0,
            supplier,
            payment_mint,
            earnings_vault: pda::earnings_vault(&supplier).0,
            payment_token_program,
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

/// The GPUs' registry records, writable, in the order the program expects: ascending UUID hash.
fn gpu_records(gpus: &[[u8; 32]]) -> (Vec<[u8; 32]>, Vec<AccountMeta>) {
    let mut hashes = gpus.to_vec();
    hashes.sort_unstable();
    let records = hashes.iter().map(|hash| AccountMeta::new(pda::gpu(hash).0, false)).collect();
    (hashes, records)
}

/// Registers a worker with `spec`; it is bookable once [`worker_bind_gpus`] has bound all its GPUs
/// (`batch::worker_register` gives both, in as few transactions as fit).
pub fn worker_register(authority: Pubkey, worker_index: u32, spec: WorkerSpec) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::WorkerRegister {
            authority,
            config: pda::config().0,
            supplier,
            worker: pda::worker(&supplier, worker_index).0,
            device: pda::device(&spec.device_key).0,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::WorkerRegister { worker_index, spec },
    )
}

/// Binds GPUs with the UUID hashes `gpus` (`Gpu::uuid_hash`, any order; at most `MAX_GPUS_PER_BIND`, all above
/// those already bound) to the worker.
pub fn worker_bind_gpus(authority: Pubkey, worker_index: u32, gpus: &[[u8; 32]]) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    let (gpus, records) = gpu_records(gpus);
    let mut ix = build(
        accounts::WorkerBindGpus {
            authority,
            supplier,
            worker: pda::worker(&supplier, worker_index).0,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::WorkerBindGpus { gpus },
    );
    ix.accounts.extend(records);
    ix
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

/// `current_device_key`: the key the worker is registered with now (its device record moves when `spec` names
/// another).
pub fn worker_update(
    authority: Pubkey,
    worker_index: u32,
    current_device_key: Pubkey,
    spec: WorkerSpec,
) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::WorkerUpdate {
            authority,
            config: pda::config().0,
            supplier,
            worker: pda::worker(&supplier, worker_index).0,
            device: pda::device(&current_device_key).0,
            new_device: pda::device(&spec.device_key).0,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::WorkerUpdate { spec },
    )
}

pub fn worker_set_available(authority: Pubkey, worker_index: u32, available: bool) -> Instruction {
    build(worker_manage(authority, worker_index), instruction::WorkerSetAvailable { available })
}

/// `gpus`: the UUID hashes the worker registered with (their records are closed).
pub fn worker_deregister(authority: Pubkey, worker_index: u32, device_key: Pubkey, gpus: &[[u8; 32]]) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    let mut ix = build(
        accounts::WorkerDeregister {
            authority,
            config: pda::config().0,
            supplier,
            worker: pda::worker(&supplier, worker_index).0,
            device: pda::device(&device_key).0,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::WorkerDeregister {},
    );
    ix.accounts.extend(gpu_records(gpus).1);
    ix
}

pub fn worker_unjail(authority: Pubkey, worker_index: u32) -> Instruction {
    build(worker_manage(authority, worker_index), instruction::WorkerUnjail {})
}
