use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, LeaseRemoved};
use crate::state::{Cluster, Lease};

#[event_cpi]
#[derive(Accounts)]
pub struct ClusterRemoveWorker<'info> {
    /// The cluster's renter.
    pub renter: Signer<'info>,
    /// The renter's running cluster (PDA `["cluster", renter, cluster_id (u64 LE)]`).
    #[account(
        mut,
        seeds = [CLUSTER_SEED, renter.key().as_ref(), &cluster.cluster_id.to_le_bytes()],
        bump = cluster.bump,
        has_one = renter,
    )]
    pub cluster: Box<Account<'info, Cluster>>,
    /// The lease to remove (PDA `["lease", cluster, worker]`), of this cluster.
    #[account(mut, has_one = cluster)]
    pub lease: AccountLoader<'info, Lease>,
}

impl ClusterRemoveWorker<'_> {
    /// Scales the cluster down by one worker from now on. Its proven time until now is still paid; the rest of
    /// its escrow is refunded when the lease settles.
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let cluster = &mut ctx.accounts.cluster;
        require!(cluster.is_running(now), TimelockError::ClusterNotOpen);
        let mut lease = ctx.accounts.lease.load_mut()?;
        require!(!lease.is_removed(), TimelockError::LeaseEnded);
        lease.removed_at = now;
        lease.entitled_hours = cluster.hours;
        cluster.hourly_rate_total =
            cluster.hourly_rate_total.checked_sub(lease.hourly_rate).ok_or(TimelockError::Overflow)?;
        let event = LeaseRemoved {
            cluster: cluster.key(),
            lease: ctx.accounts.lease.key(),
            removed_at: now,
            hourly_rate_total: cluster.hourly_rate_total,
            timestamp: now,
        };
        drop(lease);
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
