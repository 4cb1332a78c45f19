//! The oracles' side: attesting leases, alone or as a quorum.

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use timelock_sdk::ix;

use crate::{SendResult, Signer, TestFixture};

impl TestFixture {
    /// Oracle `oracle` reports `(lease, proven_secs, faults)` up to `window_end`.
    pub fn attest(&mut self, oracle: usize, window_end: i64, reports: &[(Pubkey, u32, u16)]) -> SendResult {
        let signer = self.oracles[oracle].insecure_clone();
        let leases: Vec<_> = reports
            .iter()
            .map(|(lease, proven_secs, faults)| {
                let resolution = self.resolutions_of(lease);
                (*lease, timelock::LeaseReport { proven_secs: *proven_secs, faults: *faults, resolution })
            })
            .collect();
        let ix = ix::lease_attest(signer.pubkey(), window_end, [0; 32], &leases);
        self.send(&[ix::compute_unit_limit(1_400_000), ix], &[&signer])
    }

    /// The lease's dispute resolutions so far, as an oracle names them in its reports (0 for an account that is
    /// not a lease: the tests that pass one want the program's refusal, not the fixture's).
    pub fn resolutions_of(&self, lease: &Pubkey) -> u8 {
        let data = self.svm.get_account(lease).map(|a| a.data).unwrap_or_default();
        timelock::state::Lease::try_deserialize(&mut data.as_slice()).map_or(0, |l| l.resolutions)
    }

    /// The first `quorum` oracles all report the same values.
    pub fn attest_quorum(&mut self, quorum: usize, window_end: i64, reports: &[(Pubkey, u32, u16)]) {
        for oracle in 0..quorum {
            self.attest(oracle, window_end, reports).expect("attest");
        }
    }

    /// Oracle `oracle`'s re-judgment of the open dispute on `renter`'s lease of `worker` in cluster `cluster_id`.
    pub fn dispute_verdict(
        &mut self,
        oracle: usize,
        renter: &crate::Renter,
        cluster_id: u64,
        worker: &ix::WorkerRef,
        (proven_secs, faults): (u64, u64),
    ) -> SendResult {
        let signer = self.oracles[oracle].insecure_clone();
        let payment = self.payment(renter, cluster_id);
        let lease: timelock::state::Lease =
            self.account(&timelock_sdk::pda::lease(&payment.cluster(), &worker.worker).0);
        let treasury = self.config().params.treasury;
        let ixs = ix::lease_dispute_verdict(
            signer.pubkey(),
            payment,
            worker.worker,
            lease.disputer,
            treasury,
            lease.dispute_opened_at,
            proven_secs,
            faults,
            [7; 32],
        );
        self.send(&ixs, &[&signer])
    }
}
