//! Items 7 to 9: extension and exit are consensual, history cannot be washed, and the oracle set and mints.

use super::*;

// 7. Extension and exit are consensual -----------------------------------------------------------------------

fn story_with_max_hours(max_lease_hours: u32, hours: u32) -> (TestFixture, Renter, SupplierActor, ix::WorkerRef) {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(8_100 * ONE_STAKE);
    let spec = WorkerSpec { max_lease_hours, ..f.h100_spec() };
    let index = f.register_worker(&supplier, spec).unwrap();
    let worker = f.worker_ref(&supplier, index);
    let renter = f.renter(1_000 * ONE_USDC);
    f.create_cluster(&renter, 1, hours).unwrap();
    (f, renter, supplier, worker)
}

#[test]
fn item7_no_booking_or_extension_runs_past_what_the_worker_accepts() {
    let (mut f, renter, _, worker) = story_with_max_hours(2, 3);
    assert_error(f.add_workers(&renter, 1, &[worker]), TimelockError::LeaseTooLong);

    let (mut f, renter, _, worker) = story_with_max_hours(2, 2);
    f.add_workers(&renter, 1, &[worker]).unwrap();
    // The renter extends the cluster by a day; the lease stops at the worker's two hours.
    f.extend(&renter, 1, 24).unwrap();
    assert_eq!(f.lease(&renter, 1, &worker).max_secs(f.cluster(&renter, 1).end_ts), 2 * 3_600);
    f.warp(26 * HOUR);
    let now = f.now();
    f.attest_quorum(2, now, &[(f.lease_address(&renter, 1, &worker), 26 * 3_600, 0)]);
    f.warp(EPOCH + DISPUTE_WINDOW);
    let settled: LeaseSettled = f.settle(&renter, 1, &worker).unwrap().event();
    assert!(settled.closed);
    // Paid for two hours; the 24 escrowed hours beyond the worker's consent come back.
    assert_eq!(f.token_balance(&renter.payment_tokens), 1_000 * ONE_USDC - 2 * RATE);
}

#[test]
fn item7_a_jailed_workers_lease_is_not_extended() {
    let mut s = Story::booked(1, 2);
    s.an_hour_attested(3_600, 3);
    s.f.warp(DISPUTE_WINDOW);
    s.settle(0);
    assert!(s.f.account::<Worker>(&s.workers[0].worker).is_jailed());
    let booked_end = s.f.cluster(&s.renter, 1).end_ts;
    s.f.extend(&s.renter, 1, 5).unwrap();
    assert_eq!(
        s.lease(0).end_ts(s.f.cluster(&s.renter, 1).end_ts),
        booked_end,
        "the extension skips the jailed worker"
    );
}

// 8. History cannot be washed, hardware cannot be sold twice -------------------------------------------------

#[test]
fn item8_a_jailed_worker_cannot_leave_to_wash_its_record() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(3_600, 3);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    assert!(s.settle_until_closed(0));
    let index = s.f.account::<Worker>(&s.workers[0].worker).worker_index;
    let supplier = clone_supplier(&s.supplier);
    assert_error(s.f.deregister_worker(&supplier, index), TimelockError::WorkerHasOpenFaults);
    assert_eq!(s.f.supplier_account(&supplier).fault_count, 3);
    // Once its cool-down (and with it the jail window) has passed and it is unjailed, it may leave; the
    // supplier's record keeps the faults.
    s.f.warp(86_400);
    s.f.exec(ix::worker_unjail(supplier.key(), index), &[&supplier.authority]);
    s.f.deregister_worker(&supplier, index).unwrap();
    assert_eq!(s.f.supplier_account(&supplier).fault_count, 3);
}

#[test]
fn item8_faults_still_counting_toward_jail_keep_a_worker_registered() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(3_600, 2);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    assert!(s.settle_until_closed(0));
    let worker: Worker = s.f.account(&s.workers[0].worker);
    assert!(!worker.is_jailed() && worker.window_faults == 2, "one fault short of jail");
    let supplier = clone_supplier(&s.supplier);
    // Leaving now and registering the host again would restart the count at zero: refused.
    assert_error(s.f.deregister_worker(&supplier, worker.worker_index), TimelockError::WorkerHasOpenFaults);
    s.f.warp(86_400);
    s.f.deregister_worker(&supplier, worker.worker_index).unwrap();
}

