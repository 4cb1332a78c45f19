use anchor_lang::prelude::*;

use super::config_update::AdminConfig;
use crate::events::{self, PauseChanged};

/// Backs both `pause` and `unpause`. Pausing stops new stakes, registrations and rentals; unbonding, withdrawals
/// and everything else that returns funds to their owners keeps working.
impl AdminConfig<'_> {
    pub fn set_paused(ctx: Context<Self>, paused: bool) -> Result<()> {
        let config = &mut ctx.accounts.config;
        config.paused = paused;
        events::emit(&ctx.accounts.event_authority, &PauseChanged { admin: config.admin, paused })?;
        Ok(())
    }
}
