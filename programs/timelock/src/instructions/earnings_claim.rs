use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, EarningsClaimed};
use crate::pda;
use crate::state::{Config, Supplier};
use crate::utils::token;

#[event_cpi]
#[derive(Accounts)]
pub struct EarningsClaim<'info> {
    /// The supplier's authority.
    pub authority: Signer<'info>,
    /// The config (PDA `["config"]`): its payment mint; signs for the earnings vault.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The signer's supplier record (PDA `["supplier", authority]`), whose unclaimed earnings are paid.
    #[account(
        mut,
        seeds = [SUPPLIER_SEED, authority.key().as_ref()],
        bump = supplier.bump,
        has_one = authority,
        has_one = earnings_vault @ TimelockError::InvalidVault,
    )]
    pub supplier: Box<Account<'info, Supplier>>,
    /// The supplier's earnings vault (PDA token account `["earnings", supplier]`), owned by the config.
    #[account(mut)]
    pub earnings_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The config's payment mint.
    #[account(address = config.payment_mint @ TimelockError::InvalidPaymentMint, mint::token_program = token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// A payment-mint account of the authority, which receives the earnings.
    #[account(mut, token::mint = payment_mint, token::authority = authority, token::token_program = token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub token_program: Interface<'info, TokenInterface>,
}

impl EarningsClaim<'_> {
    /// Pays the supplier everything its settled leases earned. Allowed while paused: earnings are the supplier's.
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let accounts = &mut *ctx.accounts;
        let amount = accounts.supplier.earnings_unclaimed;
        require!(amount > 0, TimelockError::NothingToClaim);
        let supplier = &mut accounts.supplier;
        supplier.earnings_unclaimed = 0;
        supplier.earnings_claimed = supplier.earnings_claimed.checked_add(amount).ok_or(TimelockError::Overflow)?;
        token::Tokens::of(&accounts.token_program, &*accounts.payment_mint, accounts.payment_mint.decimals)
            .transfer_from_vault(
                &*accounts.earnings_vault,
                &*accounts.destination,
                accounts.config.to_account_info(),
                amount,
            )?;
        let event = EarningsClaimed {
            supplier: accounts.supplier.key(),
            amount,
            earnings_claimed: accounts.supplier.earnings_claimed,
            timestamp: Clock::get()?.unix_timestamp,
        };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
