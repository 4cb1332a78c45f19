use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::TimelockError;
use crate::events::{self, ClusterCreated};
use crate::pda;
use crate::state::{Cluster, ClusterPurpose, ClusterStatus, Config};

#[event_cpi]
#[derive(Accounts)]
#[instruction(cluster_id: u64)]
pub struct ClusterCreate<'info> {
    /// The renter: owns the cluster and pays the rent.
    #[account(mut)]
    pub renter: Signer<'info>,
    /// The config (PDA `["config"]`): its payment mint, minimum rental and pause flag.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
    /// The cluster, created here (PDA `["cluster", renter, cluster_id (u64 LE)]`).
    #[account(
        init,
        payer = renter,
        space = Cluster::SPACE,
        seeds = [CLUSTER_SEED, renter.key().as_ref(), &cluster_id.to_le_bytes()],
        bump,
    )]
    pub cluster: Box<Account<'info, Cluster>>,
    /// The config's payment mint, the escrow's mint.
    #[account(address = config.payment_mint @ TimelockError::InvalidPaymentMint, mint::token_program = token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The cluster's escrow, created here: PDA token account `["escrow", cluster]`, owned by the cluster; it holds what
    /// the renter pays until settlement pays or refunds it.
    #[account(
        init,
        payer = renter,
        seeds = [ESCROW_SEED, cluster.key().as_ref()],
        bump,
        token::mint = payment_mint,
        token::authority = cluster,
        token::token_program = token_program,
    )]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub token_program: Interface<'info, TokenInterface>,
    /// Creates the cluster and its escrow.
    pub system_program: Program<'info, System>,
}

impl ClusterCreate<'_> {
    /// Opens a booking of `hours` whole hours from now. Workers join with `cluster_add_workers`, each paying its
    /// share of escrow as it joins, so a cluster of any size is booked in as many transactions as it needs.
    pub fn handler(ctx: Context<Self>, cluster_id: u64, hours: u32, purpose: ClusterPurpose) -> Result<()> {
        let config = &ctx.accounts.config;
        config.require_not_paused()?;
        let secs = i64::from(hours) * SECS_PER_HOUR;
        require!(
            hours <= MAX_CLUSTER_HOURS && secs >= config.params.min_rental_secs,
            TimelockError::InvalidClusterHours
        );
        let now = Clock::get()?.unix_timestamp;
        let cluster = &mut ctx.accounts.cluster;
        cluster.renter = ctx.accounts.renter.key();
        cluster.cluster_id = cluster_id;
        cluster.payment_mint = ctx.accounts.payment_mint.key();
        cluster.escrow = ctx.accounts.escrow.key();
        cluster.purpose = purpose;
        cluster.status = ClusterStatus::Open;
        cluster.start_ts = now;
        cluster.end_ts = now.checked_add(secs).ok_or(TimelockError::Overflow)?;
        cluster.hours = hours;
        cluster.bump = ctx.bumps.cluster;
        let event = ClusterCreated {
            cluster: cluster.key(),
            renter: cluster.renter,
            cluster_id,
            purpose,
            start_ts: cluster.start_ts,
            end_ts: cluster.end_ts,
            hours,
            timestamp: now,
        };
        events::emit(&ctx.accounts.event_authority, &event)
    }
}
