use anchor_lang::prelude::*;

use crate::constants::MAX_ORACLES;
use crate::math::{self, Finality};
use crate::utils::keys::{contains_key, same_key};

/// One oracle's latest attestation for a lease. Keyed by the oracle so that a change of the oracle set never
/// attributes a vote to the wrong key.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OracleVote {
    /// The oracle that voted.
    pub oracle: Pubkey,
    /// Its cumulative proven seconds since `Lease::evidence_since` (at most the time that had elapsed).
    pub proven_secs: u64,
    /// Its cumulative faults over the same span.
    pub faults: u64,
    /// End of the latest window it attested: an older or repeated window is ignored.
    pub window_end: i64,
    /// Merkle root of the evidence behind the attestation that carried this vote: a leaf per lease of that
    /// transaction, over the heartbeats, challenges and per-interval verdicts the oracle judged (the oracle
    /// serves the leaf and its proof), so a dispute can be checked against exactly what was judged.
    pub evidence_root: [u8; 32],
    /// The oracle's re-judgment of the lease for an open dispute (`lease_dispute_verdict`): seconds and faults
    /// from `Lease::evidence_since` to the dispute's `disputed_as_of`, and the `dispute_opened_at` of the dispute
    /// it answers (a verdict for an earlier dispute does not count).
    pub verdict_secs: u64,
    /// Faults of its dispute verdict (see `verdict_secs`).
    pub verdict_faults: u64,
    /// The `dispute_opened_at` of the dispute its verdict answers.
    pub verdict_for: i64,
}

/// One worker booked in a cluster. PDA `["lease", cluster, worker]`. Zero-copy: attestations touch many leases
/// per transaction, and a cast costs nothing where Borsh would cost thousands of CU per lease.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Lease {
    /// The cluster that booked the worker; its escrow pays the lease.
    pub cluster: Pubkey,
    /// The worker leased.
    pub worker: Pubkey,
    /// The worker's supplier, whose stake backs the lease.
    pub supplier: Pubkey,
    /// Open disputant, `Pubkey::default()` when none.
    pub disputer: Pubkey,
    /// Locked at booking.
    pub price_per_gpu_hour: u64,
    /// price × GPUs.
    pub hourly_rate: u64,
    /// Supplier stake locked while the lease lives.
    pub collateral: u64,
    /// When the worker was booked: seconds count from here.
    pub start_ts: i64,
    /// The latest end the worker's supplier accepted (`max_lease_hours` from booking), pulled back to the
    /// cluster's end of the moment when the worker is jailed: extending the cluster never extends a lease past
    /// it (the renter is refunded what it escrowed beyond).
    pub max_end_ts: i64,
    /// When the renter removed this worker from the cluster (`cluster_remove_worker`); 0 while the lease runs to
    /// the cluster's end.
    pub removed_at: i64,
    /// Cumulative proven seconds agreed by the oracle quorum (monotonic).
    pub proven_secs: u64,
    /// When `proven_secs` last increased.
    pub proven_at: i64,
    /// Proven seconds past the dispute window: what settlement pays.
    pub final_secs: u64,
    /// Attested total waiting out the dispute window before it becomes final (`math::Finality`).
    pub pending_secs: u64,
    /// When `pending_secs` started waiting.
    pub pending_since: i64,
    /// Cumulative faults agreed by the oracle quorum (monotonic, except that a dispute resolution may lower it).
    pub faults: u64,
    /// When `faults` last increased.
    pub faults_at: i64,
    /// Faults past the dispute window: what settlement slashes. A fault waits like a second does, so a
    /// disputed fault is never slashed before the dispute is decided.
    pub final_faults: u64,
    /// Faults waiting out the dispute window before they become final.
    pub pending_faults: u64,
    /// When `pending_faults` started waiting.
    pub faults_pending_since: i64,
    /// Final faults already slashed.
    pub faults_slashed: u64,
    /// Gross the renter paid so far (supplier share + protocol fee): the supplier's share has left escrow, the
    /// fee leaves it when the lease closes.
    pub gross_paid: u64,
    /// Protocol fees charged so far (part of `gross_paid`), held in escrow and sent to the treasury at close.
    pub fees_paid: u64,
    /// Stake slashed from the supplier for this lease so far; never more than `collateral`.
    pub slashed: u64,
    /// Bond the open dispute holds in escrow; 0 when none.
    pub dispute_bond: u64,
    /// When the open dispute opened, 0 when none: oracle verdicts name it.
    pub dispute_opened_at: i64,
    /// Final seconds already credited to the incentive pool's epochs.
    pub incentive_credited_secs: u64,
    /// The last dispute resolution: the moment its decision covers the lease up to (its `as_of`) and the totals
    /// it decided (0 if none). From then on oracles report what they saw since `resolved_at`, and the lease counts
    /// the decision plus that: a vote from before the decision never counts again, so a resolved span cannot come
    /// back.
    pub resolved_at: i64,
    /// Proven seconds the last resolution decided.
    pub resolved_secs: u64,
    /// Faults the last resolution decided.
    pub resolved_faults: u64,
    /// When the renter's and the supplier's last disputes were decided (resolved or lapsed), 0 if never: a
    /// party may not dispute again until newly attested time or faults give it something new to contest.
    pub renter_decided_at: i64,
    /// When the supplier's last dispute was decided (see `renter_decided_at`).
    pub supplier_decided_at: i64,
    /// What the open (or last) dispute contests: the lease's totals when it opened, and the end of the window
    /// through which the oracle quorum had judged them then, which the oracles' re-judgments cover.
    pub disputed_secs: u64,
    /// The lease's faults when the dispute opened.
    pub disputed_faults: u64,
    /// End of the window the quorum had judged through when the dispute opened; the oracles' verdicts cover the lease
    /// up to it.
    pub disputed_as_of: i64,
    /// Each oracle's latest vote, filled from the first slot (`Lease::voted`).
    pub votes: [OracleVote; MAX_ORACLES],
    /// Hours of escrow this lease is entitled to once removed (the cluster's hours at removal).
    pub entitled_hours: u32,
    /// Protocol fee locked at booking, so that a later config change cannot reprice a running lease.
    pub fee_bps: u16,
    /// GPUs of the worker at booking.
    pub gpu_count: u16,
    /// Bump of the account's PDA.
    pub bump: u8,
    /// Dispute resolutions so far (wrapping): an oracle names the one its counts start after, so that a report
    /// judged before a resolution landed is never read as counting from it.
    pub resolutions: u8,
    /// Zeroed, for the zero-copy layout's alignment.
    pub _padding: [u8; 6],
}

