//! Worker registry: registration bonded by free stake, validated specs, updates, availability, deregistration.

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use timelock::events::{WorkerAvailabilityChanged, WorkerDeregistered, WorkerRegistered, WorkerUpdated};
use timelock::state::{Gpu, WorkerSpec};
use timelock_sdk::{catalog, ix, pda};
use timelock_tests::*;

/// 8 × H100 at 200 per GPU × 5.0.
const H100_BOND: u64 = 8_000 * ONE_STAKE;

#[test]
fn registration_bonds_stake_and_records_the_spec() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(H100_BOND);
    let spec = f.h100_spec();
    let index = f.next_worker_index();
    let register = f.register_worker_ix(&supplier, index, spec.clone());
    let landed = f.send(&[register], &[&supplier.authority]).unwrap();

    let event: WorkerRegistered = landed.event();
    assert_eq!((event.spec.clone(), event.bonded_stake, event.worker_index), (spec.clone(), H100_BOND, index));
    let worker = f.worker_of(&supplier, index);
    assert_eq!(worker.spec, spec);
    assert_eq!(worker.supplier, supplier.supplier());
    assert!(worker.available);
    assert_eq!(worker.active_lease, Pubkey::default());
    assert_eq!(worker.registered_at, GENESIS_TIME);
    let account = f.supplier_account(&supplier);
    assert_eq!((account.reserved, account.worker_count, account.gpu_count), (H100_BOND, 1, 8));
}

#[test]
fn registration_needs_enough_free_stake_per_gpu_class() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(H100_BOND - 1);
    let spec = f.h100_spec();
    assert_error(
        f.register_worker(&supplier, spec.clone()).map(|_| landed_stub()),
        TimelockError::InsufficientFreeStake,
    );

    // The same stake bonds an RTX 4090 box: 200 × 1.0 × 8 = 1,600.
    let rtx = WorkerSpec { gpu_model: catalog::gpu_model_code("RTX-4090").unwrap(), vram_gib: 24, ..spec };
    let index = f.register_worker(&supplier, rtx).expect("register 4090");
    assert_eq!(f.worker_of(&supplier, index).bonded_stake, 1_600 * ONE_STAKE);
}

/// `assert_error` takes a send result; registration returns the index instead of the landed transaction.
fn landed_stub() -> Landed {
    Landed { compute_units: 0, logs: vec![], inner_instruction_data: vec![] }
}

#[test]
fn invalid_specs_are_refused_with_their_reason() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(1_000_000 * ONE_STAKE);
    let base = f.h100_spec();
    let cases: Vec<(WorkerSpec, TimelockError)> = vec![
        (WorkerSpec { gpu_count: 0, ..base.clone() }, TimelockError::InvalidGpuCount),
        (WorkerSpec { gpu_count: 17, ..base.clone() }, TimelockError::InvalidGpuCount),
        (WorkerSpec { gpu_model: 0, ..base.clone() }, TimelockError::UnknownGpuModel),
        (WorkerSpec { gpu_model: 31, ..base.clone() }, TimelockError::UnknownGpuModel),
        (WorkerSpec { gpu_model: 500, ..base.clone() }, TimelockError::UnknownGpuModel),
        (WorkerSpec { vram_gib: 0, ..base.clone() }, TimelockError::InvalidSpecs),
        (WorkerSpec { cpu_cores: 0, ..base.clone() }, TimelockError::InvalidSpecs),
        (WorkerSpec { ram_gib: 0, ..base.clone() }, TimelockError::InvalidSpecs),
        (WorkerSpec { device_key: Pubkey::default(), ..base.clone() }, TimelockError::InvalidSpecs),
        (WorkerSpec { region: *b"us-east\0", ..base.clone() }, TimelockError::InvalidRegion),
        (WorkerSpec { region: [0; 8], ..base.clone() }, TimelockError::InvalidRegion),
        (WorkerSpec { region: *b"US\0EAST\0", ..base.clone() }, TimelockError::InvalidRegion),
        (WorkerSpec { connectivity_tier: 0, ..base.clone() }, TimelockError::InvalidConnectivityTier),
        (WorkerSpec { connectivity_tier: 5, ..base.clone() }, TimelockError::InvalidConnectivityTier),
        (WorkerSpec { compliance: 0b1000, ..base.clone() }, TimelockError::InvalidComplianceFlags),
        (WorkerSpec { price_per_gpu_hour: 0, ..base.clone() }, TimelockError::InvalidPrice),
    ];
    for (spec, expected) in cases {
        let index = f.next_worker_index();
        let register = f.register_worker_ix(&supplier, index, spec);
        let result = f.send(&[register], &[&supplier.authority]);
        assert_error(result, expected);
    }
    assert_eq!(f.supplier_account(&supplier).worker_count, 0);
}

