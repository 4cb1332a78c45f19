//! A renter's instructions: booking, extending, scaling down, ending and closing a cluster.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::system_program;
use timelock::state::{ClusterPurpose, Workload};
use timelock::BookingTerms;
use timelock::{accounts, instruction, ID};

use super::{build, event_authority};
use crate::pda;

/// The payment side of a cluster: its mint, token program and the renter's token account.
#[derive(Clone, Copy, Debug)]
pub struct RenterPayment {
    pub renter: Pubkey,
    pub cluster_id: u64,
    pub payment_mint: Pubkey,
    pub renter_tokens: Pubkey,
    pub token_program: Pubkey,
}

impl RenterPayment {
    pub fn cluster(&self) -> Pubkey {
        pda::cluster(&self.renter, self.cluster_id).0
    }
}

pub fn cluster_create(payment: RenterPayment, hours: u32, purpose: ClusterPurpose) -> Instruction {
    let cluster = payment.cluster();
    build(
        accounts::ClusterCreate {
            renter: payment.renter,
            config: pda::config().0,
            cluster,
            payment_mint: payment.payment_mint,
            escrow: pda::escrow(&cluster).0,
            token_program: payment.token_program,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::ClusterCreate { cluster_id: payment.cluster_id, hours, purpose },
    )
}

fn cluster_fund(payment: RenterPayment) -> accounts::ClusterFund {
    let cluster = payment.cluster();
    accounts::ClusterFund {
        renter: payment.renter,
        config: pda::config().0,
        cluster,
        escrow: pda::escrow(&cluster).0,
        payment_mint: payment.payment_mint,
        renter_tokens: payment.renter_tokens,
        token_program: payment.token_program,
        system_program: system_program::ID,
        event_authority: event_authority(),
        program: ID,
    }
}

/// A worker to book, named by its account and its supplier's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerRef {
    pub worker: Pubkey,
    pub supplier: Pubkey,
}

/// A worker to book and what the renter agrees to pay for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Booking {
    pub worker: WorkerRef,
    pub terms: BookingTerms,
}

/// Books `bookings` into the cluster: one `(worker, supplier, lease)` triple of remaining accounts each, and the
/// terms the program holds each worker to.
pub fn cluster_add_workers(payment: RenterPayment, bookings: &[Booking]) -> Instruction {
    let cluster = payment.cluster();
    let terms = bookings.iter().map(|b| b.terms).collect();
    let mut ix = build(cluster_fund(payment), instruction::ClusterAddWorkers { terms });
    for WorkerRef { worker, supplier } in bookings.iter().map(|b| b.worker) {
        ix.accounts.push(AccountMeta::new(worker, false));
        ix.accounts.push(AccountMeta::new(supplier, false));
        ix.accounts.push(AccountMeta::new(pda::lease(&cluster, &worker).0, false));
    }
    ix
}

pub fn cluster_extend(payment: RenterPayment, hours: u32) -> Instruction {
    build(cluster_fund(payment), instruction::ClusterExtend { hours })
}

pub fn cluster_remove_worker(renter: Pubkey, cluster_id: u64, worker: Pubkey) -> Instruction {
    let cluster = pda::cluster(&renter, cluster_id).0;
    build(
        accounts::ClusterRemoveWorker {
            renter,
            cluster,
            lease: pda::lease(&cluster, &worker).0,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::ClusterRemoveWorker {},
    )
}

pub fn cluster_end(renter: Pubkey, cluster_id: u64) -> Instruction {
    build(
        accounts::ClusterEnd {
            renter,
            cluster: pda::cluster(&renter, cluster_id).0,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::ClusterEnd {},
    )
}

/// Closes the cluster, its escrow and its workload (when declared).
pub fn cluster_close(payment: RenterPayment) -> Instruction {
    let cluster = payment.cluster();
    let mut ix = build(
        accounts::ClusterClose {
            renter: payment.renter,
            cluster,
            escrow: pda::escrow(&cluster).0,
            payment_mint: payment.payment_mint,
            renter_tokens: payment.renter_tokens,
            token_program: payment.token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::ClusterClose {},
    );
    ix.accounts.push(AccountMeta::new(pda::workload(&cluster).0, false));
    ix
}

/// Declares what may run on the cluster's GPUs: container image references (digests such as `sha256:…` or
/// names), hashed and sorted here.
pub fn cluster_set_workload(renter: Pubkey, cluster_id: u64, images: &[&str]) -> Instruction {
    let cluster = pda::cluster(&renter, cluster_id).0;
    let mut hashes: Vec<[u8; 32]> = images.iter().map(|image| Workload::image_hash(image)).collect();
    hashes.sort_unstable();
    hashes.dedup();
    build(
        accounts::ClusterSetWorkload {
            renter,
            cluster,
            workload: pda::workload(&cluster).0,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::ClusterSetWorkload { images: hashes },
    )
}
