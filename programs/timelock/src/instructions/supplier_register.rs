use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, SupplierRegistered};
use crate::pda;
use crate::state::{Config, Supplier};

#[event_cpi]
#[derive(Accounts)]
pub struct SupplierRegister<'info> {
    /// The supplier's key: signs its instructions from now on; pays the rent.
    #[account(mut)]
    pub authority: Signer<'info>,
    /// The config (PDA `["config"]`): its payment mint and pause flag.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The supplier record, created here (PDA `["supplier", authority]`).
    #[account(
        init,
        payer = authority,
        space = Supplier::SPACE,
        seeds = [SUPPLIER_SEED, authority.key().as_ref()],
        bump,
    )]
    pub supplier: Box<Account<'info, Supplier>>,
    /// The config's payment mint, the earnings vault's mint.
    #[account(address = config.payment_mint @ TimelockError::InvalidPaymentMint, mint::token_program = payment_token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// Receives the supplier's share at each settlement; `earnings_claim` empties it.
    #[account(
        init,
        payer = authority,
        seeds = [EARNINGS_SEED, supplier.key().as_ref()],
        bump,
        token::mint = payment_mint,
        token::authority = config,
        token::token_program = payment_token_program,
    )]
    pub earnings_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub payment_token_program: Interface<'info, TokenInterface>,
    /// Creates the supplier record and its earnings vault.
    pub system_program: Program<'info, System>,
}

impl SupplierRegister<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.config.require_not_paused()?;
        let now = Clock::get()?.unix_timestamp;
        let supplier = &mut ctx.accounts.supplier;
        supplier.authority = ctx.accounts.authority.key();
        supplier.earnings_vault = ctx.accounts.earnings_vault.key();
        supplier.created_at = now;
        supplier.bump = ctx.bumps.supplier;
        events::emit(
            &ctx.accounts.event_authority,
            &SupplierRegistered { supplier: supplier.key(), authority: supplier.authority, timestamp: now },
        )?;
        Ok(())
    }
}
