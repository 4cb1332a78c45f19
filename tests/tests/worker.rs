//! Worker registry: registration bonded by free stake, validated specs, updates, availability, deregistration.

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use timelock::events::{
    WorkerAvailabilityChanged, WorkerDeregistered, WorkerGpusBound, WorkerRegistered, WorkerUpdated,
};
use timelock::state::{Gpu, WorkerSpec};
use timelock_sdk::{batch, catalog, ix, pda};
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
    assert_eq!(register.len(), 3, "worker_register, then two worker_bind_gpus of four GPUs each");
    let landed = f.send(&register, &[&supplier.authority]).unwrap();

    let event: WorkerRegistered = landed.event();
    assert_eq!((event.spec.clone(), event.bonded_stake, event.worker_index), (spec.clone(), H100_BOND, index));
    let bound = landed.events::<WorkerGpusBound>();
    let worker = f.worker_of(&supplier, index);
    let last = bound.last().unwrap();
    assert_eq!((bound.len(), last.gpus.len(), last.gpus_bound, last.gpu_set), (2, 4, 8, worker.gpu_set));
    assert!(worker.has_all_gpus() && worker.is_bookable());
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
        let result = f.send(&register, &[&supplier.authority]);
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
    assert_already_in_use(f.send(&again, &[&supplier.authority]));
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

/// The registration of a worker whose GPUs have `uuids`, as one transaction's instructions.
fn register_with_gpus(f: &TestFixture, supplier: &SupplierActor, index: u32, uuids: &[String]) -> Vec<Instruction> {
    let hashes: Vec<[u8; 32]> = uuids.iter().map(|u| Gpu::uuid_hash(u)).collect();
    let spec = WorkerSpec { gpu_count: uuids.len() as u16, device_key: Pubkey::new_unique(), ..f.h100_spec() };
    batch::worker_register(supplier.key(), index, spec, &hashes).concat()
}

#[test]
fn a_gpu_backs_one_worker_at_a_time() {
    let mut f = TestFixture::new();
    let honest = f.staked_supplier(2 * H100_BOND);
    let index = f.next_worker_index();
    let worker = pda::worker(&honest.supplier(), index).0;
    let uuids = gpu_uuids(&worker, 8);
    f.send(&register_with_gpus(&f, &honest, index, &uuids), &[&honest.authority]).unwrap();
    assert_eq!(f.worker_of(&honest, index).gpu_set, Gpu::set_digest_of_uuids(uuids.iter().map(String::as_str)));
    let record: Gpu = f.account(&pda::gpu(&Gpu::uuid_hash(&uuids[3])).0);
    assert_eq!(record.worker, worker);

    // The same physical GPU offered again, by another supplier or the same one, in another worker: refused, so
    // one GPU is never rented to two renters at once.
    let cheater = f.staked_supplier(H100_BOND);
    let stolen = vec![uuids[3].clone(), "GPU-cheater-own".to_string()];
    let index2 = f.next_worker_index();
    let refused = f.send(&register_with_gpus(&f, &cheater, index2, &stolen), &[&cheater.authority]);
    assert_error(refused, TimelockError::GpuInUse);
    let index3 = f.next_worker_index();
    let twice = f.send(&register_with_gpus(&f, &honest, index3, &uuids[..1]), &[&honest.authority]);
    assert_error(twice, TimelockError::GpuInUse);
    assert_eq!(f.supplier_account(&cheater).worker_count, 0);

    // Once its worker is gone the GPU may back another (a host sold or moved).
    f.deregister_worker(&honest, index).unwrap();
    f.send(&register_with_gpus(&f, &cheater, index2, &stolen), &[&cheater.authority]).unwrap();
    let record: Gpu = f.account(&pda::gpu(&Gpu::uuid_hash(&uuids[3])).0);
    assert_eq!(record.worker, pda::worker(&cheater.supplier(), index2).0);
}