impl Lease {
    pub const SPACE: usize = 8 + std::mem::size_of::<Lease>();

    pub fn is_removed(&self) -> bool {
        self.removed_at != 0
    }

    pub fn is_disputed(&self) -> bool {
        self.disputer != Pubkey::default()
    }

    /// When the lease stops accruing: the cluster's end, its removal or the latest end its supplier accepted,
    /// whichever is first.
    pub fn end_ts(&self, cluster_end_ts: i64) -> i64 {
        let end = cluster_end_ts.min(self.max_end_ts);
        if self.is_removed() {
            self.removed_at.min(end)
        } else {
            end
        }
    }

    /// Seconds the lease had run by `as_of`: the most a decision about its time up to then may prove.
    pub fn ran_by(&self, as_of: i64, cluster_end_ts: i64) -> u64 {
        u64::try_from(as_of.min(self.end_ts(cluster_end_ts)).saturating_sub(self.start_ts)).unwrap_or(0)
    }

    /// What the renter deposited for this lease: its rate for the cluster's hours (`cluster_hours`, extensions
    /// included), or for the hours it had when the lease was removed. The close refunds all of it not paid.
    pub fn entitled(&self, cluster_hours: u32) -> Option<u64> {
        let hours = if self.is_removed() { self.entitled_hours } else { cluster_hours };
        crate::math::lease_cost(self.hourly_rate, hours)
    }

    /// Most seconds this lease can be paid for.
    pub fn max_secs(&self, cluster_end_ts: i64) -> u64 {
        u64::try_from(self.end_ts(cluster_end_ts).saturating_sub(self.start_ts)).unwrap_or(0)
    }

    pub fn finality(&self) -> Finality {
        Finality { final_total: self.final_secs, pending_total: self.pending_secs, pending_since: self.pending_since }
    }

    pub fn fault_finality(&self) -> Finality {
        Finality {
            final_total: self.final_faults,
            pending_total: self.pending_faults,
            pending_since: self.faults_pending_since,
        }
    }

