use anchor_lang::prelude::*;

use crate::constants::CONFIG_SEED;
use crate::errors::TimelockError;
use crate::events::ConfigUpdated;
use crate::state::{Config, ConfigParams};

/// Accounts of every admin-only instruction that changes nothing but the config.
#[event_cpi]
#[derive(Accounts)]
pub struct AdminConfig<'info> {
    pub admin: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump, has_one = admin @ TimelockError::NotAdmin)]
    pub config: Box<Account<'info, Config>>,
}

impl AdminConfig<'_> {
    pub fn config_update(ctx: Context<Self>, params: ConfigParams) -> Result<()> {
        params.validate()?;
        let config = &mut ctx.accounts.config;
        config.params = params.clone();
        emit_cpi!(ConfigUpdated { admin: config.admin, params });
        Ok(())
    }
}
