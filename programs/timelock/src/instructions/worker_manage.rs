use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, WorkerAvailabilityChanged, WorkerUnjailed};
use crate::pda;
use crate::state::{Config, Supplier, Worker};

/// Accounts of the supplier's instructions on one of its workers.
#[event_cpi]
#[derive(Accounts)]
pub struct WorkerManage<'info> {
    /// The supplier's authority.
    pub authority: Signer<'info>,
    /// The config (PDA `["config"]`), pinned by address.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The signer's supplier record (PDA `["supplier", authority]`), owner of the worker.
    #[account(
        mut,
        seeds = [SUPPLIER_SEED, authority.key().as_ref()],
        bump = supplier.bump,
        has_one = authority,
    )]
    pub supplier: Box<Account<'info, Supplier>>,
    /// One of the supplier's workers (PDA `["worker", supplier, worker_index (u32 LE)]`).
    #[account(
        mut,
        seeds = [WORKER_SEED, supplier.key().as_ref(), &worker.worker_index.to_le_bytes()],
        bump = worker.bump,
        has_one = supplier,
    )]
    pub worker: Box<Account<'info, Worker>>,
}

impl WorkerManage<'_> {
    /// Whether new bookings may pick this worker; an existing lease is not affected.
    pub fn worker_set_available(ctx: Context<Self>, available: bool) -> Result<()> {
        let worker = &mut ctx.accounts.worker;
        worker.available = available;
        events::emit(
            &ctx.accounts.event_authority,
            &WorkerAvailabilityChanged { worker: worker.key(), available, timestamp: Clock::get()?.unix_timestamp },
        )?;
        Ok(())
    }

    /// Lets a jailed worker be booked again once its cool-down has passed. Its fault window is kept: while the
    /// faults that jailed it still count, one more fault jails it again and it cannot deregister.
    pub fn worker_unjail(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let worker = &mut ctx.accounts.worker;
        require!(worker.is_jailed() && now >= worker.jailed_until, TimelockError::WorkerNotUnjailable);
        worker.jailed_until = 0;
        let event = WorkerUnjailed { worker: worker.key(), timestamp: now };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
