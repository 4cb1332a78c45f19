use anchor_lang::prelude::*;

use crate::errors::TimelockError;
use crate::events::{self, ConfigUpdated};
use crate::pda;
use crate::state::{Config, ConfigParams};

/// Accounts of every admin-only instruction that changes nothing but the config.
#[event_cpi]
#[derive(Accounts)]
pub struct AdminConfig<'info> {
    pub admin: Signer<'info>,
    #[account(mut, address = pda::CONFIG.0, has_one = admin @ TimelockError::NotAdmin)]
    pub config: Box<Account<'info, Config>>,
}

impl AdminConfig<'_> {
    pub fn config_update(ctx: Context<Self>, params: ConfigParams) -> Result<()> {
        params.validate()?;
        let config = &mut ctx.accounts.config;
        config.params = params.clone();
        config.require_fee_for_incentives()?;
        let event = ConfigUpdated { admin: config.admin, params };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
