use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, WorkloadSet};
use crate::state::{Cluster, ClusterStatus, Workload};
use crate::utils::token;

#[event_cpi]
#[derive(Accounts)]
pub struct ClusterSetWorkload<'info> {
    /// Pays the workload account's rent the first time (returned by `cluster_close`).
    #[account(mut)]
    pub renter: Signer<'info>,
    /// The renter's open cluster (PDA `["cluster", renter, cluster_id (u64 LE)]`).
    #[account(
        seeds = [CLUSTER_SEED, renter.key().as_ref(), &cluster.cluster_id.to_le_bytes()],
        bump = cluster.bump,
        has_one = renter,
    )]
    pub cluster: Box<Account<'info, Cluster>>,
    /// CHECK: the cluster's workload, created here on first use; its seeds tie it to this cluster.
    #[account(mut, seeds = [WORKLOAD_SEED, cluster.key().as_ref()], bump)]
    pub workload: UncheckedAccount<'info>,
    /// Creates the workload account on first use.
    pub system_program: Program<'info, System>,
}

impl ClusterSetWorkload<'_> {
    /// Declares (or replaces) the container images that may run on the cluster's GPUs: `images` are
    /// `Workload::image_hash`es, strictly ascending. Only the renter can, and only while the cluster is open.
    pub fn handler(ctx: Context<Self>, images: Vec<[u8; 32]>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &ctx.accounts;
        require!(accounts.cluster.status == ClusterStatus::Open, TimelockError::ClusterNotOpen);
        let info = accounts.workload.to_account_info();
        let mut workload = if info.owner == &crate::ID && !info.data_is_empty() {
            Workload::try_deserialize(&mut &info.try_borrow_data()?[..])?
        } else {
            let cluster = accounts.cluster.key();
            token::create_pda_account(
                &accounts.renter.to_account_info(),
                &info,
                &accounts.system_program.to_account_info(),
                Workload::SPACE,
                &[WORKLOAD_SEED, cluster.as_ref()],
                ctx.bumps.workload,
            )?;
            Workload { cluster, images: Vec::new(), retiring: Vec::new(), changed_at: 0, bump: ctx.bumps.workload }
        };
        workload.replace(images, now)?;
        token::write_new(&info, &workload)?;
        let event = WorkloadSet {
            cluster: workload.cluster,
            images: workload.images,
            retiring: workload.retiring,
            timestamp: now,
        };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
