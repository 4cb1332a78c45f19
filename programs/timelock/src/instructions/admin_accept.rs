use anchor_lang::prelude::*;

use crate::constants::CONFIG_SEED;
use crate::errors::TimelockError;
use crate::events::AdminTransferred;
use crate::state::Config;

#[event_cpi]
#[derive(Accounts)]
pub struct AdminAccept<'info> {
    pub pending_admin: Signer<'info>,
    #[account(
        mut,
        seeds = [CONFIG_SEED],
        bump = config.bump,
        constraint = config.pending_admin != Pubkey::default() @ TimelockError::NoPendingAdmin,
        constraint = config.pending_admin == pending_admin.key() @ TimelockError::NotPendingAdmin,
    )]
    pub config: Box<Account<'info, Config>>,
}

impl AdminAccept<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let config = &mut ctx.accounts.config;
        let previous_admin = config.admin;
        config.admin = config.pending_admin;
        config.pending_admin = Pubkey::default();
        emit_cpi!(AdminTransferred { previous_admin, admin: config.admin });
        Ok(())
    }
}
