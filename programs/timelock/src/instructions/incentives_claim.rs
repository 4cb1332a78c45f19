use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, IncentivesClaimed};
use crate::math;
use crate::pda;
use crate::state::{Config, IncentiveEpoch, IncentivePool, Supplier, SupplierIncentive};
use crate::utils::token;

#[event_cpi]
#[derive(Accounts)]
pub struct IncentivesClaim<'info> {
    /// The supplier's authority.
    pub authority: Signer<'info>,
    /// The config (PDA `["config"]`): its stake mint; signs for the incentive vault.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The signer's supplier record (PDA `["supplier", authority]`).
    #[account(seeds = [SUPPLIER_SEED, authority.key().as_ref()], bump = supplier.bump, has_one = authority)]
    pub supplier: Box<Account<'info, Supplier>>,
    /// The incentive pool (PDA `["incentive_pool"]`).
    #[account(mut, address = pda::INCENTIVE_POOL.0)]
    pub pool: Box<Account<'info, IncentivePool>>,
    /// The ended emission epoch claimed (PDA `["incentive_epoch", epoch (u64 LE)]`).
    #[account(mut, seeds = [INCENTIVE_EPOCH_SEED, &epoch.epoch.to_le_bytes()], bump = epoch.bump)]
    pub epoch: Box<Account<'info, IncentiveEpoch>>,
    /// The supplier's credit in that epoch (PDA `["supplier_incentive", supplier, epoch (u64 LE)]`), closed here.
    #[account(
        mut,
        close = rent_payer,
        seeds = [SUPPLIER_INCENTIVE_SEED, supplier.key().as_ref(), &epoch.epoch.to_le_bytes()],
        bump = supplier_incentive.bump,
        has_one = supplier,
        has_one = rent_payer,
    )]
    pub supplier_incentive: Box<Account<'info, SupplierIncentive>>,
    /// CHECK: receives the rent of `supplier_incentive`; must be who paid it (checked by `has_one`).
    #[account(mut)]
    pub rent_payer: UncheckedAccount<'info>,
    /// The config's stake mint.
    #[account(address = config.stake_mint @ TimelockError::InvalidStakeMint, mint::token_program = token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The pool's vault (PDA token account `["incentive_vault"]`), which pays the incentives.
    #[account(mut, address = pool.vault @ TimelockError::InvalidVault)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// A stake-mint account of the authority, which receives the incentives.
    #[account(mut, token::mint = stake_mint, token::authority = authority, token::token_program = token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the stake mint.
    pub token_program: Interface<'info, TokenInterface>,
}

impl IncentivesClaim<'_> {
    /// Pays the supplier its share of an ended epoch's emission. Allowed while paused: rewards are earned.
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &mut *ctx.accounts;
        let epoch = &mut accounts.epoch;
        require!(now >= accounts.pool.epoch_end(epoch.epoch), TimelockError::EpochNotOver);
        let amount = math::pro_rata(epoch.emission, accounts.supplier_incentive.credit, epoch.credit)
            .ok_or(TimelockError::Overflow)?;
        epoch.paid = epoch.paid.checked_add(amount).ok_or(TimelockError::Overflow)?;
        let pool = &mut accounts.pool;
        pool.paid = pool.paid.checked_add(amount).ok_or(TimelockError::Overflow)?;
        if amount > 0 {
            token::Tokens::of(&accounts.token_program, &*accounts.stake_mint, accounts.stake_mint.decimals)
                .transfer_from_vault(
                    &*accounts.vault,
                    &*accounts.destination,
                    accounts.config.to_account_info(),
                    amount,
                )?;
        }
        let event = IncentivesClaimed {
            supplier: accounts.supplier.key(),
            epoch: accounts.epoch.epoch,
            credit: accounts.supplier_incentive.credit,
            epoch_credit: accounts.epoch.credit,
            amount,
            timestamp: now,
        };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
