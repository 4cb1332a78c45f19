use anchor_lang::prelude::*;

use super::stake_transfer::stake_event;
use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, StakeChangeKind};
use crate::pda;
use crate::state::{Config, Supplier};

#[event_cpi]
#[derive(Accounts)]
pub struct StakeUnbond<'info> {
    /// The supplier's authority.
    pub authority: Signer<'info>,
    /// The config (PDA `["config"]`): its unbonding period.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The signer's supplier record (PDA `["supplier", authority]`), whose free stake is queued.
    #[account(
        mut,
        seeds = [SUPPLIER_SEED, authority.key().as_ref()],
        bump = supplier.bump,
        has_one = authority,
    )]
    pub supplier: Box<Account<'info, Supplier>>,
}

impl StakeUnbond<'_> {
    /// Queues `amount` for withdrawal. Stake bonded by workers or locked as lease collateral cannot be queued.
    /// Queuing more restarts the unbonding clock for the whole queued amount, so that topping up the queue can
    /// never shorten the delay of stake that was committed a moment ago.
    pub fn handler(ctx: Context<Self>, amount: u64) -> Result<()> {
        require!(amount > 0, TimelockError::ZeroAmount);
        let now = Clock::get()?.unix_timestamp;
        let period = ctx.accounts.config.params.unbonding_period_secs;
        let supplier = &mut ctx.accounts.supplier;
        require!(amount <= supplier.free_stake()?, TimelockError::InsufficientFreeStake);
        supplier.unbonding = supplier.unbonding.checked_add(amount).ok_or(TimelockError::Overflow)?;
        supplier.unbond_ready_at = now.checked_add(period).ok_or(TimelockError::Overflow)?;
        let event = stake_event(supplier, StakeChangeKind::Unbond, amount, now);
        events::emit(&ctx.accounts.event_authority, &event)?;
        Ok(())
    }
}
