use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, CloseAccount, Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, ClusterClosed};
use crate::state::{Cluster, Workload};
use crate::utils::token;

#[event_cpi]
#[derive(Accounts)]
pub struct ClusterClose<'info> {
    /// The cluster's renter: receives what is left in escrow and the rent.
    #[account(mut)]
    pub renter: Signer<'info>,
    /// The renter's cluster (PDA `["cluster", renter, cluster_id (u64 LE)]`), closed here once its end has passed and
    /// every lease has settled.
    #[account(
        mut,
        close = renter,
        seeds = [CLUSTER_SEED, renter.key().as_ref(), &cluster.cluster_id.to_le_bytes()],
        bump = cluster.bump,
        has_one = renter,
    )]
    pub cluster: Box<Account<'info, Cluster>>,
    /// The cluster's escrow (PDA token account `["escrow", cluster]`): emptied to the renter and closed.
    #[account(mut, address = cluster.escrow @ TimelockError::InvalidVault)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The cluster's payment mint.
    #[account(address = cluster.payment_mint @ TimelockError::InvalidPaymentMint, mint::token_program = token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The renter's payment-mint account, which receives anything left in escrow.
    #[account(mut, token::mint = payment_mint, token::authority = renter, token::token_program = token_program)]
    pub renter_tokens: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> ClusterClose<'info> {
    /// Closes a cluster whose leases have all settled, returning the escrow's and the cluster's rent, and its
    /// workload's when that account is passed as the one remaining account (an address with no account there,
    /// for a cluster that never declared one, is passed over).
    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &mut *ctx.accounts;
        let cluster = &accounts.cluster;
        require!(cluster.leases_open == 0 && now >= cluster.end_ts, TimelockError::ClusterNotSettled);
        let signer = cluster.signer();
        let seeds: &[&[u8]] = &signer.seeds();
        // Settlement empties escrow to the unit; anything left was sent here by someone and goes to the renter.
        let swept = accounts.escrow.amount;
        if swept > 0 {
            token::Tokens::of(&accounts.token_program, &*accounts.payment_mint, accounts.payment_mint.decimals)
                .transfer(
                    &*accounts.escrow,
                    &*accounts.renter_tokens,
                    accounts.cluster.to_account_info(),
                    &[seeds],
                    swept,
                )?;
        }
        let close = CloseAccount {
            account: accounts.escrow.to_account_info(),
            destination: accounts.renter.to_account_info(),
            authority: accounts.cluster.to_account_info(),
        };
        token_interface::close_account(CpiContext::new_with_signer(accounts.token_program.key(), close, &[seeds]))?;
        if let Some(info) = ctx.remaining_accounts.first().filter(|info| !info.data_is_empty()) {
            require!(info.is_writable, TimelockError::InvalidWorkloadAccount);
            let workload =
                Account::<Workload>::try_from(info).map_err(|_| error!(TimelockError::InvalidWorkloadAccount))?;
            require_keys_eq!(workload.cluster, accounts.cluster.key(), TimelockError::InvalidWorkloadAccount);
            workload.close(accounts.renter.to_account_info())?;
        }
        let cluster = &accounts.cluster;
        let event = ClusterClosed {
            cluster: cluster.key(),
            deposited: cluster.deposited,
            paid_to_suppliers: cluster.paid_to_suppliers,
            fees: cluster.fees,
            refunded: cluster.refunded,
            swept,
            timestamp: now,
        };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
