use anchor_lang::prelude::*;

use crate::constants::CLUSTER_SEED;

/// What the renter runs on the cluster; orchestrators need different networking, so suppliers may filter on it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum ClusterPurpose {
    /// Ray jobs (a head node and workers).
    Ray,
    /// A Kubernetes cluster, the workers as its nodes.
    Kubernetes,
    /// Plain containers on each worker.
    Containers,
    /// The hosts themselves, with no orchestrator: the renter has each host to itself, so it gets no share of a slash
    /// (it could cause any fault).
    BareMetal,
}

/// Where a cluster is in its life; it is closed (the account deleted) once every lease has settled.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum ClusterStatus {
    /// Booked and running until `end_ts`; workers may be added, removed, and hours extended.
    Open,
    /// The renter ended it early; leases settle and refund what was not proven.
    Ended,
}

/// A renter's booking of workers. PDA `["cluster", renter, cluster_id (u64 LE)]`; it is the authority of its
/// escrow vault (PDA `["escrow", cluster]`), so no other cluster's authority can move this escrow.
#[account]
#[derive(InitSpace, Debug)]
pub struct Cluster {
    /// Who booked the cluster and pays for it; only it may change the cluster.
    pub renter: Pubkey,
    /// The renter's number for the cluster, part of its seeds.
    pub cluster_id: u64,
    /// Mint of the escrow: the config's payment mint at creation.
    pub payment_mint: Pubkey,
    /// The escrow token account (PDA `["escrow", cluster]`), owned by the cluster.
    pub escrow: Pubkey,
    /// What the renter runs on the cluster.
    pub purpose: ClusterPurpose,
    /// Open until the renter ends it early.
    pub status: ClusterStatus,
    /// When the booking started (`cluster_create`).
    pub start_ts: i64,
    /// Booked end; moves forward with `cluster_extend` and back to now with `cluster_end`.
    pub end_ts: i64,
    /// Booked whole hours from `start_ts`.
    pub hours: u32,
    /// Leases ever booked in the cluster.
    pub lease_count: u32,
    /// Leases not yet closed by settlement.
    pub leases_open: u32,
    /// Σ price × GPUs of leases still running: what one more hour costs.
    pub hourly_rate_total: u64,
    /// Payment-mint base units the renter put into escrow, in total.
    pub deposited: u64,
    /// Supplier shares paid out of escrow, in total.
    pub paid_to_suppliers: u64,
    /// Protocol fees sent from escrow to the treasury, in total: each lease's, when it closes.
    pub fees: u64,
    /// Escrow refunded to the renter, in total.
    pub refunded: u64,
    /// Bump of the account's PDA.
    pub bump: u8,
}

impl Cluster {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    pub fn is_running(&self, now: i64) -> bool {
        self.status == ClusterStatus::Open && now < self.end_ts
    }

    /// What the cluster PDA signs its escrow transfers with. Owned, so that the cluster account itself need not
    /// stay borrowed while other accounts change.
    pub fn signer(&self) -> ClusterSigner {
        ClusterSigner { renter: self.renter, cluster_id: self.cluster_id.to_le_bytes(), bump: [self.bump] }
    }
}

pub struct ClusterSigner {
    renter: Pubkey,
    cluster_id: [u8; 8],
    bump: [u8; 1],
}

impl ClusterSigner {
    pub fn seeds(&self) -> [&[u8]; 4] {
        [CLUSTER_SEED, self.renter.as_ref(), &self.cluster_id, &self.bump]
    }
}
