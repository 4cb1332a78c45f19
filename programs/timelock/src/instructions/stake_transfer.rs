use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, StakeChangeKind, StakeChanged};
use crate::pda;
use crate::state::{Config, Supplier};
use crate::utils::token;

/// Accounts shared by every instruction that moves stake between a supplier's token account and the vault.
#[event_cpi]
#[derive(Accounts)]
pub struct StakeTransfer<'info> {
    /// The supplier's authority.
    pub authority: Signer<'info>,
    /// The config (PDA `["config"]`): its stake mint, stake vault and pause flag; signs withdrawals from the vault.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The signer's supplier record (PDA `["supplier", authority]`), whose stake changes.
    #[account(
        mut,
        seeds = [SUPPLIER_SEED, authority.key().as_ref()],
        bump = supplier.bump,
        has_one = authority,
    )]
    pub supplier: Box<Account<'info, Supplier>>,
    /// The config's stake mint.
    #[account(address = config.stake_mint @ TimelockError::InvalidStakeMint, mint::token_program = token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The supplier's own account: deposits come from it, withdrawals go back to it.
    #[account(
        mut,
        token::mint = stake_mint,
        token::authority = authority,
        token::token_program = token_program,
    )]
    pub supplier_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The stake vault (PDA token account `["stake_vault", config]`), owned by the config.
    #[account(mut, address = config.stake_vault @ TimelockError::InvalidVault)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the stake mint.
    pub token_program: Interface<'info, TokenInterface>,
}

impl StakeTransfer<'_> {
    pub fn stake_deposit(ctx: Context<Self>, amount: u64) -> Result<()> {
        ctx.accounts.config.require_not_paused()?;
        require!(amount > 0, TimelockError::ZeroAmount);
        let accounts = &mut *ctx.accounts;
        let before = accounts.stake_vault.amount;
        token::Tokens::of(&accounts.token_program, &*accounts.stake_mint, accounts.stake_mint.decimals).transfer(
            &*accounts.supplier_tokens,
            &*accounts.stake_vault,
            accounts.authority.to_account_info(),
            &[],
            amount,
        )?;
        // Credit what arrived, not what was sent: a Token-2022 transfer fee would otherwise mint stake from nothing.
        accounts.stake_vault.reload()?;
        let received = accounts.stake_vault.amount.checked_sub(before).ok_or(TimelockError::Overflow)?;
        let supplier = &mut accounts.supplier;
        supplier.staked = supplier.staked.checked_add(received).ok_or(TimelockError::Overflow)?;
        let event = stake_event(supplier, StakeChangeKind::Deposit, received, Clock::get()?.unix_timestamp);
        events::emit(&ctx.accounts.event_authority, &event)?;
        Ok(())
    }

    pub fn stake_withdraw(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &mut *ctx.accounts;
        let supplier = &mut accounts.supplier;
        require!(supplier.unbonding > 0, TimelockError::NothingUnbonding);
        require!(now >= supplier.unbond_ready_at, TimelockError::UnbondingNotElapsed);
        // A slash during unbonding can leave less than was queued; the supplier gets what remains.
        let amount = supplier.unbonding.min(supplier.staked);
        supplier.staked -= amount;
        supplier.unbonding = 0;
        supplier.unbond_ready_at = 0;
        token::Tokens::of(&accounts.token_program, &*accounts.stake_mint, accounts.stake_mint.decimals)
            .transfer_from_vault(
                &*accounts.stake_vault,
                &*accounts.supplier_tokens,
                accounts.config.to_account_info(),
                amount,
            )?;
        let event = stake_event(&accounts.supplier, StakeChangeKind::Withdraw, amount, now);
        events::emit(&ctx.accounts.event_authority, &event)?;
        Ok(())
    }
}

/// The `StakeChanged` event of every instruction that moves a supplier's stake (`stake_unbond` too), as of `now`.
pub(crate) fn stake_event(supplier: &Account<Supplier>, kind: StakeChangeKind, amount: u64, now: i64) -> StakeChanged {
    StakeChanged {
        supplier: supplier.key(),
        kind,
        amount,
        staked: supplier.staked,
        unbonding: supplier.unbonding,
        unbond_ready_at: supplier.unbond_ready_at,
        reserved: supplier.reserved,
        locked: supplier.locked,
        timestamp: now,
    }
}
