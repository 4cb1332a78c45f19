//! Renters and their clusters: [`Renter`], cluster and lease addresses, booking and extending.

use anchor_lang::prelude::Pubkey;
use timelock_sdk::{ix, pda, TOKEN_PROGRAM_ID};

use crate::{Keypair, SendResult, Signer, TestFixture};

/// A renter with payment tokens, and a stake-mint account that receives slash compensation.
pub struct Renter {
    pub authority: Keypair,
    pub payment_tokens: Pubkey,
    pub stake_tokens: Pubkey,
}

impl Renter {
    pub fn key(&self) -> Pubkey {
        self.authority.pubkey()
    }
}

impl TestFixture {
    pub fn renter(&mut self, usdc: u64) -> Renter {
        let authority = self.actor();
        let payment_tokens = self.token_account(self.payment_mint, &authority.pubkey());
        self.mint_to(self.payment_mint, payment_tokens, usdc);
        let stake_tokens = self.token_account(self.stake_mint, &authority.pubkey());
        Renter { authority, payment_tokens, stake_tokens }
    }

    pub fn payment(&self, renter: &Renter, cluster_id: u64) -> ix::RenterPayment {
        ix::RenterPayment {
            renter: renter.key(),
            cluster_id,
            payment_mint: self.payment_mint,
            renter_tokens: renter.payment_tokens,
            token_program: TOKEN_PROGRAM_ID,
        }
    }

    pub fn cluster_address(&self, renter: &Renter, cluster_id: u64) -> Pubkey {
        pda::cluster(&renter.key(), cluster_id).0
    }

    pub fn cluster(&self, renter: &Renter, cluster_id: u64) -> timelock::state::Cluster {
        self.account(&self.cluster_address(renter, cluster_id))
    }

    pub fn lease_address(&self, renter: &Renter, cluster_id: u64, worker: &ix::WorkerRef) -> Pubkey {
        pda::lease(&self.cluster_address(renter, cluster_id), &worker.worker).0
    }

    pub fn lease(&self, renter: &Renter, cluster_id: u64, worker: &ix::WorkerRef) -> timelock::state::Lease {
        self.account(&self.lease_address(renter, cluster_id, worker))
    }

    pub fn create_cluster(&mut self, renter: &Renter, cluster_id: u64, hours: u32) -> SendResult {
        let ix = ix::cluster_create(self.payment(renter, cluster_id), hours, timelock::state::ClusterPurpose::Ray);
        self.send(&[ix], &[&renter.authority])
    }

    /// The renter declares what may run on the cluster's GPUs (container image references).
    pub fn set_workload(&mut self, renter: &Renter, cluster_id: u64, images: &[&str]) -> SendResult {
        let ix = ix::cluster_set_workload(renter.key(), cluster_id, images);
        self.send(&[ix], &[&renter.authority])
    }

    /// Books `workers` on the terms they are listed with now (what a renter reads before it books).
    pub fn add_workers(&mut self, renter: &Renter, cluster_id: u64, workers: &[ix::WorkerRef]) -> SendResult {
        let bookings: Vec<_> = workers.iter().map(|w| self.as_listed(w)).collect();
        self.book(renter, cluster_id, &bookings)
    }

    pub fn book(&mut self, renter: &Renter, cluster_id: u64, bookings: &[ix::Booking]) -> SendResult {
        let ix = ix::cluster_add_workers(self.payment(renter, cluster_id), bookings);
        self.send(&[ix::compute_unit_limit(1_400_000), ix], &[&renter.authority])
    }

    /// A booking of `worker` on the terms it is listed with now.
    pub fn as_listed(&self, worker: &ix::WorkerRef) -> ix::Booking {
        let listed: timelock::state::Worker = self.account(&worker.worker);
        ix::Booking { worker: *worker, terms: timelock::BookingTerms::as_listed(&listed.spec) }
    }

    pub fn extend(&mut self, renter: &Renter, cluster_id: u64, hours: u32) -> SendResult {
        let ix = ix::cluster_extend(self.payment(renter, cluster_id), hours);
        self.send(&[ix], &[&renter.authority])
    }
}
