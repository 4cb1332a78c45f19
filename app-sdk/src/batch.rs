//! Packing many workers or leases into as few transactions as fit Solana's limits: the 1,232-byte packet, a
//! compute budget and, where lookup tables shrink each account to a one-byte index, the account-lock limit. Each
//! batch is a complete instruction list for one transaction.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_hash::Hash;
use solana_message::{v0, AddressLookupTableAccount, Message, VersionedMessage};
use timelock::constants::MAX_GPUS_PER_BIND;
use timelock::state::WorkerSpec;
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
/// Most accounts one transaction may lock on mainnet (static keys and those loaded from tables together; the 128
/// of a feature not yet active there is not counted on).
pub const MAX_ACCOUNT_LOCKS: usize = 64;
/// What a transaction's instruction may use without a compute-unit-limit instruction.
pub const DEFAULT_COMPUTE_UNITS: u32 = 200_000;
/// Bounds of an attestation sent through lookup tables, from `make bench` (`attest_per_lease` 1,302 CU; about
/// 6,000 for the instruction itself) with room to spare: 60 leases need 173,000 of the default 200,000.
const TABLE_ATTEST_BASE_CU: u32 = 20_000;
const TABLE_ATTEST_CU_PER_LEASE: u32 = 2_550;

/// Serialized size of a transaction of `instructions` paid by `payer` with `signers` signatures.
pub fn transaction_size(instructions: &[Instruction], payer: &Pubkey, signers: usize) -> usize {
    let message = Message::new(instructions, Some(payer));
    // Compact-u16 signature count (one byte below 128) + signatures + message.
    1 + 64 * signers + message.serialize().len()
}

/// Serialized size and locked accounts of a v0 transaction of `instructions` paid by `payer` with `signers`
/// signatures, resolving what it can through `tables`; `None` if it does not compile.
pub fn versioned_transaction_size(
    instructions: &[Instruction],
    payer: &Pubkey,
    signers: usize,
    tables: &[AddressLookupTableAccount],
) -> Option<(usize, usize)> {
    let message = v0::Message::try_compile(payer, instructions, tables, Hash::default()).ok()?;
    let loaded: usize =
        message.address_table_lookups.iter().map(|l| l.writable_indexes.len() + l.readonly_indexes.len()).sum();
    let accounts = message.account_keys.len() + loaded;
    Some((1 + 64 * signers + VersionedMessage::V0(message).serialize().len(), accounts))
}

/// Greedily packs items into transactions: each batch holds as many items as `fits`.
fn pack<T: Copy>(
    items: &[T],
    batch: impl Fn(&[T]) -> Vec<Instruction>,
    fits: impl Fn(&[Instruction], usize) -> bool,
) -> Vec<Vec<Instruction>> {
    let mut batches = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let mut end = start + 1;
        while end < items.len() && fits(&batch(&items[start..=end]), end + 1 - start) {
            end += 1;
        }
        batches.push(batch(&items[start..end]));
        start = end;
    }
    batches
}

/// Packs legacy transactions: a compute-unit limit for the items first, within the packet and the most units a
/// transaction may use.
fn pack_legacy<T: Copy>(
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
    pack(items, with_budget, |batch, count| count <= max_by_cu && transaction_size(batch, payer, 1) <= PACKET_DATA_SIZE)
}

/// `cluster_add_workers` transactions for any number of workers.
pub fn cluster_add_workers(payment: RenterPayment, bookings: &[Booking]) -> Vec<Vec<Instruction>> {
    pack_legacy(bookings, &payment.renter, BOOKING_CU_PER_WORKER, |chunk| ix::cluster_add_workers(payment, chunk))
}

