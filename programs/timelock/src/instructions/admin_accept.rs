use anchor_lang::prelude::*;

use crate::errors::TimelockError;
use crate::events::{self, AdminTransferred};
use crate::pda;
use crate::state::Config;

#[event_cpi]
#[derive(Accounts)]
pub struct AdminAccept<'info> {
    /// The key `admin_transfer` proposed; it becomes the admin.
    pub pending_admin: Signer<'info>,
    /// The config (PDA `["config"]`); its `pending_admin` must be the signer.
    #[account(
        mut,
        address = pda::CONFIG.0,
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
        let event = AdminTransferred { previous_admin, admin: config.admin, timestamp: Clock::get()?.unix_timestamp };
        events::emit(&ctx.accounts.event_authority, &event)?;
        Ok(())
    }
}
