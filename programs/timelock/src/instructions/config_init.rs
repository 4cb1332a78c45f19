use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, ConfigInitialized};
use crate::pda;
use crate::state::{Config, ConfigParams};
use crate::utils::token;

#[event_cpi]
#[derive(Accounts)]
pub struct ConfigInit<'info> {
    /// The program's upgrade authority: becomes the admin and pays the rent.
    #[account(mut)]
    pub admin: Signer<'info>,
    /// The protocol's singleton, created here (PDA `["config"]`).
    #[account(init, payer = admin, space = Config::SPACE, seeds = [CONFIG_SEED], bump)]
    pub config: Box<Account<'info, Config>>,
    /// Mint of stake, collateral, slashes and incentives.
    #[account(mint::token_program = stake_token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,
    /// Mint renters pay in and suppliers earn in.
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// Holds every supplier's stake: PDA token account `["stake_vault", config]`, owned by the config, created here.
    #[account(
        init,
        payer = admin,
        seeds = [STAKE_VAULT_SEED, config.key().as_ref()],
        bump,
        token::mint = stake_mint,
        token::authority = config,
        token::token_program = stake_token_program,
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Only the upgrade authority may initialise: otherwise anyone could front-run the deployment and make
    /// themselves admin of a freshly deployed program.
    #[account(
        address = pda::PROGRAM_DATA,
        constraint = program_data.upgrade_authority_address == Some(admin.key())
            @ TimelockError::NotUpgradeAuthority,
    )]
    pub program_data: Box<Account<'info, ProgramData>>,
    /// Token program of the stake mint (Token or Token-2022).
    pub stake_token_program: Interface<'info, TokenInterface>,
    /// Creates the config and the stake vault.
    pub system_program: Program<'info, System>,
}

impl ConfigInit<'_> {
    /// Refuses mints that would let their issuer take or block the program's tokens (see
    /// [`token::require_safe_mint`]) and records their decimals for collateral conversion.
    pub fn handler(ctx: Context<Self>, params: ConfigParams) -> Result<()> {
        params.validate()?;
        token::require_safe_mint(&ctx.accounts.stake_mint)?;
        token::require_safe_mint(&ctx.accounts.payment_mint)?;
        let config = &mut ctx.accounts.config;
        config.admin = ctx.accounts.admin.key();
        config.pending_admin = Pubkey::default();
        config.stake_mint = ctx.accounts.stake_mint.key();
        config.payment_mint = ctx.accounts.payment_mint.key();
        config.stake_vault = ctx.accounts.stake_vault.key();
        config.paused = false;
        config.stake_decimals = ctx.accounts.stake_mint.decimals;
        config.payment_decimals = ctx.accounts.payment_mint.decimals;
        config.params = params.clone();
        events::emit(
            &ctx.accounts.event_authority,
            &ConfigInitialized {
                admin: config.admin,
                stake_mint: config.stake_mint,
                payment_mint: config.payment_mint,
                stake_vault: config.stake_vault,
                params,
                timestamp: Clock::get()?.unix_timestamp,
            },
        )?;
        Ok(())
    }
}
