use anchor_lang::prelude::*;

use crate::errors::TimelockError;
use crate::events::{self, AttestedLease, LeasesAttested};
use crate::pda;
use crate::state::{Config, Lease};
use crate::utils::keys::contains_key;

/// One oracle's cumulative verdict on one lease up to the attestation window's end.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseReport {
    /// Proven seconds and faults since the lease's start, or since its last dispute resolution's `as_of`.
    pub proven_secs: u32,
    /// Faults over the same span as `proven_secs`.
    pub faults: u16,
    /// The lease's `resolutions` when the oracle judged it: a report counted from before a resolution that
    /// landed since is refused rather than added to the decision.
    pub resolution: u8,
}

#[event_cpi]
#[derive(Accounts)]
pub struct LeaseAttest<'info> {
    /// One of the config's oracles.
    pub oracle: Signer<'info>,
    /// The config (PDA `["config"]`): the oracle set, threshold and dispute window.
    #[account(address = pda::CONFIG.0)]
    pub config: Box<Account<'info, Config>>,
}

impl<'info> LeaseAttest<'info> {
    /// Records one oracle's reports for the leases in the remaining accounts (same order as `reports`). Each lease
    /// keeps every oracle's latest vote; its proven seconds and faults become the last dispute resolution's totals plus
    /// the largest values that `oracle_threshold` current oracles attest to since it, and never decrease. A report for
    /// a window that ended before the lease began (or before its last resolution) changes nothing. A report for a
    /// window this oracle already attested (stale or replayed) changes nothing, and a lease that was settled and closed
    /// since the oracle read it is skipped, so one lease never fails the batch for the others.
    pub fn handler(
        ctx: Context<'info, Self>,
        window_end: i64,
        evidence_root: [u8; 32],
        reports: Vec<LeaseReport>,
    ) -> Result<()> {
        crate::cu_checkpoint!("attest: accounts loaded");
        let params = &ctx.accounts.config.params;
        let oracle = ctx.accounts.oracle.key();
        require!(contains_key(&params.oracles, &oracle), TimelockError::NotOracle);
        let now = Clock::get()?.unix_timestamp;
        require!(window_end <= now, TimelockError::WindowInFuture);
        require!(reports.len() == ctx.remaining_accounts.len(), TimelockError::ReportCountMismatch);
        let threshold = usize::from(params.oracle_threshold);
        let dispute_window = params.dispute_window_secs;

        let mut attested = Vec::with_capacity(reports.len());
        for (info, report) in ctx.remaining_accounts.iter().zip(reports) {
            if is_closed(info) {
                continue;
            }
            require!(info.is_writable, anchor_lang::error::ErrorCode::AccountNotMutable);
            let loader = AccountLoader::<Lease>::try_from(info)?;
            let mut lease = loader.load_mut()?;
            crate::cu_checkpoint!("attest: lease loaded");
            let slot = lease.claim_vote(&oracle, &params.oracles).ok_or(TimelockError::InvalidOracleSet)?;
            let accepted = window_end > lease.votes[slot].window_end
                && lease.counts_window(window_end)
                && report.resolution == lease.resolutions;
            if accepted {
                // A report covers the time since the lease's start or its last resolution: no oracle may claim
                // more seconds than that window has had.
                let elapsed = u64::try_from(window_end.saturating_sub(lease.evidence_since())).unwrap_or(0);
                let vote = &mut lease.votes[slot];
                vote.window_end = window_end;
                vote.evidence_root = evidence_root;
                vote.proven_secs = vote.proven_secs.max(u64::from(report.proven_secs).min(elapsed));
                vote.faults = vote.faults.max(u64::from(report.faults));
                crate::cu_checkpoint!("attest: vote recorded");
                lease.record_quorum(&params.oracles, threshold, now);
                crate::cu_checkpoint!("attest: quorum");
                lease.advance_finality(now, dispute_window);
            }
            attested.push(AttestedLease {
                lease: info.key(),
                accepted,
                proven_secs: lease.proven_secs,
                faults: lease.faults,
                final_secs: lease.final_secs,
            });
        }
        crate::cu_checkpoint!("attest: leases done");
        let event = LeasesAttested { oracle, window_end, evidence_root, leases: attested, timestamp: now };
        events::emit(&ctx.accounts.event_authority, &event)?;
        crate::cu_checkpoint!("attest: event emitted");
        Ok(())
    }
}

/// What `close` leaves of an account: no data, owned by the System program.
fn is_closed(info: &AccountInfo) -> bool {
    info.data_is_empty() && info.owner == &anchor_lang::system_program::ID
}
