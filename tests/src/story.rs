//! A rental as a story: one renter, one supplier's 8 × H100 workers booked in cluster 1, and the steps the
//! program's tests tell with them.

use timelock::events::LeaseSettled;
use timelock_sdk::{ix, pda};

use crate::{Renter, SupplierActor, TestFixture, ONE_STAKE, ONE_USDC};

pub const HOUR: i64 = 3_600;
/// 8 × H100 at 2 USDC per GPU-hour.
pub const RATE: u64 = 16 * ONE_USDC;
/// What a lease of `RATE` locks with the SDK's defaults: four hours of its value, at one stake token per USDC.
pub const COLLATERAL: u64 = 64 * ONE_STAKE;
/// What one fault slashes with the SDK's defaults: two hours of the lease's value.
pub const SLASH_PER_FAULT: u64 = 32 * ONE_STAKE;
pub const DISPUTE_WINDOW: i64 = 600;
pub const EPOCH: i64 = 300;

pub struct Story {
    pub f: TestFixture,
    pub renter: Renter,
    pub supplier: SupplierActor,
    pub workers: Vec<ix::WorkerRef>,
    pub cluster_id: u64,
}

impl Story {
    /// A renter books `workers` 8 × H100 workers for `hours`.
    pub fn booked(workers: u32, hours: u32) -> Story {
        let mut f = TestFixture::new();
        let (supplier, workers) = f.supplier_with_workers(workers);
        let renter = f.renter(1_000_000 * ONE_USDC);
        f.create_cluster(&renter, 1, hours).expect("cluster_create");
        f.add_workers(&renter, 1, &workers).expect("cluster_add_workers");
        Story { f, renter, supplier, workers, cluster_id: 1 }
    }

    pub fn lease_address(&self, i: usize) -> anchor_lang::prelude::Pubkey {
        self.f.lease_address(&self.renter, self.cluster_id, &self.workers[i])
    }

    pub fn lease(&self, i: usize) -> timelock::state::Lease {
        self.f.lease(&self.renter, self.cluster_id, &self.workers[i])
    }

    pub fn settle(&mut self, i: usize) -> LeaseSettled {
        let worker = self.workers[i];
        self.f.settle(&self.renter, self.cluster_id, &worker).expect("settle").event()
    }

    /// Settles lease `i` until it closes, a dispute window apart, three times at most: whether it closed.
    pub fn settle_until_closed(&mut self, i: usize) -> bool {
        for _ in 0..3 {
            if self.settle(i).closed {
                return true;
            }
            self.f.warp(DISPUTE_WINDOW);
        }
        false
    }

    pub fn escrow(&self) -> u64 {
        self.f.token_balance(&pda::escrow(&self.f.cluster_address(&self.renter, self.cluster_id)).0)
    }

    pub fn earnings(&self) -> u64 {
        self.f.token_balance(&pda::earnings_vault(&self.supplier.supplier()).0)
    }

    /// An hour passes and the oracles' quorum attests `proven` seconds and `faults` for every lease; returns the
    /// attested window's end.
    pub fn an_hour_attested(&mut self, proven: u32, faults: u16) -> i64 {
        self.f.warp(HOUR);
        let window = self.f.now();
        self.attest_all(window, proven, faults);
        window
    }

    /// All reports from oracles 0 and 1 (threshold 2 of 3).
    pub fn attest_all(&mut self, window_end: i64, proven: u32, faults: u16) {
        let reports: Vec<_> = (0..self.workers.len()).map(|i| (self.lease_address(i), proven, faults)).collect();
        self.f.attest_quorum(2, window_end, &reports);
    }
}
