//! Booking: escrow and collateral, extension and scale-down, batches, and every refused booking.

use super::*;

#[test]
fn booking_escrows_exactly_and_locks_collateral() {
    let s = Story::booked(2, 3);
    // 2 workers × 16 USDC/h × 3 h.
    assert_eq!(s.escrow(), 2 * 3 * RATE);
    assert_eq!(s.f.token_balance(&s.renter.payment_tokens), 1_000_000 * ONE_USDC - 6 * RATE);
    let lease = s.lease(0);
    assert_eq!((lease.hourly_rate, lease.gpu_count, lease.start_ts), (RATE, 8, GENESIS_TIME));
    // Collateral: 4 × the hourly value of 16 USDC, converted across decimals (6 → 9) at 1 stake token per USDC.
    assert_eq!(lease.collateral, COLLATERAL);
    let supplier = s.f.supplier_account(&s.supplier);
    assert_eq!((supplier.locked, supplier.active_leases), (2 * COLLATERAL, 2));
    let worker = s.f.account::<timelock::state::Worker>(&s.workers[0].worker);
    assert_eq!(worker.active_lease, s.lease_address(0));
    let cluster = s.f.cluster(&s.renter, 1);
    assert_eq!((cluster.deposited, cluster.hourly_rate_total, cluster.leases_open), (6 * RATE, 2 * RATE, 2));
    assert_eq!(cluster.end_ts, GENESIS_TIME + 3 * HOUR);
}

#[test]
fn cluster_extended_and_scaled_down() {
    let mut s = Story::booked(2, 1);
    let landed = s.f.extend(&s.renter, 1, 2).unwrap();
    assert_eq!(landed.event::<timelock::events::ClusterExtended>().deposit, 2 * 2 * RATE);
    let cluster = s.f.cluster(&s.renter, 1);
    assert_eq!((cluster.hours, cluster.end_ts, cluster.deposited), (3, GENESIS_TIME + 3 * HOUR, 6 * RATE));
    assert_eq!(s.escrow(), 6 * RATE);

    // Scale down: worker 1 leaves after 30 minutes; the extension after that is charged for worker 0 only.
    s.f.warp(1_800);
    let worker1 = s.workers[1].worker;
    s.f.exec(ix::cluster_remove_worker(s.renter.key(), 1, worker1), &[&s.renter.authority]);
    assert_eq!(s.f.cluster(&s.renter, 1).hourly_rate_total, RATE);
    assert_error(
        s.f.send(&[ix::cluster_remove_worker(s.renter.key(), 1, worker1)], &[&s.renter.authority]),
        TimelockError::LeaseEnded,
    );
    s.f.extend(&s.renter, 1, 1).unwrap();
    assert_eq!(s.escrow(), 7 * RATE);

    // The removed lease is paid for its proven 30 minutes and refunded the rest of its 3 booked hours.
    let window = s.f.now();
    s.attest_all(window, 1_800, 0);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    let mut paid = 0;
    let mut refund = 0;
    for _ in 0..3 {
        let settled = s.settle(1);
        paid += settled.paid_to_supplier + settled.fee;
        refund += settled.refund;
        if settled.closed {
            break;
        }
        s.f.warp(DISPUTE_WINDOW);
    }
    assert_eq!(paid, RATE / 2);
    assert_eq!(refund, 3 * RATE - RATE / 2);
}

#[test]
fn hundred_gpu_cluster_is_booked_in_batches() {
    let mut f = TestFixture::new();
    let workers = f.single_gpu_workers(4, 25);
    let renter = f.renter(1_000_000 * ONE_USDC);
    f.create_cluster(&renter, 42, 1).unwrap();
    let mut transactions = 0;
    for batch in workers.chunks(10) {
        let landed = f.add_workers(&renter, 42, batch).expect("batch lands");
        assert_eq!(landed.event::<LeasesBooked>().leases.len(), batch.len());
        transactions += 1;
    }
    let cluster = f.cluster(&renter, 42);
    assert_eq!((cluster.lease_count, transactions), (100, 10));
    assert_eq!(cluster.deposited, 100 * 2 * ONE_USDC);
}

#[test]
fn booking_failures() {
    let mut s = Story::booked(1, 1);
    let (supplier2, workers2) = s.f.supplier_with_workers(2);
    // Already leased.
    let leased = s.workers[0];
    assert_error(s.f.add_workers(&s.renter, 1, &[leased]), TimelockError::WorkerUnavailable);
    // Unavailable.
    let index = s.f.account::<timelock::state::Worker>(&workers2[0].worker).worker_index;
    s.f.exec(ix::worker_set_available(supplier2.key(), index, false), &[&supplier2.authority]);
    assert_error(s.f.add_workers(&s.renter, 1, &[workers2[0]]), TimelockError::WorkerUnavailable);
    // A worker paired with another supplier's account.
    let mismatched = ix::WorkerRef { worker: workers2[1].worker, supplier: s.supplier.supplier() };
    assert_error(s.f.add_workers(&s.renter, 1, &[mismatched]), TimelockError::InvalidBookingAccounts);
    // A lease address that is not the canonical PDA.
    let mut ix = ix::cluster_add_workers(s.f.payment(&s.renter, 1), &[s.f.as_listed(&workers2[1])]);
    let last = ix.accounts.len() - 1;
    ix.accounts[last].pubkey = anchor_lang::prelude::Pubkey::new_unique();
    assert_error(s.f.send(&[ix], &[&s.renter.authority]), TimelockError::InvalidLeaseAddress);
    // Accounts not in triples.
    let mut ix = ix::cluster_add_workers(s.f.payment(&s.renter, 1), &[s.f.as_listed(&workers2[1])]);
    ix.accounts.pop();
    assert_error(s.f.send(&[ix], &[&s.renter.authority]), TimelockError::InvalidBookingAccounts);
    // Not enough free stake for the collateral: the supplier unbonds everything that is free.
    let free = s.f.supplier_account(&supplier2).free_stake().unwrap();
    s.f.exec(ix::stake_unbond(supplier2.key(), free), &[&supplier2.authority]);
    assert_error(s.f.add_workers(&s.renter, 1, &[workers2[1]]), TimelockError::InsufficientFreeStake);
    // Someone else's cluster.
    let intruder = s.f.renter(1_000 * ONE_USDC);
    let mut ix = ix::cluster_add_workers(s.f.payment(&intruder, 1), &[s.f.as_listed(&workers2[1])]);
    let victims_cluster = s.f.cluster_address(&s.renter, 1);
    ix.accounts[2].pubkey = victims_cluster;
    ix.accounts[3].pubkey = pda::escrow(&victims_cluster).0;
    assert_error(s.f.send(&[ix], &[&intruder.authority]), AnchorError::ConstraintSeeds);
}

#[test]
fn cluster_hours_are_validated() {
    let mut f = TestFixture::new();
    let renter = f.renter(ONE_USDC);
    assert_error(f.create_cluster(&renter, 1, 0), TimelockError::InvalidClusterHours);
    assert_error(f.create_cluster(&renter, 1, 24 * 366 + 1), TimelockError::InvalidClusterHours);
    f.create_cluster(&renter, 1, 1).unwrap();
    assert!(f.create_cluster(&renter, 1, 1).is_err(), "same cluster id twice");
}