/// `worker_register` and the `worker_bind_gpus` that bind all of `gpus` (UUID hashes, any order), in as few
/// transactions as fit the packet: one for a host of eight GPUs, two for sixteen (`MAX_GPUS_PER_BIND` a bind). Send them in order; the worker
/// is bookable once the last has landed.
pub fn worker_register(
    authority: Pubkey,
    worker_index: u32,
    spec: WorkerSpec,
    gpus: &[[u8; 32]],
) -> Vec<Vec<Instruction>> {
    let register = ix::worker_register(authority, worker_index, spec);
    pack_in_order([register].into_iter().chain(bind_gpus(authority, worker_index, gpus)), &authority)
}

/// The `worker_bind_gpus` transactions that bind `gpus` (any order, each above the worker's GPUs bound already):
/// what completes a registration whose last transactions did not land.
pub fn worker_bind_gpus(authority: Pubkey, worker_index: u32, gpus: &[[u8; 32]]) -> Vec<Vec<Instruction>> {
    pack_in_order(bind_gpus(authority, worker_index, gpus), &authority)
}

fn bind_gpus(authority: Pubkey, worker_index: u32, gpus: &[[u8; 32]]) -> Vec<Instruction> {
    let mut sorted = gpus.to_vec();
    sorted.sort_unstable();
    sorted
        .chunks(usize::from(MAX_GPUS_PER_BIND))
        .map(|chunk| ix::worker_bind_gpus(authority, worker_index, chunk))
        .collect()
}

/// Instructions that must run in order, as few transactions as hold them within the packet.
fn pack_in_order(instructions: impl IntoIterator<Item = Instruction>, payer: &Pubkey) -> Vec<Vec<Instruction>> {
    let mut batches: Vec<Vec<Instruction>> = Vec::new();
    for instruction in instructions {
        if let Some(batch) = batches.last_mut() {
            batch.push(instruction);
            if transaction_size(batch, payer, 1) <= PACKET_DATA_SIZE {
                continue;
            }
            let instruction = batch.pop().expect("just pushed");
            batches.push(vec![instruction]);
        } else {
            batches.push(vec![instruction]);
        }
    }
    batches
}

