use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, WorkerRegistered};
use crate::math;
use crate::pda;
use crate::state::{Config, Device, Gpu, Supplier, Worker, WorkerSpec};
use crate::utils::token;

#[event_cpi]
#[derive(Accounts)]
pub struct WorkerRegister<'info> {
    /// The supplier's authority; pays the rent of the worker and its device record.
    #[account(mut)]
    pub authority: Signer<'info>,
    /// The config (PDA `["config"]`): stake per GPU, GPU multipliers and pause flag.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The signer's supplier record (PDA `["supplier", authority]`), whose free stake bonds the worker. The program
    /// creates supplier records only at that address, so its type, owner and authority identify it.
    #[account(mut, has_one = authority)]
    pub supplier: Box<Account<'info, Supplier>>,
    /// CHECK: the worker, created here at its PDA `["worker", supplier, worker_index (u32 LE)]` (checked by the
    /// handler); an index in use is refused by the system program.
    #[account(mut)]
    pub worker: UncheckedAccount<'info>,
    /// CHECK: the device key's record (PDA `["device", spec.device_key]`), created here; `Device::bind` checks its
    /// address and refuses a key that backs another worker.
    #[account(mut)]
    pub device: UncheckedAccount<'info>,
    /// Creates the worker and device records.
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
    /// Registers a worker with `spec`, bonding stake for it, and binds its device key; a key that backs another
    /// worker is refused. The worker is not bookable until `worker_bind_gpus` has bound all its GPUs (in the
    /// same transaction, for up to `MAX_GPUS_PER_BIND` GPUs).
    pub fn handler(ctx: Context<'info, Self>, worker_index: u32, spec: WorkerSpec) -> Result<()> {
        ctx.accounts.config.require_not_paused()?;
        let bond = bond_for(&ctx.accounts.config, &spec)?;
        let payer = ctx.accounts.authority.to_account_info();
        let system_program = ctx.accounts.system_program.to_account_info();
        let worker_key = ctx.accounts.worker.key();

        // The worker first, so that an index in use is refused as such, whatever else is wrong.
        let supplier_key = ctx.accounts.supplier.key();
        let index_le = worker_index.to_le_bytes();
        let seeds: &[&[u8]] = &[WORKER_SEED, supplier_key.as_ref(), &index_le];
        let bump = pda::require_canonical(&worker_key, seeds, TimelockError::InvalidWorkerAddress)?;
        token::create_pda_account(&payer, &ctx.accounts.worker, &system_program, Worker::SPACE, seeds, bump)?;
        let now = Clock::get()?.unix_timestamp;
        let worker = Worker {
            supplier: supplier_key,
            worker_index,
            spec: spec.clone(),
            available: true,
            active_lease: Pubkey::default(),
            bonded_stake: bond,
            jailed_until: 0,
            fault_count: 0,
            fault_window_start: 0,
            window_faults: 0,
            registered_at: now,
            bump,
            gpu_set: Gpu::empty_set_digest(),
            gpus_bound: 0,
            last_gpu: [0; 32],
            _reserved: [0; 32],
        };
        token::write_new(&ctx.accounts.worker, &worker)?;
        Device::bind(&ctx.accounts.device, &spec.device_key, worker_key, &payer, &system_program)?;

        let supplier = &mut ctx.accounts.supplier;
        require!(bond <= supplier.free_stake()?, TimelockError::InsufficientFreeStake);
        supplier.reserved = supplier.reserved.checked_add(bond).ok_or(TimelockError::Overflow)?;
        supplier.worker_count = supplier.worker_count.checked_add(1).ok_or(TimelockError::Overflow)?;
        supplier.gpu_count =
            supplier.gpu_count.checked_add(u32::from(spec.gpu_count)).ok_or(TimelockError::Overflow)?;
        events::emit(
            &ctx.accounts.event_authority,
            &WorkerRegistered {
                worker: worker_key,
                supplier: supplier_key,
                worker_index,
                spec,
                bonded_stake: bond,
                supplier_reserved: supplier.reserved,
                timestamp: now,
            },
        )?;
        Ok(())
    }
}
