use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TimelockError;
use crate::events;
use crate::pda;
use crate::state::{Cluster, Config, Lease};
use crate::utils::dispute::{pay_bond, Decided};
use crate::utils::token::Tokens;

#[event_cpi]
#[derive(Accounts)]
pub struct LeaseDisputeResolve<'info> {
    /// The config's admin.
    pub admin: Signer<'info>,
    /// The config (PDA `["config"]`): its admin and treasury.
    #[account(address = pda::CONFIG.0, has_one = admin @ TimelockError::NotAdmin)]
    pub config: Box<Account<'info, Config>>,
    /// The disputed lease (PDA `["lease", cluster, worker]`).
    #[account(mut, has_one = cluster, constraint = lease.load()?.is_disputed() @ TimelockError::NoDispute)]
    pub lease: AccountLoader<'info, Lease>,
    /// The lease's cluster: its renter, end and escrow.
    pub cluster: Box<Account<'info, Cluster>>,
    /// The cluster's escrow (PDA token account `["escrow", cluster]`), which holds the bond.
    #[account(mut, address = cluster.escrow @ TimelockError::InvalidVault)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The cluster's payment mint.
    #[account(address = cluster.payment_mint @ TimelockError::InvalidPaymentMint, mint::token_program = token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// A payment-mint account of the disputer: receives the bond of an upheld dispute.
    #[account(
        mut,
        token::mint = payment_mint,
        token::authority = lease.load()?.disputer,
        token::token_program = token_program,
    )]
    pub disputer_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    /// A payment-mint account of the treasury: receives the bond of a rejected dispute.
    #[account(
        mut,
        token::mint = payment_mint,
        token::authority = config.params.treasury,
        token::token_program = token_program,
    )]
    pub treasury_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub token_program: Interface<'info, TokenInterface>,
}

impl LeaseDisputeResolve<'_> {
    /// The admin decides the lease's proven seconds and faults for its time up to `as_of` (at most now, not
    /// before the last decision; usually the end of the oracles' last window, so that no attested-but-unsettled
    /// time is dropped). The decision is final at once and binds later attestations (they count what was seen
    /// since `as_of`, so the oracles' earlier votes cannot bring the disputed span back); it can neither lower
    /// what was already final (and may have been paid or slashed) nor prove more time than the lease ran by
    /// `as_of`. An upheld dispute returns the bond; a rejected one forfeits it to the treasury.
    pub fn handler(ctx: Context<Self>, proven_secs: u64, faults: u64, as_of: i64, upheld: bool) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &mut *ctx.accounts;
        let (disputer, bond) = {
            let mut lease = accounts.lease.load_mut()?;
            require!(as_of <= now && as_of >= lease.evidence_since(), TimelockError::InvalidResolutionTime);
            let ran = lease.ran_by(as_of, accounts.cluster.end_ts);
            require!(proven_secs <= ran, TimelockError::ResolutionBeyondElapsed);
            // Final seconds beyond the lease's length were never payable, so a decision may bring them down to it.
            require!(
                proven_secs >= lease.final_secs.min(ran) && faults >= lease.final_faults,
                TimelockError::ResolutionBelowFinal
            );
            lease.resolve(&accounts.cluster.renter, proven_secs, faults, as_of, now)
        };
        let decided =
            Decided { lease: accounts.lease.key(), disputer, bond, upheld, proven_secs, faults, timestamp: now };
        let mint = &accounts.payment_mint;
        let tokens = Tokens::of(&accounts.token_program, &**mint, mint.decimals);
        let (to_disputer, to_treasury) = (&*accounts.disputer_tokens, &*accounts.treasury_tokens);
        let event = pay_bond(&tokens, &*accounts.escrow, to_disputer, to_treasury, &accounts.cluster, decided)?;
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
