use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, WorkerDeregistered};
use crate::pda;
use crate::state::{Config, Device, Gpu, Supplier, Worker};

#[event_cpi]
#[derive(Accounts)]
pub struct WorkerDeregister<'info> {
    /// Receives the worker account's rent.
    #[account(mut)]
    pub authority: Signer<'info>,
    /// The config (PDA `["config"]`): its jail window decides whether the worker's faults still count.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The signer's supplier record (PDA `["supplier", authority]`); the worker's bond returns to its free stake.
    #[account(
        mut,
        seeds = [SUPPLIER_SEED, authority.key().as_ref()],
        bump = supplier.bump,
        has_one = authority,
    )]
    pub supplier: Box<Account<'info, Supplier>>,
    /// The worker leaving (PDA `["worker", supplier, worker_index (u32 LE)]`), closed here.
    #[account(
        mut,
        close = authority,
        seeds = [WORKER_SEED, supplier.key().as_ref(), &worker.worker_index.to_le_bytes()],
        bump = worker.bump,
        has_one = supplier,
    )]
    pub worker: Box<Account<'info, Worker>>,
    /// The record of the worker's device key (PDA `["device", device_key]`), closed here.
    #[account(
        mut,
        close = authority,
        seeds = [DEVICE_SEED, worker.spec.device_key.as_ref()],
        bump = device.bump,
        constraint = device.worker == worker.key() @ TimelockError::InvalidDeviceRecord,
    )]
    pub device: Box<Account<'info, Device>>,
}

impl<'info> WorkerDeregister<'info> {
    /// Releases the worker's bond and its GPUs: the remaining accounts are the registry records of all its GPUs,
    /// closed here (their rent to `authority`). A jailed worker, or one whose jail window still counts faults,
    /// cannot leave: registering again under a fresh account would wash its jail and fault record.
    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let worker = &ctx.accounts.worker;
        require!(!worker.is_leased(), TimelockError::WorkerLeased);
        let now = Clock::get()?.unix_timestamp;
        let window_secs = ctx.accounts.config.params.jail_window_secs;
        require!(!worker.has_open_faults(now, window_secs), TimelockError::WorkerHasOpenFaults);
        Gpu::release_all(ctx.remaining_accounts, &worker.key(), worker, &ctx.accounts.authority)?;
        let supplier = &mut ctx.accounts.supplier;
        supplier.reserved = supplier.reserved.checked_sub(worker.bonded_stake).ok_or(TimelockError::Overflow)?;
        supplier.worker_count = supplier.worker_count.checked_sub(1).ok_or(TimelockError::Overflow)?;
        supplier.gpu_count =
            supplier.gpu_count.checked_sub(u32::from(worker.spec.gpu_count)).ok_or(TimelockError::Overflow)?;
        events::emit(
            &ctx.accounts.event_authority,
            &WorkerDeregistered {
                worker: worker.key(),
                supplier: supplier.key(),
                released_stake: worker.bonded_stake,
                supplier_reserved: supplier.reserved,
                timestamp: now,
            },
        )?;
        Ok(())
    }
}
