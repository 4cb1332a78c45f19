use anchor_lang::prelude::*;

use super::stake_deposit::{stake_event, StakeTransfer};
use crate::errors::TimelockError;
use crate::events::{self, StakeChangeKind};
use crate::token;

impl StakeTransfer<'_> {
    pub fn stake_withdraw(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &mut *ctx.accounts;
        let supplier = &mut accounts.supplier;
        require!(supplier.unbonding > 0, TimelockError::NothingUnbonding);
        require!(now >= supplier.unbond_ready_at, TimelockError::UnbondingNotElapsed);
        // A slash during unbonding can leave less than was queued; the supplier gets what remains.
        let amount = supplier.unbonding.min(supplier.staked);
        supplier.staked -= amount;
        supplier.unbonding = 0;
        supplier.unbond_ready_at = 0;
        token::transfer_from_vault(
            &accounts.token_program,
            &accounts.stake_mint,
            &accounts.stake_vault,
            &accounts.supplier_tokens,
            accounts.config.to_account_info(),
            amount,
        )?;
        let event = stake_event(&accounts.supplier, StakeChangeKind::Withdraw, amount)?;
        events::emit(&ctx.accounts.event_authority, &event)?;
        Ok(())
    }
}
