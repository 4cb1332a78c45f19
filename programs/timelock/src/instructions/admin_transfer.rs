use anchor_lang::prelude::*;

use super::config_update::AdminConfig;
use crate::errors::TimelockError;
use crate::events::{self, AdminTransferProposed};

/// First step of a two-step hand-over: a typo in `new_admin` cannot lock the protocol, because nothing changes
/// until that key signs `admin_accept`. Proposing `Pubkey::default()` cancels a pending transfer.
impl AdminConfig<'_> {
    pub fn admin_transfer(ctx: Context<Self>, new_admin: Pubkey) -> Result<()> {
        let config = &mut ctx.accounts.config;
        require_keys_neq!(new_admin, config.admin, TimelockError::NotPendingAdmin);
        config.pending_admin = new_admin;
        events::emit(
            &ctx.accounts.event_authority,
            &AdminTransferProposed { admin: config.admin, pending_admin: new_admin },
        )?;
        Ok(())
    }
}
