use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, ClusterEnded};
use crate::state::{Cluster, ClusterStatus};

#[event_cpi]
#[derive(Accounts)]
pub struct ClusterEnd<'info> {
    /// The cluster's renter.
    pub renter: Signer<'info>,
    /// The renter's open cluster (PDA `["cluster", renter, cluster_id (u64 LE)]`).
    #[account(
        mut,
        seeds = [CLUSTER_SEED, renter.key().as_ref(), &cluster.cluster_id.to_le_bytes()],
        bump = cluster.bump,
        has_one = renter,
    )]
    pub cluster: Box<Account<'info, Cluster>>,
}

impl ClusterEnd<'_> {
    /// Ends the whole cluster now. Leases stop accruing; each refunds its unproven time once its last
    /// attestation has landed and passed the dispute window.
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let cluster = &mut ctx.accounts.cluster;
        require!(cluster.status == ClusterStatus::Open, TimelockError::ClusterNotOpen);
        cluster.status = ClusterStatus::Ended;
        cluster.end_ts = cluster.end_ts.min(now);
        let event = ClusterEnded { cluster: cluster.key(), end_ts: cluster.end_ts, timestamp: now };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