/// `lease_attest` transactions for one oracle's reports on any number of leases. Each transaction carries the
/// evidence root of the leases it holds, as `evidence_root_of` computes it for them (in order).
///
/// With lookup tables (the oracle's, holding the leases), each lease costs one index byte instead of 32 and the
/// account-lock limit bounds a transaction (60 leases beside the oracle, config, event authority and program):
/// such batches carry no compute-budget instruction, whose program would be one account more, and fit the
/// default limit — unless the sender pays a `priority_fee`, which needs one (59 leases). Without tables, the
/// packet bounds it (22 leases).
pub fn lease_attest(
    oracle: Pubkey,
    window_end: i64,
    reports: &[(Pubkey, LeaseReport)],
    tables: &[AddressLookupTableAccount],
    priority_fee: bool,
    evidence_root_of: impl Fn(&[(Pubkey, LeaseReport)]) -> [u8; 32],
) -> Vec<Vec<Instruction>> {
    let build = |chunk: &[(Pubkey, LeaseReport)]| ix::lease_attest(oracle, window_end, evidence_root_of(chunk), chunk);
    if tables.is_empty() {
        return pack_legacy(reports, &oracle, ATTEST_CU_PER_LEASE, build);
    }
    let max_by_cu = ((DEFAULT_COMPUTE_UNITS - TABLE_ATTEST_BASE_CU) / TABLE_ATTEST_CU_PER_LEASE) as usize;
    let batch = |chunk: &[(Pubkey, LeaseReport)]| {
        let attest = build(chunk);
        if priority_fee {
            let units = TABLE_ATTEST_BASE_CU + TABLE_ATTEST_CU_PER_LEASE * chunk.len() as u32;
            vec![ix::compute_unit_limit(units), attest]
        } else {
            vec![attest]
        }
    };
    pack(reports, batch, |batch, count| {
        count <= max_by_cu
            && versioned_transaction_size(batch, &oracle, 1, tables)
                .is_some_and(|(size, accounts)| size <= PACKET_DATA_SIZE && accounts <= MAX_ACCOUNT_LOCKS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn through_a_lookup_table_an_attestation_fills_the_account_locks() {
        let oracle = Pubkey::new_unique();
        let leases: Vec<Pubkey> = (0..130).map(|_| Pubkey::new_unique()).collect();
        let report = LeaseReport { proven_secs: 1_800, faults: 0, resolution: 0 };
        let reports: Vec<_> = leases.iter().map(|l| (*l, report)).collect();
        let table = AddressLookupTableAccount { key: Pubkey::new_unique(), addresses: leases.clone() };
        let sizes = |batches: &[Vec<Instruction>]| -> Vec<usize> {
            batches.iter().map(|b| b.last().unwrap().accounts.len() - 4).collect()
        };

        assert_eq!(sizes(&lease_attest(oracle, 9, &reports, &[], false, |_| [0; 32]))[0], 22, "the packet");
        let tables = std::slice::from_ref(&table);
        let batches = lease_attest(oracle, 9, &reports, tables, false, |_| [0; 32]);
        assert_eq!(sizes(&batches), vec![60, 60, 10]);
        for batch in &batches {
            let (size, accounts) = versioned_transaction_size(batch, &oracle, 1, tables).unwrap();
            assert!(size <= PACKET_DATA_SIZE && accounts <= MAX_ACCOUNT_LOCKS, "{size} bytes, {accounts} accounts");
        }
        // A priority fee needs the compute-budget program: one account, one lease fewer.
        assert_eq!(sizes(&lease_attest(oracle, 9, &reports, tables, true, |_| [0; 32])), vec![59, 59, 12]);
        // Leases outside the table still fit, by the packet.
        let outside: Vec<_> = (0..30).map(|_| (Pubkey::new_unique(), report)).collect();
        let mixed = lease_attest(oracle, 9, &[&reports[..40], &outside[..]].concat(), tables, false, |_| [0; 32]);
        for batch in &mixed {
            let (size, accounts) = versioned_transaction_size(batch, &oracle, 1, tables).unwrap();
            assert!(size <= PACKET_DATA_SIZE && accounts <= MAX_ACCOUNT_LOCKS);
        }
        assert_eq!(sizes(&mixed).iter().sum::<usize>(), 70);
    }

    #[test]
    fn a_host_of_eight_gpus_registers_in_one_transaction_and_one_of_sixteen_in_two() {
        let authority = Pubkey::new_unique();
        let spec = WorkerSpec {
            gpu_model: 1,
            gpu_count: 16,
            vram_gib: 80,
            cpu_cores: 64,
            ram_gib: 512,
            region: *b"US-EAST\0",
            connectivity_tier: 4,
            compliance: 0,
            green_energy: false,
            price_per_gpu_hour: 2_000_000,
            device_key: Pubkey::new_unique(),
            max_lease_hours: 720,
        };
        let gpus: Vec<[u8; 32]> = (0..16u8).rev().map(|i| [i; 32]).collect();
        let shape = |batches: &[Vec<Instruction>]| batches.iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(shape(&worker_register(authority, 1, spec.clone(), &gpus[..8])), vec![3]);
        let sixteen = worker_register(authority, 1, spec, &gpus);
        assert_eq!(shape(&sixteen), vec![3, 2]);
        for batch in &sixteen {
            assert!(transaction_size(batch, &authority, 1) <= PACKET_DATA_SIZE);
        }
        // Bound in ascending order across the transactions, as the program requires.
        let bound: Vec<[u8; 32]> = sixteen
            .iter()
            .flatten()
            .skip(1)
            .flat_map(|ix| ix.accounts[6..].iter())
            .map(|a| a.pubkey.to_bytes())
            .collect();
        let expected: Vec<[u8; 32]> = (0..16u8).map(|i| crate::pda::gpu(&[i; 32]).0.to_bytes()).collect();
        assert_eq!(bound, expected);
    }
}