#[test]
fn item8_unjailing_keeps_the_fault_window() {
    let mut s = Story::booked(1, 1);
    // A short cool-down inside a day-long jail window.
    let admin = s.f.admin.insecure_clone();
    let mut params = s.f.config().params;
    params.jail_cooldown_secs = HOUR;
    s.f.exec(ix::config_update(admin.pubkey(), params), &[&admin]);
    s.an_hour_attested(3_600, 3);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    assert!(s.settle_until_closed(0));
    s.f.warp(HOUR);
    // Unjail and leave in one transaction: the faults that jailed the worker still count, so it cannot leave.
    let supplier = clone_supplier(&s.supplier);
    let index = s.f.account::<Worker>(&s.workers[0].worker).worker_index;
    let unjail_and_leave = [ix::worker_unjail(supplier.key(), index), s.f.deregister_worker_ix(&supplier, index)];
    assert_error(s.f.send(&unjail_and_leave, &[&supplier.authority]), TimelockError::WorkerHasOpenFaults);
}

#[test]
fn item8_one_host_backs_at_most_one_worker() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(3 * 8_100 * ONE_STAKE);
    let spec = f.h100_spec();
    let first = f.register_worker(&supplier, spec.clone()).unwrap();
    // The same device key again, from this supplier or from another: refused.
    assert_eq!(
        f.register_worker(&supplier, spec.clone()).unwrap_err().custom_code(),
        Some(TimelockError::DeviceKeyInUse.code())
    );
    let other = f.staked_supplier(8_100 * ONE_STAKE);
    assert_eq!(
        f.register_worker(&other, spec.clone()).unwrap_err().custom_code(),
        Some(TimelockError::DeviceKeyInUse.code())
    );
    // A second worker cannot move onto the first one's key either.
    let second = f.register_worker(&supplier, f.h100_spec()).unwrap();
    let onto_first = WorkerSpec { device_key: spec.device_key, ..f.worker_of(&supplier, second).spec };
    assert_error(f.update_worker(&supplier, second, onto_first), TimelockError::DeviceKeyInUse);
    // When the first worker moves to a new key, its old key is free for another worker.
    let moved = WorkerSpec { device_key: Pubkey::new_unique(), ..spec.clone() };
    f.update_worker(&supplier, first, moved).unwrap();
    assert!(!f.exists(&pda::device(&spec.device_key).0));
    f.register_worker(&supplier, spec).unwrap();
    let device: timelock::state::Device = f.account(&pda::device(&f.worker_of(&supplier, first).spec.device_key).0);
    assert_eq!(device.worker, pda::worker(&supplier.supplier(), first).0);
}

#[test]
fn item8_a_device_record_that_names_another_worker_is_refused() {
    use anchor_lang::AccountSerialize;
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(2 * 8_100 * ONE_STAKE);
    let spec = f.h100_spec();
    let index = f.register_worker(&supplier, spec.clone()).unwrap();
    // The record at this worker's device key, rewritten (as no instruction can) to name another worker.
    let (record, bump) = pda::device(&spec.device_key);
    let mut data = Vec::new();
    timelock::state::Device { worker: Pubkey::new_unique(), bump }.try_serialize(&mut data).unwrap();
    let mut account = f.svm.get_account(&record).unwrap();
    account.data = data;
    f.svm.set_account(record, account).unwrap();
    assert_error(f.deregister_worker(&supplier, index), TimelockError::InvalidDeviceRecord);
    let moved = WorkerSpec { device_key: Pubkey::new_unique(), ..spec };
    assert_error(f.update_worker(&supplier, index, moved), TimelockError::InvalidDeviceRecord);
}

#[test]
fn item8_queued_unbonding_does_not_escape_a_pending_slash() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(1_800, 1);
    // The supplier sees the fault coming and queues every free token for withdrawal.
    let supplier = clone_supplier(&s.supplier);
    let free = s.f.supplier_account(&supplier).free_stake().unwrap();
    s.f.exec(ix::stake_unbond(supplier.key(), free), &[&supplier.authority]);
    s.f.warp(7 * 86_400);
    let stake = s.f.stake_accounts(&supplier);
    s.f.exec(ix::stake_withdraw(stake), &[&supplier.authority]);
    assert_eq!(s.f.token_balance(&supplier.stake_tokens), free);
    // The fault is slashed in full: it comes from the lease's collateral, which could never be queued.
    let settled = s.settle(0);
    assert_eq!(settled.slashed, SLASH_PER_FAULT);
    let account = s.f.supplier_account(&supplier);
    assert_eq!(account.staked + SLASH_PER_FAULT, account.reserved + COLLATERAL);
}

// 9. Oracle set and mints ------------------------------------------------------------------------------------

