use anchor_lang::prelude::*;

use crate::errors::TimelockError;
use crate::events::{self, AdminTransferProposed, ConfigUpdated, PauseChanged};
use crate::pda;
use crate::state::{Config, ConfigParams};

/// Accounts of every admin-only instruction that changes nothing but the config.
#[event_cpi]
#[derive(Accounts)]
pub struct AdminConfig<'info> {
    /// The config's current admin.
    pub admin: Signer<'info>,
    /// The config (PDA `["config"]`), changed in place.
    #[account(mut, address = pda::CONFIG.0, has_one = admin @ TimelockError::NotAdmin)]
    pub config: Box<Account<'info, Config>>,
}

impl AdminConfig<'_> {
    pub fn config_update(ctx: Context<Self>, params: ConfigParams) -> Result<()> {
        params.validate()?;
        let config = &mut ctx.accounts.config;
        config.params = params.clone();
        config.require_fee_for_incentives()?;
        let event = ConfigUpdated { admin: config.admin, params, timestamp: Clock::get()?.unix_timestamp };
        events::emit(&ctx.accounts.event_authority, &event)
    }

    /// First step of a two-step hand-over: a typo in `new_admin` cannot lock the protocol, because nothing changes
    /// until that key signs `admin_accept`. Proposing `Pubkey::default()` cancels a pending transfer.
    pub fn admin_transfer(ctx: Context<Self>, new_admin: Pubkey) -> Result<()> {
        let config = &mut ctx.accounts.config;
        require_keys_neq!(new_admin, config.admin, TimelockError::NotPendingAdmin);
        config.pending_admin = new_admin;
        events::emit(
            &ctx.accounts.event_authority,
            &AdminTransferProposed {
                admin: config.admin,
                pending_admin: new_admin,
                timestamp: Clock::get()?.unix_timestamp,
            },
        )?;
        Ok(())
    }

    /// Pausing stops new stakes, registrations and rentals; unbonding, withdrawals and everything else that
    /// returns funds to their owners keeps working.
    pub fn pause(ctx: Context<Self>) -> Result<()> {
        Self::set_paused(ctx, true)
    }

    pub fn unpause(ctx: Context<Self>) -> Result<()> {
        Self::set_paused(ctx, false)
    }

    /// Backs both `pause` and `unpause`.
    fn set_paused(ctx: Context<Self>, paused: bool) -> Result<()> {
        let config = &mut ctx.accounts.config;
        config.paused = paused;
        let event = PauseChanged { admin: config.admin, paused, timestamp: Clock::get()?.unix_timestamp };
        events::emit(&ctx.accounts.event_authority, &event)?;
        Ok(())
    }
}
