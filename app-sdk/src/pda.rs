//! Program-derived addresses, with the seeds from `timelock::constants`.

use anchor_lang::prelude::Pubkey;
use timelock::constants::*;
use timelock::ID;

pub fn config() -> (Pubkey, u8) {
    timelock::pda::CONFIG
}

pub fn stake_vault() -> (Pubkey, u8) {
    timelock::pda::STAKE_VAULT
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
    timelock::pda::PROGRAM_DATA
}

pub fn earnings_vault(supplier: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[EARNINGS_SEED, supplier.as_ref()], &ID)
}

pub fn cluster(renter: &Pubkey, cluster_id: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[CLUSTER_SEED, renter.as_ref(), &cluster_id.to_le_bytes()], &ID)
}

pub fn escrow(cluster: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[ESCROW_SEED, cluster.as_ref()], &ID)
}

pub fn lease(cluster: &Pubkey, worker: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[LEASE_SEED, cluster.as_ref(), worker.as_ref()], &ID)
}

/// The record of the worker a device key backs.
pub fn device(device_key: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[DEVICE_SEED, device_key.as_ref()], &ID)
}

/// The registry record of a GPU, by its `Gpu::uuid_hash`.
pub fn gpu(uuid_hash: &[u8; 32]) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[GPU_SEED, uuid_hash], &ID)
}

/// What the renter allows to run on a cluster's GPUs.
pub fn workload(cluster: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[WORKLOAD_SEED, cluster.as_ref()], &ID)
}

pub fn incentive_pool() -> (Pubkey, u8) {
    timelock::pda::INCENTIVE_POOL
}

pub fn incentive_vault() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[INCENTIVE_VAULT_SEED], &ID)
}

pub fn incentive_epoch(epoch: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[INCENTIVE_EPOCH_SEED, &epoch.to_le_bytes()], &ID)
}

pub fn supplier_incentive(supplier: &Pubkey, epoch: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SUPPLIER_INCENTIVE_SEED, supplier.as_ref(), &epoch.to_le_bytes()], &ID)
}
