use anchor_lang::prelude::*;

use super::worker_register::bond_for;
use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, WorkerUpdated};
use crate::pda;
use crate::state::{Config, Device, Supplier, Worker, WorkerSpec};

#[event_cpi]
#[derive(Accounts)]
pub struct WorkerUpdate<'info> {
    /// Pays the new device record's rent and receives the old one's.
    #[account(mut)]
    pub authority: Signer<'info>,
    /// The config (PDA `["config"]`): the bond is recomputed under its current parameters.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The signer's supplier record (PDA `["supplier", authority]`), whose reserved stake follows the new bond.
    #[account(
        mut,
        seeds = [SUPPLIER_SEED, authority.key().as_ref()],
        bump = supplier.bump,
        has_one = authority,
    )]
    pub supplier: Box<Account<'info, Supplier>>,
    /// The supplier's worker (PDA `["worker", supplier, worker_index (u32 LE)]`), whose spec is replaced.
    #[account(
        mut,
        seeds = [WORKER_SEED, supplier.key().as_ref(), &worker.worker_index.to_le_bytes()],
        bump = worker.bump,
        has_one = supplier,
    )]
    pub worker: Box<Account<'info, Worker>>,
    /// The record of the worker's current device key.
    #[account(
        mut,
        seeds = [DEVICE_SEED, worker.spec.device_key.as_ref()],
        bump = device.bump,
        constraint = device.worker == worker.key() @ TimelockError::InvalidDeviceRecord,
    )]
    pub device: Box<Account<'info, Device>>,
    /// CHECK: the record of the new device key (PDA `["device", spec.device_key]`), created here when the key
    /// changes: `Device::bind` checks its address and refuses a key that backs another worker. Unread when the key
    /// stays (the SDK passes `device` again).
    #[account(mut)]
    pub new_device: UncheckedAccount<'info>,
    /// Creates the new device record when the device key changes.
    pub system_program: Program<'info, System>,
}

impl WorkerUpdate<'_> {
    /// Replaces the worker's declared spec. While leased the hardware and the host (device key) must stay as
    /// booked (the renter pays for them); price and region may change, and apply to future bookings only.
    /// The bond is recomputed under the current config, so a changed multiplier table applies on update.
    /// A new device key moves the worker's device record: the new key must not back another worker.
    pub fn handler(ctx: Context<Self>, spec: WorkerSpec) -> Result<()> {
        let accounts = &mut *ctx.accounts;
        if spec.device_key != accounts.worker.spec.device_key {
            let authority = accounts.authority.to_account_info();
            let system_program = accounts.system_program.to_account_info();
            Device::bind(&accounts.new_device, &spec.device_key, accounts.worker.key(), &authority, &system_program)?;
            accounts.device.close(authority)?;
        }
        let worker = &mut accounts.worker;
        require!(worker.spec.gpu_count == spec.gpu_count, TimelockError::GpuCountChange);
        if worker.is_leased() {
            require!(worker.spec.same_hardware(&spec), TimelockError::HardwareChangeWhileLeased);
            // The device key is the host the renter booked: the lease's evidence is signed by it.
            require_keys_eq!(worker.spec.device_key, spec.device_key, TimelockError::DeviceChangeWhileLeased);
        }
        let bond = bond_for(&accounts.config, &spec)?;
        let supplier = &mut accounts.supplier;
        supplier.reserved = supplier.reserved.checked_sub(worker.bonded_stake).ok_or(TimelockError::Overflow)?;
        require!(bond <= supplier.free_stake()?, TimelockError::InsufficientFreeStake);
        supplier.reserved = supplier.reserved.checked_add(bond).ok_or(TimelockError::Overflow)?;
        supplier.gpu_count = supplier
            .gpu_count
            .checked_sub(u32::from(worker.spec.gpu_count))
            .and_then(|n| n.checked_add(u32::from(spec.gpu_count)))
            .ok_or(TimelockError::Overflow)?;
        worker.spec = spec.clone();
        worker.bonded_stake = bond;
        let event = WorkerUpdated {
            worker: worker.key(),
            supplier: supplier.key(),
            spec,
            bonded_stake: bond,
            supplier_reserved: supplier.reserved,
            timestamp: Clock::get()?.unix_timestamp,
        };
        events::emit(&ctx.accounts.event_authority, &event)?;
        Ok(())
    }
}