    /// Matures attested seconds and faults as of `now` (frozen while disputed).
    pub fn advance_finality(&mut self, now: i64, window_secs: i64) {
        if !self.is_disputed() {
            let secs = self.finality().advance(self.proven_secs, self.proven_at, now, window_secs);
            (self.final_secs, self.pending_secs, self.pending_since) =
                (secs.final_total, secs.pending_total, secs.pending_since);
            let faults = self.fault_finality().advance(self.faults, self.faults_at, now, window_secs);
            (self.final_faults, self.pending_faults, self.faults_pending_since) =
                (faults.final_total, faults.pending_total, faults.pending_since);
        }
    }

    /// Everything attested is final: nothing waits to be paid or slashed.
    pub fn is_settled(&self, max_secs: u64) -> bool {
        self.finality().settled(self.proven_secs.min(max_secs)) && self.fault_finality().settled(self.faults)
    }

    /// Where the oracles' cumulative reports start: the lease's start, or its last dispute resolution.
    pub fn evidence_since(&self) -> i64 {
        self.start_ts.max(self.resolved_at)
    }

    /// Whether a vote for a window ending at `window_end` counts: it must describe this lease after its last
    /// resolution (a report for a window that ended before the lease began was meant for an earlier lease at the
    /// same address, one that ended before the decision's `as_of` is covered by the decision).
    pub fn counts_window(&self, window_end: i64) -> bool {
        window_end > self.evidence_since()
    }

    /// The oracles' quorum as `(proven seconds, faults)` since [`Lease::evidence_since`]: for each, the largest
    /// value that `threshold` oracles of the current set attest to. Votes of keys no longer in the set do not
    /// count; votes from before the last resolution no longer exist (`resolve` clears them).
    pub fn quorum(&self, oracles: &[Pubkey], threshold: usize) -> (u64, u64) {
        let mut proven = [0u64; MAX_ORACLES];
        let mut faults = [0u64; MAX_ORACLES];
        let mut voters = 0;
        for vote in self.voted().iter().filter(|v| contains_key(oracles, &v.oracle)) {
            proven[voters] = vote.proven_secs;
            faults[voters] = vote.faults;
            voters += 1;
        }
        (math::quorum_value(&mut proven[..voters], threshold), math::quorum_value(&mut faults[..voters], threshold))
    }

    /// Takes the last resolution's totals plus the quorum since, as of `now`, as the lease's totals where they
    /// raise them.
    pub fn record_quorum(&mut self, oracles: &[Pubkey], threshold: usize, now: i64) {
        let (secs, faults) = self.quorum(oracles, threshold);
        let agreed_secs = self.resolved_secs.saturating_add(secs);
        if agreed_secs > self.proven_secs {
            self.proven_secs = agreed_secs;
            self.proven_at = now;
        }
        let agreed_faults = self.resolved_faults.saturating_add(faults);
        if agreed_faults > self.faults {
            self.faults = agreed_faults;
            self.faults_at = now;
        }
    }

    /// Sets the lease's totals to a dispute's decision about its time up to `as_of`, final at once. Every vote is
    /// cleared: from now on the oracles report what they saw since `as_of`, naming this resolution, and the
    /// lease counts the decision plus that. Returns the closed dispute's `(disputer, bond)`.
    pub fn resolve(&mut self, renter: &Pubkey, secs: u64, faults: u64, as_of: i64, now: i64) -> (Pubkey, u64) {
        (self.resolved_at, self.resolved_secs, self.resolved_faults) = (as_of, secs, faults);
        self.resolutions = self.resolutions.wrapping_add(1);
        self.votes = [OracleVote::default(); MAX_ORACLES];
        // `proven_at` and `faults_at` keep the time of the last attestation: a decision is not new evidence.
        (self.proven_secs, self.final_secs, self.pending_secs, self.pending_since) = (secs, secs, secs, now);
        (self.faults, self.final_faults, self.pending_faults, self.faults_pending_since) =
            (faults, faults, faults, now);
        self.close_dispute(renter, now)
    }

