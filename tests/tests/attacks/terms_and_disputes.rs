//! Items 3 and 4: bookings hold the supplier to the terms the renter read, and disputes cannot be used to grief.

use super::*;

// 3. Booking with expected terms -----------------------------------------------------------------------------

#[test]
fn item3_a_supplier_update_that_lands_first_cannot_take_the_renters_balance() {
    let mut f = TestFixture::new();
    let (supplier, workers) = f.supplier_with_workers(1);
    let renter = f.renter(100_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 1).unwrap();
    // The renter reads the listing: 8 × H100 at 2 USDC per GPU-hour.
    let agreed = f.as_listed(&workers[0]);
    let index = f.account::<Worker>(&workers[0].worker).worker_index;
    let listed = f.worker_of(&supplier, index).spec;

    // The supplier's update lands first: the price ×1,000.
    f.update_worker(&supplier, index, WorkerSpec { price_per_gpu_hour: 2_000_000_000, ..listed.clone() }).unwrap();
    assert_error(f.book(&renter, 1, &[agreed]), TimelockError::PriceAboveAgreed);
    // Or the same price for an RTX 4090 host in place of the H100s.
    let rtx = catalog::gpu_model_code("RTX-4090").unwrap();
    f.update_worker(&supplier, index, WorkerSpec { gpu_model: rtx, ..listed.clone() }).unwrap();
    assert_error(f.book(&renter, 1, &[agreed]), TimelockError::HardwareNotAsAgreed);
    // Fewer GPUs cannot even be declared: the count is the registered GPUs'.
    let fewer = WorkerSpec { gpu_count: 4, ..listed.clone() };
    assert_error(f.update_worker(&supplier, index, fewer), TimelockError::GpuCountChange);
    assert_eq!(f.token_balance(&renter.payment_tokens), 100_000 * ONE_USDC, "nothing was taken");

    // Or less memory, another region, or without the compliance the renter needs.
    let west = catalog::region_code("US-WEST").unwrap();
    for changed in [
        WorkerSpec { vram_gib: 40, ..listed.clone() },
        WorkerSpec { region: west, ..listed.clone() },
        WorkerSpec { compliance: 0, ..listed.clone() },
    ] {
        f.update_worker(&supplier, index, changed).unwrap();
        assert_error(f.book(&renter, 1, &[agreed]), TimelockError::HardwareNotAsAgreed);
    }
    assert_eq!(f.token_balance(&renter.payment_tokens), 100_000 * ONE_USDC, "nothing was taken");
    // A cheaper price than agreed is fine; terms must come one per worker.
    f.update_worker(&supplier, index, WorkerSpec { price_per_gpu_hour: 1_000_000, ..listed }).unwrap();
    let mut none = ix::cluster_add_workers(f.payment(&renter, 1), &[agreed]);
    none.data = anchor_lang::InstructionData::data(&timelock::instruction::ClusterAddWorkers { terms: vec![] });
    assert_error(f.send(&[none], &[&renter.authority]), TimelockError::BookingTermsMismatch);
    f.book(&renter, 1, &[agreed]).unwrap();
    assert_eq!(f.token_balance(&renter.payment_tokens), 100_000 * ONE_USDC - 8 * ONE_USDC);
    // Once booked, the host behind the worker cannot change: the lease's evidence is signed by its device key.
    let booked = f.worker_of(&supplier, index).spec;
    let other_host = WorkerSpec { device_key: Pubkey::new_unique(), ..booked };
    assert_error(f.update_worker(&supplier, index, other_host), TimelockError::DeviceChangeWhileLeased);
    let terms = BookingTerms::as_listed(&f.worker_of(&supplier, index).spec);
    assert_eq!(terms.max_price_per_gpu_hour, 1_000_000);
}

// 4. Disputes cannot be used to grief ------------------------------------------------------------------------