#[test]
fn item9_a_removed_oracles_votes_stop_counting_and_nothing_decreases() {
    let mut s = Story::booked(1, 2);
    s.an_hour_attested(3_600, 0);
    // Oracle 1 is replaced by a new key mid-lease.
    let admin = s.f.admin.insecure_clone();
    let mut params = s.f.config().params;
    let replacement = Keypair::new();
    s.f.svm.airdrop(&replacement.pubkey(), 1_000_000_000).unwrap();
    params.oracles[1] = replacement.pubkey();
    s.f.exec(ix::config_update(admin.pubkey(), params), &[&admin]);
    let retired = std::mem::replace(&mut s.f.oracles[1], replacement);
    assert_eq!(s.lease(0).proven_secs, 3_600, "a change of the set never undoes an agreed total");
    // The old key can no longer attest, and one remaining vote is not a quorum.
    s.f.warp(600);
    let later = s.f.now();
    let lease = s.lease_address(0);
    let report = timelock::LeaseReport { proven_secs: 7_200, faults: 9, resolution: 0 };
    let stale = ix::lease_attest(retired.pubkey(), later, [0; 32], &[(lease, report)]);
    assert_error(s.f.send(&[stale], &[&retired]), TimelockError::NotOracle);
    s.f.attest(0, later, &[(lease, 4_200, 5)]).unwrap();
    assert_eq!((s.lease(0).proven_secs, s.lease(0).faults), (3_600, 0));
    s.f.attest(1, later, &[(lease, 4_200, 0)]).unwrap();
    assert_eq!(s.lease(0).proven_secs, 4_200);
}

/// A Token-2022 mint with `extensions` (type, data) written after the base, as the token program lays them out.
fn token_2022_mint(f: &mut TestFixture, decimals: u8, extensions: &[(u16, Vec<u8>)]) -> Pubkey {
    // Base mint: mint authority (COption), supply, decimals, initialised, no freeze authority; padded to an
    // account's 165 bytes, then the account-type byte (1: mint) and the extensions.
    let mut data = [1u32.to_le_bytes().as_slice(), f.admin.pubkey().as_ref()].concat();
    data.extend_from_slice(&0u64.to_le_bytes());
    data.extend_from_slice(&[decimals, 1]);
    data.extend_from_slice(&[0u8; 36]);
    data.resize(165, 0);
    data.push(1);
    for (extension, value) in extensions {
        data.extend_from_slice(&extension.to_le_bytes());
        data.extend_from_slice(&(value.len() as u16).to_le_bytes());
        data.extend_from_slice(value);
    }
    let address = Pubkey::new_unique();
    let lamports = f.svm.minimum_balance_for_rent_exemption(data.len());
    let account =
        solana_account::Account { lamports, data, owner: TOKEN_2022_PROGRAM_ID, executable: false, rent_epoch: 0 };
    f.svm.set_account(address, account).unwrap();
    address
}

#[test]
fn item9_mints_whose_issuer_could_take_or_freeze_the_programs_tokens_are_refused() {
    const PERMANENT_DELEGATE: u16 = 12;
    const TRANSFER_HOOK: u16 = 14;
    const PAUSABLE: u16 = 26;
    const DEFAULT_ACCOUNT_STATE: u16 = 6;
    const METADATA_POINTER: u16 = 18;
    let key = || Pubkey::new_unique().to_bytes().to_vec();
    let cases: Vec<(u16, Vec<u8>)> = vec![
        (PERMANENT_DELEGATE, key()),
        (TRANSFER_HOOK, [key(), key()].concat()),
        (PAUSABLE, [key(), vec![0]].concat()),
        (DEFAULT_ACCOUNT_STATE, vec![2]),
    ];
    for extension in cases {
        let mut f = TestFixture::deployed();
        let payment = token_2022_mint(&mut f, 6, std::slice::from_ref(&extension));
        let ix = ix::config_init(f.admin.pubkey(), f.stake_mint, payment, f.stake_token_program, f.default_params());
        let admin = f.admin.insecure_clone();
        assert_error(f.send(&[ix], &[&admin]), TimelockError::UnsupportedMintExtension);
    }
    // Decimals beyond 18 would overflow the collateral conversion.
    let mut f = TestFixture::deployed();
    let payment = token_2022_mint(&mut f, 19, &[]);
    let ix = ix::config_init(f.admin.pubkey(), f.stake_mint, payment, f.stake_token_program, f.default_params());
    let admin = f.admin.insecure_clone();
    assert_error(f.send(&[ix], &[&admin]), TimelockError::UnsupportedMintDecimals);
    // Metadata only describes the mint: accepted.
    let mut f = TestFixture::deployed();
    let payment = token_2022_mint(&mut f, 6, &[(METADATA_POINTER, [key(), key()].concat())]);
    let ix = ix::config_init(f.admin.pubkey(), f.stake_mint, payment, f.stake_token_program, f.default_params());
    let admin = f.admin.insecure_clone();
    f.send(&[ix], &[&admin]).unwrap();
    assert_eq!((f.config().stake_decimals, f.config().payment_decimals), (STAKE_DECIMALS, 6));
}

fn clone_supplier(s: &SupplierActor) -> SupplierActor {
    SupplierActor {
        authority: s.authority.insecure_clone(),
        stake_tokens: s.stake_tokens,
        payment_tokens: s.payment_tokens,
    }
}