#[test]
fn a_worker_index_cannot_be_registered_twice() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(2 * H100_BOND);
    let spec = f.h100_spec();
    let index = f.register_worker(&supplier, spec.clone()).unwrap();
    let again = f.register_worker_ix(&supplier, index, spec);
    assert_already_in_use(f.send(&[again], &[&supplier.authority]));
    assert_eq!(f.supplier_account(&supplier).reserved, H100_BOND);
}

#[test]
fn stake_arithmetic_overflow_is_an_error_not_a_wrap() {
    let mut f = TestFixture::new();
    let admin = f.admin.insecure_clone();
    let mut params = f.config().params;
    params.min_stake_per_gpu = u64::MAX / 2;
    f.exec(ix::config_update(admin.pubkey(), params), &[&admin]);
    let supplier = f.staked_supplier(ONE_STAKE);
    let spec = f.h100_spec();
    assert_error(f.register_worker(&supplier, spec).map(|_| landed_stub()), TimelockError::Overflow);
}

#[test]
fn paused_program_refuses_registrations() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(H100_BOND);
    let admin = f.admin.insecure_clone();
    f.exec(ix::pause(admin.pubkey()), &[&admin]);
    let spec = f.h100_spec();
    assert_error(f.register_worker(&supplier, spec.clone()).map(|_| landed_stub()), TimelockError::Paused);
    f.exec(ix::unpause(admin.pubkey()), &[&admin]);
    f.register_worker(&supplier, spec).expect("registers once unpaused");
}

#[test]
fn update_rebonds_for_new_hardware_and_keeps_the_old_spec_on_failure() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(H100_BOND + 1_000 * ONE_STAKE);
    let spec = f.h100_spec();
    let index = f.register_worker(&supplier, spec.clone()).unwrap();

    let cheaper =
        WorkerSpec { price_per_gpu_hour: 1_500_000, region: catalog::region_code("EU-WEST").unwrap(), ..spec.clone() };
    let landed = f.update_worker(&supplier, index, cheaper.clone()).unwrap();
    assert_eq!(landed.event::<WorkerUpdated>().spec, cheaper);
    assert_eq!(f.worker_of(&supplier, index).spec, cheaper);

    // The GPU count is the registered GPUs': changing it means registering the host again.
    let smaller = WorkerSpec { gpu_count: 4, ..cheaper.clone() };
    assert_error(f.update_worker(&supplier, index, smaller), TimelockError::GpuCountChange);
    assert_eq!(f.worker_of(&supplier, index).spec.gpu_count, 8);
    // A dearer class rebonds: an H200 needs more stake than the supplier has free.
    let dearer = WorkerSpec { gpu_model: catalog::gpu_model_code("H200").unwrap(), ..cheaper };
    assert_error(f.update_worker(&supplier, index, dearer), TimelockError::InsufficientFreeStake);
    assert_eq!(f.supplier_account(&supplier).reserved, H100_BOND);

    let invalid = WorkerSpec { connectivity_tier: 9, ..spec };
    assert_error(f.update_worker(&supplier, index, invalid), TimelockError::InvalidConnectivityTier);
}

#[test]
fn availability_toggles() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(H100_BOND);
    let spec = f.h100_spec();
    let index = f.register_worker(&supplier, spec).unwrap();
    let landed = f.send(&[ix::worker_set_available(supplier.key(), index, false)], &[&supplier.authority]).unwrap();
    assert!(!landed.event::<WorkerAvailabilityChanged>().available);
    assert!(!f.worker_of(&supplier, index).available);
    f.exec(ix::worker_set_available(supplier.key(), index, true), &[&supplier.authority]);
    assert!(f.worker_of(&supplier, index).available);
}

