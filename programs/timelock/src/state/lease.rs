use anchor_lang::prelude::*;

use crate::constants::MAX_ORACLES;
use crate::math::Finality;

/// One oracle's latest attestation for a lease. Keyed by the oracle so that a change of the oracle set never
/// attributes a vote to the wrong key.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OracleVote {
    pub oracle: Pubkey,
    pub proven_secs: u64,
    pub faults: u64,
    pub window_end: i64,
}

/// One worker booked in a cluster. PDA `["lease", cluster, worker]`. Zero-copy: attestations touch many leases
/// per transaction, and a cast costs nothing where Borsh would cost thousands of CU per lease.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Lease {
    pub cluster: Pubkey,
    pub worker: Pubkey,
    pub supplier: Pubkey,
    /// Open disputant, `Pubkey::default()` when none.
    pub disputer: Pubkey,
    /// Locked at booking.
    pub price_per_gpu_hour: u64,
    /// price × GPUs.
    pub hourly_rate: u64,
    /// Supplier stake locked while the lease lives.
    pub collateral: u64,
    pub start_ts: i64,
    /// 0 while the lease runs to the cluster's end; set when the renter removes this worker.
    pub ended_at: i64,
    /// Cumulative proven seconds agreed by the oracle quorum (monotonic).
    pub proven_secs: u64,
    /// When `proven_secs` last increased.
    pub proven_at: i64,
    /// Proven seconds past the dispute window: what settlement pays.
    pub final_secs: u64,
    pub pending_secs: u64,
    pub pending_since: i64,
    /// Cumulative faults agreed by the oracle quorum (monotonic).
    pub faults: u64,
    pub faults_slashed: u64,
    /// Gross paid out of escrow so far (supplier share + protocol fee).
    pub gross_paid: u64,
    pub fees_paid: u64,
    pub slashed: u64,
    pub dispute_bond: u64,
    pub dispute_opened_at: i64,
    /// Final seconds already credited to the incentive pool's epochs.
    pub incentive_credited_secs: u64,
    pub votes: [OracleVote; MAX_ORACLES],
    /// Hours of escrow this lease is entitled to once removed (the cluster's hours at removal).
    pub entitled_hours: u32,
    /// Protocol fee locked at booking, so that a later config change cannot reprice a running lease.
    pub fee_bps: u16,
    pub gpu_count: u16,
    pub bump: u8,
    pub _padding: [u8; 7],
}

impl Lease {
    pub const SPACE: usize = 8 + std::mem::size_of::<Lease>();

    pub fn is_removed(&self) -> bool {
        self.ended_at != 0
    }

    pub fn is_disputed(&self) -> bool {
        self.disputer != Pubkey::default()
    }

    /// When the lease stops accruing: the cluster's end, or its removal if earlier.
    pub fn end_ts(&self, cluster_end_ts: i64) -> i64 {
        if self.is_removed() {
            self.ended_at.min(cluster_end_ts)
        } else {
            cluster_end_ts
        }
    }

    /// Most seconds this lease can be paid for.
    pub fn max_secs(&self, cluster_end_ts: i64) -> u64 {
        u64::try_from(self.end_ts(cluster_end_ts).saturating_sub(self.start_ts)).unwrap_or(0)
    }

    pub fn finality(&self) -> Finality {
        Finality { final_secs: self.final_secs, pending_secs: self.pending_secs, pending_since: self.pending_since }
    }

    /// Matures attested seconds as of `now` (frozen while disputed).
    pub fn advance_finality(&mut self, now: i64, window_secs: i64) {
        if !self.is_disputed() {
            let next = self.finality().advance(self.proven_secs, self.proven_at, now, window_secs);
            self.set_finality(next);
        }
    }

    fn set_finality(&mut self, finality: Finality) {
        self.final_secs = finality.final_secs;
        self.pending_secs = finality.pending_secs;
        self.pending_since = finality.pending_since;
    }
}
