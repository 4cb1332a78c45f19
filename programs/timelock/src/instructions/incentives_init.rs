use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, IncentivesChanged};
use crate::pda;
use crate::state::{Config, IncentivePool};
use crate::token;

#[event_cpi]
#[derive(Accounts)]
pub struct IncentivesInit<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(mut, address = pda::CONFIG.0, has_one = admin @ TimelockError::NotAdmin)]
    pub config: Box<Account<'info, Config>>,
    #[account(init, payer = admin, space = IncentivePool::SPACE, seeds = [INCENTIVE_POOL_SEED], bump)]
    pub pool: Box<Account<'info, IncentivePool>>,
    #[account(address = config.stake_mint @ TimelockError::InvalidStakeMint, mint::token_program = token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(
        init,
        payer = admin,
        seeds = [INCENTIVE_VAULT_SEED],
        bump,
        token::mint = stake_mint,
        token::authority = config,
        token::token_program = token_program,
    )]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

/// Accounts of the admin's deposits into the incentive vault.
#[event_cpi]
#[derive(Accounts)]
pub struct IncentivesFund<'info> {
    pub admin: Signer<'info>,
    #[account(address = pda::CONFIG.0, has_one = admin @ TimelockError::NotAdmin)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, address = pda::INCENTIVE_POOL.0)]
    pub pool: Box<Account<'info, IncentivePool>>,
    #[account(address = config.stake_mint @ TimelockError::InvalidStakeMint, mint::token_program = token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = pool.vault @ TimelockError::InvalidVault)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = stake_mint, token::authority = admin, token::token_program = token_program)]
    pub admin_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl IncentivesInit<'_> {
    /// Opens the incentive pool: from now on settlement credits what renters paid for final seconds to epochs of
    /// `epoch_secs`, and each epoch pays up to `emission_per_epoch` (what the vault holds uncommitted) pro rata.
    pub fn handler(ctx: Context<Self>, emission_per_epoch: u64, epoch_secs: i64) -> Result<()> {
        require!(epoch_secs > 0, TimelockError::InvalidEpoch);
        ctx.accounts.config.incentives_enabled = true;
        ctx.accounts.config.require_fee_for_incentives()?;
        let pool = &mut ctx.accounts.pool;
        pool.vault = ctx.accounts.vault.key();
        pool.emission_per_epoch = emission_per_epoch;
        pool.epoch_secs = epoch_secs;
        pool.genesis_ts = Clock::get()?.unix_timestamp;
        pool.bump = ctx.bumps.pool;
        let event = IncentivesChanged { emission_per_epoch, epoch_secs, funded: 0, genesis_ts: pool.genesis_ts };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}

impl IncentivesFund<'_> {
    pub fn handler(ctx: Context<Self>, amount: u64) -> Result<()> {
        require!(amount > 0, TimelockError::ZeroAmount);
        let accounts = &mut *ctx.accounts;
        let before = accounts.vault.amount;
        token::transfer(
            &accounts.token_program,
            &accounts.stake_mint,
            &accounts.admin_tokens,
            &accounts.vault,
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
            epoch_secs: pool.epoch_secs,
            funded: pool.funded,
            genesis_ts: pool.genesis_ts,
        };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
