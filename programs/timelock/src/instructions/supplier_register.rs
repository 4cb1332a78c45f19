use anchor_lang::prelude::*;

use crate::constants::*;
use crate::events::SupplierRegistered;
use crate::state::{Config, Supplier};

#[event_cpi]
#[derive(Accounts)]
pub struct SupplierRegister<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        init,
        payer = authority,
        space = Supplier::SPACE,
        seeds = [SUPPLIER_SEED, authority.key().as_ref()],
        bump,
    )]
    pub supplier: Box<Account<'info, Supplier>>,
    pub system_program: Program<'info, System>,
}

impl SupplierRegister<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.config.require_not_paused()?;
        let now = Clock::get()?.unix_timestamp;
        let supplier = &mut ctx.accounts.supplier;
        supplier.authority = ctx.accounts.authority.key();
        supplier.created_at = now;
        supplier.bump = ctx.bumps.supplier;
        emit_cpi!(SupplierRegistered {
            supplier: supplier.key(),
            authority: supplier.authority,
            timestamp: now,
        });
        Ok(())
    }
}
