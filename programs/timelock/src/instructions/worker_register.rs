use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, WorkerRegistered};
use crate::math;
use crate::pda;
use crate::state::{Config, Device, Gpu, Supplier, Worker, WorkerSpec};

#[event_cpi]
#[derive(Accounts)]
#[instruction(worker_index: u32, spec: WorkerSpec)]
pub struct WorkerRegister<'info> {
    /// The supplier's authority; pays the rent of the worker, its device record and its GPU records.
    #[account(mut)]
    pub authority: Signer<'info>,
    /// The config (PDA `["config"]`): stake per GPU, GPU multipliers and pause flag.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The signer's supplier record (PDA `["supplier", authority]`), whose free stake bonds the worker.
    #[account(
        mut,
        seeds = [SUPPLIER_SEED, authority.key().as_ref()],
        bump = supplier.bump,
        has_one = authority,
    )]
    pub supplier: Box<Account<'info, Supplier>>,
    /// The worker, created here (PDA `["worker", supplier, worker_index (u32 LE)]`).
    #[account(
        init,
        payer = authority,
        space = Worker::SPACE,
        seeds = [WORKER_SEED, supplier.key().as_ref(), &worker_index.to_le_bytes()],
        bump,
    )]
    pub worker: Box<Account<'info, Worker>>,
    /// CHECK: the device key's record, created here; `Device::bind` refuses a key that backs another worker.
    #[account(mut, seeds = [DEVICE_SEED, spec.device_key.as_ref()], bump)]
    pub device: UncheckedAccount<'info>,
    /// Creates the worker, device and GPU records.
    pub system_program: Program<'info, System>,
}

/// Stake a worker with `spec` must bond under the current config.
pub(crate) fn bond_for(config: &Config, spec: &WorkerSpec) -> Result<u64> {
    spec.validate()?;
    let multiplier = config.gpu_multiplier(spec.gpu_model)?;
    math::required_stake(config.params.min_stake_per_gpu, multiplier, spec.gpu_count)
        .ok_or_else(|| error!(TimelockError::Overflow))
}

impl<'info> WorkerRegister<'info> {
    /// Registers a worker with `spec`, bonding stake for it, and binds its device key and its GPUs: `gpus` are
    /// the `Gpu::uuid_hash`es of its GPUs' UUIDs, strictly ascending, one per GPU, with their registry records
    /// (`["gpu", hash]`) as the remaining accounts in the same order. A key or a GPU that backs another worker
    /// is refused.
    pub fn handler(ctx: Context<'info, Self>, worker_index: u32, spec: WorkerSpec, gpus: Vec<[u8; 32]>) -> Result<()> {
        ctx.accounts.config.require_not_paused()?;
        Device::bind(
            &ctx.accounts.device,
            ctx.bumps.device,
            &spec.device_key,
            ctx.accounts.worker.key(),
            &ctx.accounts.authority.to_account_info(),
            &ctx.accounts.system_program.to_account_info(),
        )?;
        let config = &ctx.accounts.config;
        let bond = bond_for(config, &spec)?;
        let gpu_set = Gpu::bind_all(
            ctx.remaining_accounts,
            &gpus,
            spec.gpu_count,
            ctx.accounts.worker.key(),
            &ctx.accounts.authority.to_account_info(),
            &ctx.accounts.system_program.to_account_info(),
        )?;
        let supplier = &mut ctx.accounts.supplier;
        require!(bond <= supplier.free_stake()?, TimelockError::InsufficientFreeStake);
        supplier.reserved = supplier.reserved.checked_add(bond).ok_or(TimelockError::Overflow)?;
        supplier.worker_count = supplier.worker_count.checked_add(1).ok_or(TimelockError::Overflow)?;
        supplier.gpu_count =
            supplier.gpu_count.checked_add(u32::from(spec.gpu_count)).ok_or(TimelockError::Overflow)?;

        let now = Clock::get()?.unix_timestamp;
        let worker = &mut ctx.accounts.worker;
        worker.supplier = supplier.key();
        worker.worker_index = worker_index;
        worker.spec = spec.clone();
        worker.available = true;
        worker.active_lease = Pubkey::default();
        worker.bonded_stake = bond;
        worker.registered_at = now;
        worker.bump = ctx.bumps.worker;
        worker.gpu_set = gpu_set;

        events::emit(
            &ctx.accounts.event_authority,
            &WorkerRegistered {
                worker: worker.key(),
                supplier: worker.supplier,
                worker_index,
                spec,
                gpu_set,
                bonded_stake: bond,
                supplier_reserved: supplier.reserved,
                timestamp: now,
            },
        )?;
        Ok(())
    }
}
