use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, IncentivesChanged};
use crate::pda;
use crate::state::{Config, IncentivePool};

#[event_cpi]
#[derive(Accounts)]
pub struct IncentivesInit<'info> {
    /// The config's admin; pays the rent.
    #[account(mut)]
    pub admin: Signer<'info>,
    /// The config (PDA `["config"]`): incentives are enabled on it.
    #[account(mut, address = pda::CONFIG.0, has_one = admin @ TimelockError::NotAdmin)]
    pub config: Box<Account<'info, Config>>,
    /// The incentive pool, created here (PDA `["incentive_pool"]`).
    #[account(init, payer = admin, space = IncentivePool::SPACE, seeds = [INCENTIVE_POOL_SEED], bump)]
    pub pool: Box<Account<'info, IncentivePool>>,
    /// The config's stake mint, in which incentives are paid.
    #[account(address = config.stake_mint @ TimelockError::InvalidStakeMint, mint::token_program = token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The pool's vault, created here: PDA token account `["incentive_vault"]`, owned by the config.
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
    /// Token program of the stake mint.
    pub token_program: Interface<'info, TokenInterface>,
    /// Creates the pool and its vault.
    pub system_program: Program<'info, System>,
}

impl IncentivesInit<'_> {
    /// Opens the incentive pool: from now on settlement credits what renters paid for final seconds to emission
    /// epochs of `emission_epoch_secs` (unrelated to the oracles' attestation `epoch_secs`), and each epoch pays up
    /// to `emission_per_epoch` (what the vault holds uncommitted) pro rata.
    pub fn handler(ctx: Context<Self>, emission_per_epoch: u64, emission_epoch_secs: i64) -> Result<()> {
        require!(emission_epoch_secs > 0, TimelockError::InvalidEpoch);
        ctx.accounts.config.incentives_enabled = true;
        ctx.accounts.config.require_fee_for_incentives()?;
        let now = Clock::get()?.unix_timestamp;
        let pool = &mut ctx.accounts.pool;
        pool.vault = ctx.accounts.vault.key();
        pool.emission_per_epoch = emission_per_epoch;
        pool.emission_epoch_secs = emission_epoch_secs;
        pool.genesis_ts = now;
        pool.bump = ctx.bumps.pool;
        let event = IncentivesChanged {
            emission_per_epoch,
            emission_epoch_secs,
            funded: 0,
            genesis_ts: pool.genesis_ts,
            timestamp: now,
        };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