#[test]
fn gpus_are_bound_in_ascending_order_up_to_the_declared_count_and_only_then_is_the_worker_bookable() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(2 * H100_BOND);
    let mut sorted: Vec<[u8; 32]> = (0..10).map(|i| Gpu::uuid_hash(&format!("GPU-list-{i}"))).collect();
    sorted.sort_unstable();
    let index = f.next_worker_index();
    let spec = WorkerSpec { gpu_count: 4, ..f.h100_spec() };
    f.exec(ix::worker_register(supplier.key(), index, spec.clone()), &[&supplier.authority]);
    let bind = |gpus: &[[u8; 32]]| ix::worker_bind_gpus(supplier.key(), index, gpus);
    // The SDK sorts what it is given: this one sends the GPUs and their records in the order listed.
    let as_listed = |gpus: &[[u8; 32]]| {
        let mut ix = bind(gpus);
        ix.data = anchor_lang::InstructionData::data(&timelock::instruction::WorkerBindGpus { gpus: gpus.to_vec() });
        ix.accounts.truncate(6);
        ix.accounts.extend(gpus.iter().map(|h| AccountMeta::new(pda::gpu(h).0, false)));
        ix
    };

    // Registered, no GPU yet: listed nowhere, bookable by nobody.
    let worker = f.worker_of(&supplier, index);
    assert_eq!((worker.gpus_bound, worker.gpu_set), (0, Gpu::set_digest(&[])));
    assert!(worker.available && !worker.is_bookable());
    // Out of order within one instruction.
    let swapped = [sorted[5], sorted[4]];
    assert_error(f.send(&[as_listed(&swapped)], &[&supplier.authority]), TimelockError::GpuListNotSorted);
    // Three of the four: still not bookable.
    f.exec(bind(&sorted[1..4]), &[&supplier.authority]);
    assert!(!f.worker_of(&supplier, index).is_bookable());
    // Below a GPU already bound, or one bound already.
    assert_error(f.send(&[bind(&sorted[..1])], &[&supplier.authority]), TimelockError::GpuListNotSorted);
    assert_error(f.send(&[bind(&sorted[3..4])], &[&supplier.authority]), TimelockError::GpuListNotSorted);
    // A record that is not the listed GPU's.
    let mut wrong = bind(&sorted[4..5]);
    wrong.accounts[6].pubkey = pda::gpu(&[9; 32]).0;
    assert_error(f.send(&[wrong], &[&supplier.authority]), TimelockError::InvalidGpuRecord);
    // More GPUs than declared, more than an instruction binds, or none.
    assert_error(f.send(&[bind(&sorted[4..6])], &[&supplier.authority]), TimelockError::GpuCountExceeded);
    let nine: Vec<[u8; 32]> = (0..9).map(|i| Gpu::uuid_hash(&format!("GPU-nine-{i}"))).collect();
    assert_error(f.send(&[bind(&nine)], &[&supplier.authority]), TimelockError::TooManyGpusPerBind);
    assert_error(f.send(&[bind(&[])], &[&supplier.authority]), TimelockError::GpuListMismatch);
    // Another supplier cannot bind GPUs to my worker.
    let intruder = f.staked_supplier(H100_BOND);
    let mut foreign = ix::worker_bind_gpus(intruder.key(), index, &sorted[4..5]);
    foreign.accounts[2].pubkey = pda::worker(&supplier.supplier(), index).0;
    assert_error(f.send(&[foreign], &[&intruder.authority]), AnchorError::ConstraintHasOne);

    // The fourth completes it: bookable, with the digest of the four.
    f.exec(bind(&sorted[4..5]), &[&supplier.authority]);
    let worker = f.worker_of(&supplier, index);
    assert_eq!((worker.gpus_bound, worker.gpu_set), (4, Gpu::set_digest(&sorted[1..5])));
    assert!(worker.is_bookable());
    assert_error(f.send(&[bind(&sorted[5..6])], &[&supplier.authority]), TimelockError::GpuCountExceeded);
}

#[test]
fn a_worker_is_created_only_at_its_own_address_under_the_signers_supplier() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(2 * H100_BOND);
    let other = f.staked_supplier(2 * H100_BOND);
    let spec = f.h100_spec();
    let index = f.next_worker_index();
    // Another index's address (a valid PDA, not this index's).
    let mut elsewhere = ix::worker_register(supplier.key(), index, spec.clone());
    elsewhere.accounts[3].pubkey = pda::worker(&supplier.supplier(), index + 1).0;
    assert_error(f.send(&[elsewhere], &[&supplier.authority]), TimelockError::InvalidWorkerAddress);
    // Another supplier's record, to bond my worker with its stake.
    let mut borrowed = ix::worker_register(supplier.key(), index, spec.clone());
    borrowed.accounts[2].pubkey = other.supplier();
    borrowed.accounts[3].pubkey = pda::worker(&other.supplier(), index).0;
    assert_error(f.send(&[borrowed], &[&supplier.authority]), AnchorError::ConstraintHasOne);
    // A device record that is not the key's.
    let mut wrong_device = ix::worker_register(supplier.key(), index, spec.clone());
    wrong_device.accounts[4].pubkey = pda::device(&Pubkey::new_unique()).0;
    assert_error(f.send(&[wrong_device], &[&supplier.authority]), TimelockError::InvalidDeviceRecord);
    // Someone sent lamports to the worker's and the device's future addresses: registration still succeeds.
    f.svm.airdrop(&pda::worker(&supplier.supplier(), index).0, 1_000_000).unwrap();
    f.svm.airdrop(&pda::device(&spec.device_key).0, 1_000_000).unwrap();
    f.exec(ix::worker_register(supplier.key(), index, spec), &[&supplier.authority]);
    assert_eq!((f.supplier_account(&supplier).worker_count, f.supplier_account(&other).worker_count), (1, 0));
}

#[test]
fn a_worker_whose_gpus_are_not_all_bound_is_not_booked_and_leaves_with_those_it_has() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(H100_BOND);
    let spec = f.h100_spec();
    let index = f.next_worker_index();
    let worker = pda::worker(&supplier.supplier(), index).0;
    let gpus = gpu_hashes(&worker, 8);
    let mut sorted = gpus.clone();
    sorted.sort_unstable();
    f.exec(ix::worker_register(supplier.key(), index, spec.clone()), &[&supplier.authority]);
    f.exec(ix::worker_bind_gpus(supplier.key(), index, &sorted[..4]), &[&supplier.authority]);
    f.exec(ix::worker_bind_gpus(supplier.key(), index, &sorted[4..5]), &[&supplier.authority]);

    let renter = f.renter(1_000_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 1).unwrap();
    let listed = ix::WorkerRef { worker, supplier: supplier.supplier() };
    assert_error(f.add_workers(&renter, 1, &[listed]), TimelockError::WorkerUnavailable);

    // Deregistration releases exactly the five bound; listing all eight is refused.
    let all = ix::worker_deregister(supplier.key(), index, spec.device_key, &gpus);
    assert_error(f.send(&[all], &[&supplier.authority]), TimelockError::GpuListMismatch);
    f.exec(ix::worker_deregister(supplier.key(), index, spec.device_key, &sorted[..5]), &[&supplier.authority]);
    assert_eq!(f.supplier_account(&supplier).reserved, 0);
    assert!(f.svm.get_account(&pda::gpu(&sorted[0]).0).is_none_or(|a| a.lamports == 0), "its GPUs released");
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
