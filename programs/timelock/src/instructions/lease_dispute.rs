use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TimelockError;
use crate::events::{self, DisputeOpened};
use crate::pda;
use crate::state::{Cluster, Config, Lease, Supplier};
use crate::utils::token;

#[event_cpi]
#[derive(Accounts)]
pub struct LeaseDispute<'info> {
    /// The cluster's renter or the supplier's authority; posts the bond.
    pub disputer: Signer<'info>,
    /// The config (PDA `["config"]`): bond, epoch and dispute window, oracle set.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The lease contested (PDA `["lease", cluster, worker]`).
    #[account(mut, has_one = cluster, has_one = supplier)]
    pub lease: AccountLoader<'info, Lease>,
    /// The lease's cluster: its renter, end and escrow.
    pub cluster: Box<Account<'info, Cluster>>,
    /// The lease's supplier, whose authority may dispute.
    pub supplier: Box<Account<'info, Supplier>>,
    /// The cluster's escrow (PDA token account `["escrow", cluster]`), which holds the bond until the dispute is
    /// decided.
    #[account(mut, address = cluster.escrow @ TimelockError::InvalidVault)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The cluster's payment mint.
    #[account(address = cluster.payment_mint @ TimelockError::InvalidPaymentMint, mint::token_program = token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The disputer's payment-mint account the bond comes from.
    #[account(mut, token::mint = payment_mint, token::authority = disputer, token::token_program = token_program)]
    pub disputer_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub token_program: Interface<'info, TokenInterface>,
}

impl LeaseDispute<'_> {
    /// The renter or the supplier contests the lease's attested time and faults. The bond goes into the
    /// cluster's escrow and nothing more becomes final (so nothing more is paid, refunded or slashed) until
    /// the oracle quorum's re-judgments decide (`lease_dispute_verdict`), the admin decides (`lease_dispute_resolve`),
    /// or the dispute lapses after the configured timeout (then the
    /// attested totals stand and settlement pays the bond to the other party). A party whose dispute was decided
    /// may dispute again only once something new was attested.
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let accounts = &mut *ctx.accounts;
        let disputer = accounts.disputer.key();
        require!(
            disputer == accounts.cluster.renter || disputer == accounts.supplier.authority,
            TimelockError::NotLeaseParty
        );
        let bond = accounts.config.params.dispute_bond;
        let now = Clock::get()?.unix_timestamp;
        {
            let mut lease = accounts.lease.load_mut()?;
            require!(!lease.is_disputed(), TimelockError::DisputeOpen);
            // After the lease's last attestation had its epoch to land and then its dispute window, there is
            // nothing left to contest: a dispute then would only delay the close.
            let params = &accounts.config.params;
            let deadline = lease
                .end_ts(accounts.cluster.end_ts)
                .saturating_add(params.epoch_secs)
                .saturating_add(params.dispute_window_secs);
            require!(now < deadline, TimelockError::DisputeWindowClosed);
            require!(lease.may_dispute(disputer == accounts.cluster.renter), TimelockError::DisputeAlreadyDecided);
            lease.open_dispute(disputer, bond, now, &params.oracles, usize::from(params.oracle_threshold));
        }
        let before = accounts.escrow.amount;
        token::Tokens::of(&accounts.token_program, &*accounts.payment_mint, accounts.payment_mint.decimals).transfer(
            &*accounts.disputer_tokens,
            &*accounts.escrow,
            accounts.disputer.to_account_info(),
            &[],
            bond,
        )?;
        accounts.escrow.reload()?;
        require!(accounts.escrow.amount.checked_sub(before) == Some(bond), TimelockError::TransferFeeNotSupported);
        let event = DisputeOpened { lease: accounts.lease.key(), disputer, bond, timestamp: now };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
