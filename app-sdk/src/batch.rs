//! Packing many workers or leases into as few transactions as fit Solana's limits: the 1,232-byte packet and a
//! compute budget. Each batch is a complete instruction list (compute-unit limit first) for one transaction.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_message::Message;
use timelock::LeaseReport;

use crate::ix::{self, Booking, RenterPayment};

/// Largest serialized transaction the network accepts.
pub const PACKET_DATA_SIZE: usize = 1_232;
/// Most compute units one transaction may use.
pub const MAX_COMPUTE_UNITS: u32 = 1_400_000;
/// Measured upper bounds per item (see `make bench`), with headroom for PDA bump searches.
pub const BOOKING_CU_PER_WORKER: u32 = 40_000;
pub const ATTEST_CU_PER_LEASE: u32 = 6_000;
const BASE_CU: u32 = 40_000;

/// Serialized size of a transaction of `instructions` paid by `payer` with `signers` signatures.
pub fn transaction_size(instructions: &[Instruction], payer: &Pubkey, signers: usize) -> usize {
    let message = Message::new(instructions, Some(payer));
    // Compact-u16 signature count (one byte below 128) + signatures + message.
    1 + 64 * signers + message.serialize().len()
}

/// Greedily packs items into transactions: each batch holds as many items as fit both limits.
fn pack<T: Copy>(
    items: &[T],
    payer: &Pubkey,
    cu_per_item: u32,
    build: impl Fn(&[T]) -> Instruction,
) -> Vec<Vec<Instruction>> {
    let max_by_cu = ((MAX_COMPUTE_UNITS - BASE_CU) / cu_per_item).max(1) as usize;
    let with_budget = |chunk: &[T]| {
        let units = BASE_CU + cu_per_item * chunk.len() as u32;
        vec![ix::compute_unit_limit(units), build(chunk)]
    };
    let mut batches = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let mut end = start + 1;
        while end < items.len()
            && end - start < max_by_cu
            && transaction_size(&with_budget(&items[start..=end]), payer, 1) <= PACKET_DATA_SIZE
        {
            end += 1;
        }
        batches.push(with_budget(&items[start..end]));
        start = end;
    }
    batches
}

/// `cluster_add_workers` transactions for any number of workers.
pub fn cluster_add_workers(payment: RenterPayment, bookings: &[Booking]) -> Vec<Vec<Instruction>> {
    pack(bookings, &payment.renter, BOOKING_CU_PER_WORKER, |chunk| ix::cluster_add_workers(payment, chunk))
}

/// `lease_attest` transactions for one oracle's reports on any number of leases. Each transaction carries the
/// evidence root of the leases it holds, as `evidence_root_of` computes it for them (in order).
pub fn lease_attest(
    oracle: Pubkey,
    window_end: i64,
    reports: &[(Pubkey, LeaseReport)],
    evidence_root_of: impl Fn(&[(Pubkey, LeaseReport)]) -> [u8; 32],
) -> Vec<Vec<Instruction>> {
    pack(reports, &oracle, ATTEST_CU_PER_LEASE, |chunk| {
        ix::lease_attest(oracle, window_end, evidence_root_of(chunk), chunk)
    })
}
