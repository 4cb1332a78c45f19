use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TimelockError;
use crate::events::{self, IncentivesChanged};
use crate::pda;
use crate::state::{Config, IncentivePool};
use crate::utils::token;

/// Accounts of the admin's deposits into the incentive vault.
#[event_cpi]
#[derive(Accounts)]
pub struct IncentivesFund<'info> {
    /// The config's admin.
    pub admin: Signer<'info>,
    /// The config (PDA `["config"]`): its admin and stake mint.
    #[account(address = pda::CONFIG.0, has_one = admin @ TimelockError::NotAdmin)]
    pub config: Box<Account<'info, Config>>,
    /// The incentive pool (PDA `["incentive_pool"]`), whose funds grow.
    #[account(mut, address = pda::INCENTIVE_POOL.0)]
    pub pool: Box<Account<'info, IncentivePool>>,
    /// The config's stake mint.
    #[account(address = config.stake_mint @ TimelockError::InvalidStakeMint, mint::token_program = token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The pool's vault (PDA token account `["incentive_vault"]`), which receives the funds.
    #[account(mut, address = pool.vault @ TimelockError::InvalidVault)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The admin's stake-mint account the funds come from.
    #[account(mut, token::mint = stake_mint, token::authority = admin, token::token_program = token_program)]
    pub admin_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the stake mint.
    pub token_program: Interface<'info, TokenInterface>,
}

impl IncentivesFund<'_> {
    pub fn handler(ctx: Context<Self>, amount: u64) -> Result<()> {
        require!(amount > 0, TimelockError::ZeroAmount);
        let accounts = &mut *ctx.accounts;
        let before = accounts.vault.amount;
        token::Tokens::of(&accounts.token_program, &*accounts.stake_mint, accounts.stake_mint.decimals).transfer(
            &*accounts.admin_tokens,
            &*accounts.vault,
            accounts.admin.to_account_info(),
            &[],
            amount,
        )?;
        accounts.vault.reload()?;
        let received = accounts.vault.amount.checked_sub(before).ok_or(TimelockError::Overflow)?;
        let pool = &mut accounts.pool;
        pool.funded = pool.funded.checked_add(received).ok_or(TimelockError::Overflow)?;
        let event = IncentivesChanged {
            emission_per_epoch: pool.emission_per_epoch,
            emission_epoch_secs: pool.emission_epoch_secs,
            funded: pool.funded,
            genesis_ts: pool.genesis_ts,
            timestamp: Clock::get()?.unix_timestamp,
        };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