#[test]
fn item4_an_unresolved_dispute_lapses_and_its_bond_goes_to_the_other_party() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(3_600, 0);
    renter_disputes(&mut s).unwrap();
    // Nobody resolves. Until the timeout, nothing is paid and the lease cannot close...
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    let settled = s.settle(0);
    assert_eq!((settled.paid_to_supplier, settled.closed), (0, false));
    // ...after it, any cranker lapses the dispute: the attested hour stands and the bond goes to the supplier.
    s.f.set_time(GENESIS_TIME + HOUR + TIMEOUT);
    let earnings_before = s.earnings();
    let cranker = s.f.actor();
    let landed = s.f.send(&[ix::lease_settle(s.f.settle_accounts(&s.renter, 1, &s.workers[0]))], &[&cranker]).unwrap();
    let lapsed: DisputeLapsed = landed.event();
    assert_eq!((lapsed.disputer, lapsed.bond_to, lapsed.bond), (s.renter.key(), s.supplier.key(), BOND));
    let settled: LeaseSettled = landed.event();
    assert!(settled.closed);
    let supplier_share = RATE - RATE * 500 / 10_000;
    assert_eq!(s.earnings() - earnings_before, supplier_share + BOND);
    assert_eq!(s.f.supplier_account(&s.supplier).earnings_unclaimed, supplier_share + BOND);
}

#[test]
fn item4_a_supplier_dispute_that_lapses_pays_its_bond_to_the_renter() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(1_800, 0);
    supplier_disputes(&mut s).unwrap();
    s.f.set_time(GENESIS_TIME + HOUR + TIMEOUT);
    let renter_before = s.f.token_balance(&s.renter.payment_tokens);
    let settled = s.settle(0);
    assert!(settled.closed);
    // The bond and the refund of the unproven half-hour.
    assert_eq!(s.f.token_balance(&s.renter.payment_tokens) - renter_before, BOND + RATE / 2);
}

#[test]
fn item4_no_dispute_after_the_leases_dispute_window() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(3_600, 0);
    // The lease ended an epoch and a dispute window ago: a dispute now would only hold up its close.
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    assert_error(renter_disputes(&mut s), TimelockError::DisputeWindowClosed);
    assert_error(supplier_disputes(&mut s), TimelockError::DisputeWindowClosed);
    assert!(s.settle(0).closed);
}

#[test]
fn item4_the_same_party_cannot_reopen_a_decided_span() {
    let mut s = Story::booked(1, 2);
    s.an_hour_attested(3_600, 0);
    renter_disputes(&mut s).unwrap();
    let renter_tokens = s.renter.payment_tokens;
    resolve(&mut s, renter_tokens, 3_600, 0, false);
    // Again at once, or after time passes with nothing newly attested: refused.
    assert_error(renter_disputes(&mut s), TimelockError::DisputeAlreadyDecided);
    s.f.warp(600);
    assert_error(renter_disputes(&mut s), TimelockError::DisputeAlreadyDecided);
    // The other party still may; its decided dispute does not reopen the span for the renter.
    let supplier_tokens = s.supplier.payment_tokens;
    supplier_disputes(&mut s).unwrap();
    resolve(&mut s, supplier_tokens, 3_600, 0, false);
    assert_error(renter_disputes(&mut s), TimelockError::DisputeAlreadyDecided);
    assert_error(supplier_disputes(&mut s), TimelockError::DisputeAlreadyDecided);
    // Once new time is attested, the renter may contest that.
    s.f.warp(600);
    let later = s.f.now();
    s.attest_all(later, 4_800, 0);
    renter_disputes(&mut s).unwrap();
}

#[test]
fn a_cranker_cannot_settle_a_lease_against_another_worker() {
    let mut s = Story::booked(2, 1);
    s.an_hour_attested(3_600, 0);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    let cranker = s.f.actor();
    // The lease of worker 0 with worker 1's account, which settlement would otherwise jail or release.
    let mut swapped = ix::lease_settle(s.f.settle_accounts(&s.renter, 1, &s.workers[0]));
    assert_eq!(swapped.accounts[3].pubkey, s.workers[0].worker);
    swapped.accounts[3].pubkey = s.workers[1].worker;
    assert_error(s.f.send(&[swapped], &[&cranker]), anchor_lang::error::ErrorCode::ConstraintHasOne);
    let settled = s.settle(0);
    assert!(settled.paid_to_supplier > 0);
}