#[test]
fn deregistration_releases_the_bond_and_returns_rent() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(H100_BOND);
    let spec = f.h100_spec();
    let index = f.register_worker(&supplier, spec).unwrap();
    let worker = pda::worker(&supplier.supplier(), index).0;
    let device = pda::device(&f.worker_of(&supplier, index).spec.device_key).0;
    let gpus: Vec<Pubkey> = gpu_hashes(&worker, 8).iter().map(|h| pda::gpu(h).0).collect();
    let rent = f.svm.get_balance(&worker).unwrap()
        + f.svm.get_balance(&device).unwrap()
        + gpus.iter().map(|g| f.svm.get_balance(g).unwrap()).sum::<u64>();
    let before = f.svm.get_balance(&supplier.key()).unwrap();

    let landed = f.deregister_worker(&supplier, index).unwrap();
    assert_eq!(landed.event::<WorkerDeregistered>().released_stake, H100_BOND);
    assert!(!f.exists(&worker) && !f.exists(&device));
    assert!(gpus.iter().all(|g| !f.exists(g)), "every GPU is free to back another worker");
    // Rent of the worker, its device and GPU records comes back, less the 5,000-lamport signature fee.
    assert_eq!(f.svm.get_balance(&supplier.key()).unwrap(), before + rent - 5_000);
    let account = f.supplier_account(&supplier);
    assert_eq!((account.reserved, account.worker_count, account.gpu_count), (0, 0, 0));
    f.exec(ix::stake_unbond(supplier.key(), H100_BOND), &[&supplier.authority]);
}

#[test]
fn a_closed_worker_cannot_be_used_again_in_the_same_transaction() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(H100_BOND);
    let spec = f.h100_spec();
    let index = f.register_worker(&supplier, spec).unwrap();
    let result = f.send(
        &[f.deregister_worker_ix(&supplier, index), ix::worker_set_available(supplier.key(), index, true)],
        &[&supplier.authority],
    );
    assert_error(result, AnchorError::AccountNotInitialized);
    assert!(f.exists(&pda::worker(&supplier.supplier(), index).0), "the failed transaction changed nothing");
}

#[test]
fn another_supplier_cannot_manage_my_worker() {
    let mut f = TestFixture::new();
    let owner = f.staked_supplier(H100_BOND);
    let intruder = f.staked_supplier(H100_BOND);
    let spec = f.h100_spec();
    let index = f.register_worker(&owner, spec.clone()).unwrap();
    let owners_worker = pda::worker(&owner.supplier(), index).0;

    let mut hijack = ix::worker_set_available(intruder.key(), index, false);
    hijack.accounts[3].pubkey = owners_worker;
    assert_error(f.send(&[hijack], &[&intruder.authority]), AnchorError::ConstraintSeeds);

    let mut close = ix::worker_deregister(intruder.key(), index, spec.device_key, &[]);
    close.accounts[3].pubkey = owners_worker;
    assert_error(f.send(&[close], &[&intruder.authority]), AnchorError::ConstraintSeeds);
    assert!(f.worker_of(&owner, index).available);
}

/// The registration of a worker whose GPUs have `uuids`, with the records of `records` (the SDK's by default).
fn register_with_gpus(f: &TestFixture, supplier: &SupplierActor, index: u32, uuids: &[String]) -> Instruction {
    let hashes: Vec<[u8; 32]> = uuids.iter().map(|u| Gpu::uuid_hash(u)).collect();
    let spec = WorkerSpec { gpu_count: uuids.len() as u16, device_key: Pubkey::new_unique(), ..f.h100_spec() };
    ix::worker_register(supplier.key(), index, spec, &hashes)
}