    /// Opens a dispute by `disputer` with `bond` held in escrow, over the totals as they stand: the quorum's
    /// window is the latest that `threshold` current oracles had judged through (the resolution's time when none
    /// had).
    pub fn open_dispute(&mut self, disputer: Pubkey, bond: u64, now: i64, oracles: &[Pubkey], threshold: usize) {
        (self.disputer, self.dispute_bond, self.dispute_opened_at) = (disputer, bond, now);
        let mut windows = [0u64; MAX_ORACLES];
        let mut voters = 0;
        for vote in self.voted().iter().filter(|v| contains_key(oracles, &v.oracle) && self.counts_window(v.window_end))
        {
            windows[voters] = u64::try_from(vote.window_end).unwrap_or(0);
            voters += 1;
        }
        let window = i64::try_from(math::quorum_value(&mut windows[..voters], threshold)).unwrap_or(0);
        // Never before the time final seconds already cover (an oracle set changed since may leave fewer votes):
        // a decision as of then could not keep what was final, and may have been paid.
        let final_covers = self.start_ts.saturating_add(i64::try_from(self.final_secs).unwrap_or(i64::MAX));
        let as_of = window.max(self.evidence_since()).max(final_covers).min(now);
        (self.disputed_secs, self.disputed_faults, self.disputed_as_of) = (self.proven_secs, self.faults, as_of);
    }

    /// The votes given so far: slots fill from the first (a slot is only ever taken by [`Lease::claim_vote`], and
    /// [`Lease::resolve`] clears them all at once), so they are a prefix and the rest are empty.
    fn voted(&self) -> &[OracleVote] {
        let given = self.votes.iter().position(|v| same_key(&v.oracle, &Pubkey::default())).unwrap_or(MAX_ORACLES);
        &self.votes[..given]
    }

    /// The slot of `oracle`'s vote: its own, else one held by a key no longer in `oracle_set` or the first empty
    /// one, taken for it (cleared). `None` when every slot holds a vote of a current oracle.
    pub fn claim_vote(&mut self, oracle: &Pubkey, oracle_set: &[Pubkey]) -> Option<usize> {
        let voted = self.voted();
        if let Some(own) = voted.iter().position(|v| same_key(&v.oracle, oracle)) {
            return Some(own);
        }
        let free = voted.iter().position(|v| !contains_key(oracle_set, &v.oracle));
        let slot = free.or((voted.len() < MAX_ORACLES).then_some(voted.len()))?;
        self.votes[slot] = OracleVote { oracle: *oracle, ..OracleVote::default() };
        Some(slot)
    }

    /// The decision of the current oracles' re-judgments of the open dispute, `(seconds, faults)` since
    /// [`Lease::evidence_since`], once the verdicts still missing can no longer change it: for each value, the
    /// largest that `threshold` of all `oracles` would attest to, whatever the others say. With a majority
    /// threshold one oracle can neither decide alone nor drag the decision below what an honest quorum finds;
    /// verdicts that disagree wait for the rest (or for the admin, or the timeout).
    pub fn verdict_quorum(&self, oracles: &[Pubkey], threshold: usize) -> Option<(u64, u64)> {
        let mut secs = [0u64; MAX_ORACLES];
        let mut faults = [0u64; MAX_ORACLES];
        let mut voters = 0;
        let given = |v: &&OracleVote| contains_key(oracles, &v.oracle) && v.verdict_for == self.dispute_opened_at;
        for vote in self.voted().iter().filter(given) {
            (secs[voters], faults[voters]) = (vote.verdict_secs, vote.verdict_faults);
            voters += 1;
        }
        let missing = oracles.len().saturating_sub(voters);
        let decided = |values: &mut [u64]| math::settled_quorum_value(values, threshold, missing);
        Some((decided(&mut secs[..voters])?, decided(&mut faults[..voters])?))
    }

    /// Ends the open dispute (of the cluster's `renter` or of the supplier); returns `(disputer, bond)`.
    pub fn close_dispute(&mut self, renter: &Pubkey, now: i64) -> (Pubkey, u64) {
        let taken = (self.disputer, self.dispute_bond);
        if self.disputer == *renter {
            self.renter_decided_at = now;
        } else {
            self.supplier_decided_at = now;
        }
        (self.disputer, self.dispute_bond, self.dispute_opened_at) = (Pubkey::default(), 0, 0);
        taken
    }

    /// Whether the renter (`by_renter`) or the supplier may open a dispute: not again on what its last decided
    /// dispute already covered.
    pub fn may_dispute(&self, by_renter: bool) -> bool {
        let decided_at = if by_renter { self.renter_decided_at } else { self.supplier_decided_at };
        decided_at == 0 || self.proven_at.max(self.faults_at) > decided_at
    }

    /// An open dispute nobody resolved within `timeout_secs`.
    pub fn dispute_lapsed(&self, now: i64, timeout_secs: i64) -> bool {
        self.is_disputed() && now >= self.dispute_opened_at.saturating_add(timeout_secs)
    }
}
