use anchor_lang::prelude::*;

use crate::constants::*;
use crate::events::{self, SupplierRegistered};
use crate::pda;
use crate::state::{Config, Supplier};

#[event_cpi]
#[derive(Accounts)]
pub struct SupplierRegister<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(address = pda::CONFIG.0)]
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
        events::emit(
            &ctx.accounts.event_authority,
            &SupplierRegistered { supplier: supplier.key(), authority: supplier.authority, timestamp: now },
        )?;
        Ok(())
    }
}