#[test]
fn a_gpu_backs_one_worker_at_a_time() {
    let mut f = TestFixture::new();
    let honest = f.staked_supplier(2 * H100_BOND);
    let index = f.next_worker_index();
    let worker = pda::worker(&honest.supplier(), index).0;
    let uuids = gpu_uuids(&worker, 8);
    f.exec(register_with_gpus(&f, &honest, index, &uuids), &[&honest.authority]);
    assert_eq!(f.worker_of(&honest, index).gpu_set, Gpu::set_digest_of_uuids(uuids.iter().map(String::as_str)));
    let record: Gpu = f.account(&pda::gpu(&Gpu::uuid_hash(&uuids[3])).0);
    assert_eq!(record.worker, worker);

    // The same physical GPU offered again, by another supplier or the same one, in another worker: refused, so
    // one GPU is never rented to two renters at once.
    let cheater = f.staked_supplier(H100_BOND);
    let stolen = vec![uuids[3].clone(), "GPU-cheater-own".to_string()];
    let index2 = f.next_worker_index();
    let refused = f.send(&[register_with_gpus(&f, &cheater, index2, &stolen)], &[&cheater.authority]);
    assert_error(refused, TimelockError::GpuInUse);
    let index3 = f.next_worker_index();
    let twice = f.send(&[register_with_gpus(&f, &honest, index3, &uuids[..1])], &[&honest.authority]);
    assert_error(twice, TimelockError::GpuInUse);
    assert_eq!(f.supplier_account(&cheater).worker_count, 0);

    // Once its worker is gone the GPU may back another (a host sold or moved).
    f.deregister_worker(&honest, index).unwrap();
    f.exec(register_with_gpus(&f, &cheater, index2, &stolen), &[&cheater.authority]);
    let record: Gpu = f.account(&pda::gpu(&Gpu::uuid_hash(&uuids[3])).0);
    assert_eq!(record.worker, pda::worker(&cheater.supplier(), index2).0);
}

#[test]
fn the_gpu_list_must_be_one_sorted_hash_per_gpu_with_its_own_record() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(H100_BOND);
    let uuids: Vec<String> = (0..4).map(|i| format!("GPU-list-{i}")).collect();
    let index = f.next_worker_index();
    // Four GPUs declared, three listed.
    let spec = WorkerSpec { gpu_count: 4, ..f.h100_spec() };
    let hashes: Vec<[u8; 32]> = uuids[..3].iter().map(|u| Gpu::uuid_hash(u)).collect();
    let short = ix::worker_register(supplier.key(), index, spec.clone(), &hashes);
    assert_error(f.send(&[short], &[&supplier.authority]), TimelockError::GpuListMismatch);
    // Listed out of order (the same GPU twice is out of order too).
    let mut sorted: Vec<[u8; 32]> = uuids.iter().map(|u| Gpu::uuid_hash(u)).collect();
    sorted.sort_unstable();
    let unsorted = vec![sorted[1], sorted[0], sorted[2], sorted[3]];
    let mut ix = ix::worker_register(supplier.key(), index, spec.clone(), &sorted);
    let base = ix.accounts.len() - 4;
    ix.accounts.swap(base, base + 1);
    ix.data = anchor_lang::InstructionData::data(&timelock::instruction::WorkerRegister {
        worker_index: index,
        spec: spec.clone(),
        gpus: unsorted,
    });
    assert_error(f.send(&[ix], &[&supplier.authority]), TimelockError::GpuListNotSorted);
    // A record that is not the listed GPU's.
    let mut ix = ix::worker_register(supplier.key(), index, spec, &sorted);
    ix.accounts[base + 2].pubkey = pda::gpu(&[9; 32]).0;
    assert_error(f.send(&[ix], &[&supplier.authority]), TimelockError::InvalidGpuRecord);
    assert_eq!(f.supplier_account(&supplier).worker_count, 0);
}

#[test]
fn deregistration_must_release_exactly_the_workers_gpus() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(2 * H100_BOND);
    let spec = f.h100_spec();
    let index = f.register_worker(&supplier, spec.clone()).unwrap();
    let other = f.register_worker(&supplier, WorkerSpec { device_key: Pubkey::new_unique(), ..spec }).unwrap();
    let full = f.deregister_worker_ix(&supplier, index);
    // Keeping a GPU bound to a worker that is gone: refused.
    let mut partial = full.clone();
    partial.accounts.pop();
    assert_error(f.send(&[partial], &[&supplier.authority]), TimelockError::GpuListMismatch);
    // Releasing another worker's GPU in its place: refused.
    let mut swapped = full.clone();
    let last = swapped.accounts.len() - 1;
    let others = gpu_hashes(&pda::worker(&supplier.supplier(), other).0, 8);
    swapped.accounts[last].pubkey = pda::gpu(&others[0]).0;
    assert_error(f.send(&[swapped], &[&supplier.authority]), TimelockError::InvalidGpuRecord);
    f.exec(full, &[&supplier.authority]);
    let others_record: Gpu = f.account(&pda::gpu(&others[0]).0);
    assert_eq!(others_record.worker, pda::worker(&supplier.supplier(), other).0);
}
