//! Rentals as stories: book → attest → settle → end → refund → close, and every way they can go wrong.

use anchor_lang::error::ErrorCode as AnchorError;
use timelock::events::{LeaseSettled, LeasesAttested, LeasesBooked};
use timelock_sdk::{ix, pda};
use timelock_tests::story::*;
use timelock_tests::*;

#[test]
fn a_renter_that_hands_its_wallet_to_another_program_cannot_freeze_settlement() {
    use anchor_lang::solana_program::system_instruction;
    use solana_signer::Signer;
    let mut s = Story::booked(1, 1);
    let paid_in = s.escrow();
    s.an_hour_attested(3_000, 0);
    // The renter's wallet stops being a system account: assigned to a program nobody controls.
    let wallet = s.renter.authority.insecure_clone();
    let elsewhere = anchor_lang::prelude::Pubkey::new_unique();
    s.f.send(&[system_instruction::assign(&wallet.pubkey(), &elsewhere)], &[&wallet]).expect("assign");
    assert_eq!(s.f.svm.get_account(&wallet.pubkey()).unwrap().owner, elsewhere);

    // A cranker still settles to the end: the supplier is paid, the renter refunded, the lease closed.
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    assert!(s.settle_until_closed(0), "the lease closes");
    let gross = 13_333_333;
    assert_eq!(s.f.token_balance(&s.renter.payment_tokens), 1_000_000 * ONE_USDC - gross);
    assert_eq!(s.escrow(), 0, "every unit of the {paid_in} escrowed was paid or refunded");
    let worker = s.f.account::<timelock::state::Worker>(&s.workers[0].worker);
    assert_eq!(worker.active_lease, anchor_lang::prelude::Pubkey::default(), "the worker is free again");
}

#[test]
fn a_lease_closed_since_the_oracle_read_it_does_not_fail_the_batch() {
    let mut s = Story::booked(2, 1);
    s.an_hour_attested(3_000, 0);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    assert!(s.settle_until_closed(0) && !s.f.exists(&s.lease_address(0)), "lease 0 settled and closed");

    // An oracle's batch read before the close still lists lease 0: lease 1's report lands regardless.
    let window = s.f.now();
    let reports = [(s.lease_address(0), 3_500, 0), (s.lease_address(1), 3_500, 0)];
    let attested: LeasesAttested = s.f.attest(0, window, &reports).expect("the batch lands").event();
    assert_eq!(attested.leases.len(), 1, "the closed lease is skipped");
    assert_eq!(attested.leases[0].lease, s.lease_address(1));
    assert!(attested.leases[0].accepted);
}

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
fn full_story_attest_settle_end_refund_close() {
    let mut s = Story::booked(2, 2);
    let deposited = s.escrow();

    // One hour in, oracles 0 and 1 attest 3,000 proven seconds for both leases (600 s offline).
    s.an_hour_attested(3_000, 0);
    assert_eq!(s.lease(0).proven_secs, 3_000);

    // Nothing is payable inside the dispute window.
    let settled = s.settle(0);
    assert_eq!((settled.paid_to_supplier, settled.fee, settled.closed), (0, 0, false));

    s.f.warp(DISPUTE_WINDOW);
    let settled = s.settle(0);
    // 3,000 s of 16 USDC/h = 13.333333 USDC, 5 % fee.
    let gross = 13_333_333;
    let fee = gross * 500 / 10_000;
    assert_eq!((settled.paid_to_supplier, settled.fee), (gross - fee, fee));
    assert_eq!(s.f.token_balance(&s.f.treasury_payment_tokens), fee);
    assert_eq!(s.earnings(), gross - fee);
    assert_eq!(s.f.supplier_account(&s.supplier).earnings_unclaimed, gross - fee);

    // Settling again pays nothing twice.
    let again = s.settle(0);
    assert_eq!((again.paid_to_supplier, again.fee), (0, 0));

    // To the end of the booking: 6,600 s proven of 7,200.
    s.an_hour_attested(6_600, 0);
    // After the end, an epoch for the last attestation and the dispute window, both leases close.
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    for i in 0..2 {
        assert!(s.settle_until_closed(i), "lease {i} closes");
        assert!(!s.f.exists(&s.lease_address(i)));
    }
    let cluster = s.f.cluster(&s.renter, 1);
    assert_eq!(cluster.leases_open, 0);
    let gross_per_lease = 29_333_333; // 6,600 s × 16 USDC / 3,600, rounded down
    let fee_per_lease = gross_per_lease * 500 / 10_000;
    assert_eq!(cluster.paid_to_suppliers, 2 * (gross_per_lease - fee_per_lease));
    assert_eq!(cluster.fees, 2 * fee_per_lease);
    assert_eq!(cluster.refunded, 2 * (2 * RATE - gross_per_lease));
    // Conservation to the unit: escrow in = paid + fees + refunds, and escrow is empty.
    assert_eq!(cluster.paid_to_suppliers + cluster.fees + cluster.refunded, deposited);
    assert_eq!(s.escrow(), 0);
    let supplier = s.f.supplier_account(&s.supplier);
    assert_eq!((supplier.locked, supplier.active_leases), (0, 0));
    let worker = s.f.account::<timelock::state::Worker>(&s.workers[0].worker);
    assert_eq!(worker.active_lease, anchor_lang::prelude::Pubkey::default());

    // The supplier claims; the renter closes the cluster and gets rent back.
    let claim = ix::rewards_claim(
        s.supplier.key(),
        s.f.payment_mint,
        s.supplier.payment_tokens,
        timelock_sdk::TOKEN_PROGRAM_ID,
    );
    s.f.exec(claim.clone(), &[&s.supplier.authority]);
    assert_eq!(s.f.token_balance(&s.supplier.payment_tokens), cluster.paid_to_suppliers);
    assert_error(s.f.send(&[claim], &[&s.supplier.authority]), TimelockError::NothingToClaim);
    let close = ix::cluster_close(s.f.payment(&s.renter, 1));
    s.f.exec(close, &[&s.renter.authority]);
    assert!(!s.f.exists(&s.f.cluster_address(&s.renter, 1)));
    assert_eq!(
        s.f.token_balance(&s.renter.payment_tokens),
        1_000_000 * ONE_USDC - cluster.paid_to_suppliers - cluster.fees
    );
}

#[test]
fn below_threshold_nothing_is_agreed_and_one_liar_cannot_inflate() {
    let mut s = Story::booked(1, 1);
    s.f.warp(HOUR);
    let window = s.f.now();
    let lease = s.lease_address(0);
    let landed = s.f.attest(0, window, &[(lease, 3_600, 0)]).unwrap();
    assert!(landed.event::<LeasesAttested>().leases[0].accepted);
    assert_eq!(s.lease(0).proven_secs, 0, "one of three oracles is below the threshold of two");
    s.f.attest(1, window, &[(lease, 1_200, 0)]).unwrap();
    assert_eq!(s.lease(0).proven_secs, 1_200, "the quorum agrees on 1,200, not the liar's 3,600");
    s.f.attest(2, window, &[(lease, 2_400, 0)]).unwrap();
    assert_eq!(s.lease(0).proven_secs, 2_400);
}

#[test]
fn replayed_and_stale_attestations_change_nothing() {
    let mut s = Story::booked(1, 1);
    s.f.warp(HOUR);
    let window = s.f.now();
    let lease = s.lease_address(0);
    s.attest_all(window, 1_800, 1);
    let before = s.lease(0);
    // The same window again (a replay with other values) and an older window are both ignored.
    let replay = s.f.attest(0, window, &[(lease, 3_600, 0)]).unwrap();
    assert!(!replay.event::<LeasesAttested>().leases[0].accepted);
    let stale = s.f.attest(1, window - 60, &[(lease, 3_600, 5)]).unwrap();
    assert!(!stale.event::<LeasesAttested>().leases[0].accepted);
    let after = s.lease(0);
    assert_eq!((after.proven_secs, after.faults, after.votes), (before.proven_secs, before.faults, before.votes));
    // A later window with lower values cannot decrease anything.
    s.f.warp(60);
    let later = s.f.now();
    s.attest_all(later, 100, 0);
    assert_eq!((s.lease(0).proven_secs, s.lease(0).faults), (1_800, 1));
}

#[test]
fn attestations_are_capped_by_elapsed_time() {
    let mut s = Story::booked(1, 1);
    s.f.warp(600);
    let window = s.f.now();
    s.attest_all(window, 3_600, 0);
    assert_eq!(s.lease(0).proven_secs, 600);
}

#[test]
fn attestation_failures() {
    let mut s = Story::booked(1, 1);
    s.f.warp(HOUR);
    let window = s.f.now();
    let lease = s.lease_address(0);
    // A non-member.
    let outsider = s.f.actor();
    let report = timelock::LeaseReport { proven_secs: 3_600, faults: 0, resolution: 0 };
    let ix = ix::lease_attest(outsider.pubkey(), window, &[(lease, report)]);
    assert_error(s.f.send(&[ix], &[&outsider]), TimelockError::NotOracle);
    // A window in the future.
    assert_error(s.f.attest(0, window + 1, &[(lease, 1, 0)]), TimelockError::WindowInFuture);
    // Reports not matching the accounts.
    let oracle = s.f.oracles[0].insecure_clone();
    let mut ix = ix::lease_attest(oracle.pubkey(), window, &[(lease, report)]);
    ix.accounts.pop();
    assert_error(s.f.send(&[ix], &[&oracle]), TimelockError::ReportCountMismatch);
    // A lease passed read-only.
    let mut ix = ix::lease_attest(oracle.pubkey(), window, &[(lease, report)]);
    ix.accounts.last_mut().unwrap().is_writable = false;
    assert_error(s.f.send(&[ix], &[&oracle]), AnchorError::AccountNotMutable);
    // Another account type posing as a lease (type cosplay), and a lease owned by someone else.
    let worker = s.workers[0].worker;
    assert_error(s.f.attest(0, window, &[(worker, 1, 0)]), AnchorError::AccountDiscriminatorMismatch);
    let lease_account = s.f.svm.get_account(&lease).unwrap();
    let forged = anchor_lang::prelude::Pubkey::new_unique();
    s.f.svm
        .set_account(
            forged,
            solana_account::Account { owner: anchor_lang::solana_program::system_program::ID, ..lease_account },
        )
        .unwrap();
    assert_error(s.f.attest(0, window, &[(forged, 1, 0)]), AnchorError::AccountOwnedByWrongProgram);
}

#[test]
fn cheating_worker_is_slashed_jailed_and_unjailed_after_cool_down() {
    let mut s = Story::booked(1, 2);
    let staked_before = s.f.supplier_account(&s.supplier).staked;
    // Oracles saw a foreign process three times: three faults. Like seconds, they wait out the dispute window.
    s.an_hour_attested(1_800, 3);
    assert_eq!(s.settle(0).slashed, 0, "nothing is slashed before the faults are final");
    s.f.warp(DISPUTE_WINDOW);
    let settled = s.settle(0);
    // Three faults of two hours' value each would take 96 stake tokens; the lease's own 64 are all they take.
    let slash = COLLATERAL;
    assert!(3 * SLASH_PER_FAULT > slash);
    assert_eq!((settled.slashed, settled.slash_to_renter), (slash, slash / 2));
    assert_eq!(s.f.token_balance(&s.renter.stake_tokens), slash / 2);
    assert_eq!(s.f.token_balance(&s.f.treasury_stake_tokens), slash - slash / 2);
    assert_eq!(s.f.supplier_account(&s.supplier).staked, staked_before - slash);
    assert_eq!(s.f.supplier_account(&s.supplier).slashed_total, slash);
    let worker = s.f.account::<timelock::state::Worker>(&s.workers[0].worker);
    assert_eq!(worker.jailed_until, s.f.now() + 86_400);
    assert_eq!(settled.jailed_until, worker.jailed_until);
    // The same faults are never slashed twice.
    assert_eq!(s.settle(0).slashed, 0);

    // A jailed worker cannot be booked, nor unjailed before its cool-down.
    let renter2 = s.f.renter(1_000 * ONE_USDC);
    s.f.create_cluster(&renter2, 7, 1).unwrap();
    let worker_ref = s.workers[0];
    assert_error(s.f.add_workers(&renter2, 7, &[worker_ref]), TimelockError::WorkerJailed);
    let index = s.f.account::<timelock::state::Worker>(&worker_ref.worker).worker_index;
    assert_error(
        s.f.send(&[ix::worker_unjail(s.supplier.key(), index)], &[&s.supplier.authority]),
        TimelockError::WorkerNotUnjailable,
    );
    s.f.warp(86_400);
    s.f.exec(ix::worker_unjail(s.supplier.key(), index), &[&s.supplier.authority]);
    assert_eq!(s.f.account::<timelock::state::Worker>(&worker_ref.worker).jailed_until, 0);
}

#[test]
fn renter_ends_early_and_unproven_time_is_refunded() {
    let mut s = Story::booked(1, 10);
    let window = s.an_hour_attested(3_600, 0);
    s.f.exec(ix::cluster_end(s.renter.key(), 1), &[&s.renter.authority]);
    let cluster = s.f.cluster(&s.renter, 1);
    assert_eq!(cluster.end_ts, window);
    // Later attestations cannot be paid beyond the end.
    s.f.warp(EPOCH);
    let later = s.f.now();
    s.attest_all(later, 3_600 + 300, 0);
    s.f.warp(DISPUTE_WINDOW);
    let mut total_refund = 0;
    let mut total_paid = 0;
    for _ in 0..4 {
        let settled = s.settle(0);
        total_refund += settled.refund;
        total_paid += settled.paid_to_supplier + settled.fee;
        if settled.closed {
            break;
        }
        s.f.warp(DISPUTE_WINDOW);
    }
    assert_eq!(total_paid, RATE, "exactly the one proven hour");
    assert_eq!(total_refund, 9 * RATE);
    assert_error(
        s.f.send(&[ix::cluster_end(s.renter.key(), 1)], &[&s.renter.authority]),
        TimelockError::ClusterNotOpen,
    );
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

#[test]
fn paused_program_refuses_bookings_but_settles_and_pays() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(3_600, 0);
    let admin = s.f.admin.insecure_clone();
    s.f.exec(ix::pause(admin.pubkey()), &[&admin]);
    assert_error(s.f.create_cluster(&s.renter, 2, 1), TimelockError::Paused);
    assert_error(s.f.extend(&s.renter, 1, 1), TimelockError::Paused);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    let settled = s.settle(0);
    assert_eq!(settled.paid_to_supplier + settled.fee, RATE);
    let claim = ix::rewards_claim(
        s.supplier.key(),
        s.f.payment_mint,
        s.supplier.payment_tokens,
        timelock_sdk::TOKEN_PROGRAM_ID,
    );
    s.f.exec(claim, &[&s.supplier.authority]);
}

#[test]
fn settlement_pays_only_the_leases_own_parties() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(3_600, 0);
    s.f.warp(DISPUTE_WINDOW);
    let thief = s.f.renter(0);
    let worker = s.workers[0];
    let cranker = s.f.actor();
    // Refund to the thief's token account.
    let mut accounts = s.f.settle_accounts(&s.renter, 1, &worker);
    accounts.renter_payment_tokens = thief.payment_tokens;
    assert_error(s.f.send(&[ix::lease_settle(accounts)], &[&cranker]), AnchorError::ConstraintTokenOwner);
    // Fees to a treasury account that is not the treasury's.
    let mut accounts = s.f.settle_accounts(&s.renter, 1, &worker);
    accounts.treasury_payment_tokens = thief.payment_tokens;
    assert_error(s.f.send(&[ix::lease_settle(accounts)], &[&cranker]), AnchorError::ConstraintTokenOwner);
    // Supplier earnings into a substitute vault.
    let mut ix = ix::lease_settle(s.f.settle_accounts(&s.renter, 1, &worker));
    ix.accounts[6].pubkey = thief.payment_tokens;
    assert_error(s.f.send(&[ix], &[&cranker]), TimelockError::InvalidVault);
    // The lease's rent to the cranker's own wallet: the renter's account is unchecked but pinned by address.
    let mut ix = ix::lease_settle(s.f.settle_accounts(&s.renter, 1, &worker));
    assert_eq!(ix.accounts[14].pubkey, s.renter.key(), "the renter's wallet is the 15th account");
    ix.accounts[14].pubkey = solana_signer::Signer::pubkey(&cranker);
    assert_error(s.f.send(&[ix], &[&cranker]), TimelockError::NotLeaseParty);
    // Another supplier's account for this lease.
    let (other, _) = s.f.supplier_with_workers(1);
    let mut accounts = s.f.settle_accounts(&s.renter, 1, &worker);
    accounts.supplier = other.supplier();
    assert_error(s.f.send(&[ix::lease_settle(accounts)], &[&cranker]), AnchorError::ConstraintHasOne);
    assert_eq!(s.escrow(), RATE, "nothing moved");
}

#[test]
fn dispute_freezes_payouts_until_resolved() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(3_600, 0);
    let payment = s.f.payment(&s.renter, 1);
    let worker = s.workers[0];
    // A stranger cannot dispute.
    let stranger = s.f.renter(100 * ONE_USDC);
    let ix = ix::lease_dispute(stranger.key(), stranger.payment_tokens, payment, worker.worker, worker.supplier);
    assert_error(s.f.send(&[ix], &[&stranger.authority]), TimelockError::NotLeaseParty);
    // The renter disputes with a 10 USDC bond.
    let ix = ix::lease_dispute(s.renter.key(), s.renter.payment_tokens, payment, worker.worker, worker.supplier);
    s.f.exec(ix.clone(), &[&s.renter.authority]);
    assert_eq!(s.escrow(), RATE + 10 * ONE_USDC);
    assert_error(s.f.send(&[ix], &[&s.renter.authority]), TimelockError::DisputeOpen);
    // Past the window nothing is paid while the dispute is open.
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    let settled = s.settle(0);
    assert_eq!((settled.paid_to_supplier, settled.closed), (0, false));
    // Only the admin resolves; the renter was right: 1,800 s, bond returned.
    let admin = s.f.admin.insecure_clone();
    let (renter_tokens, treasury_tokens) = (s.renter.payment_tokens, s.f.treasury_payment_tokens);
    let as_of = s.f.now();
    let resolve = |proven, upheld, signer: anchor_lang::prelude::Pubkey| {
        let (renter, treasury) = (renter_tokens, treasury_tokens);
        ix::lease_dispute_resolve(signer, payment, worker.worker, renter, treasury, proven, 0, as_of, upheld)
    };
    let intruder = s.f.actor();
    assert_error(s.f.send(&[resolve(1_800, true, intruder.pubkey())], &[&intruder]), TimelockError::NotAdmin);
    let renter_before = s.f.token_balance(&s.renter.payment_tokens);
    s.f.exec(resolve(1_800, true, admin.pubkey()), &[&admin]);
    assert_eq!(s.f.token_balance(&s.renter.payment_tokens), renter_before + 10 * ONE_USDC);
    assert_error(s.f.send(&[resolve(1_800, true, admin.pubkey())], &[&admin]), TimelockError::NoDispute);
    let settled = s.settle(0);
    assert_eq!(settled.paid_to_supplier + settled.fee, RATE / 2);
    assert!(settled.closed);
    assert_eq!(settled.refund, RATE / 2);
    assert_eq!(s.escrow(), 0);
}

#[test]
fn rejected_dispute_forfeits_the_bond_and_cannot_lower_final_seconds() {
    let mut s = Story::booked(1, 2);
    s.an_hour_attested(3_600, 0);
    s.f.warp(DISPUTE_WINDOW);
    s.settle(0);
    assert_eq!(s.lease(0).final_secs, 3_600);
    let payment = s.f.payment(&s.renter, 1);
    let worker = s.workers[0];
    // The supplier disputes (e.g. it believes more time was proven).
    let ix = ix::lease_dispute(s.supplier.key(), s.supplier.payment_tokens, payment, worker.worker, worker.supplier);
    s.f.mint_to(s.f.payment_mint, s.supplier.payment_tokens, 10 * ONE_USDC);
    s.f.exec(ix, &[&s.supplier.authority]);
    let admin = s.f.admin.insecure_clone();
    let (supplier_tokens, treasury_tokens, admin_key) =
        (s.supplier.payment_tokens, s.f.treasury_payment_tokens, admin.pubkey());
    let as_of = s.f.now();
    let resolve = |proven| {
        let (supplier, treasury) = (supplier_tokens, treasury_tokens);
        ix::lease_dispute_resolve(admin_key, payment, worker.worker, supplier, treasury, proven, 0, as_of, false)
    };
    assert_error(s.f.send(&[resolve(3_000)], &[&admin]), TimelockError::ResolutionBelowFinal);
    let elapsed = (s.f.now() - GENESIS_TIME) as u64;
    assert_error(s.f.send(&[resolve(elapsed + 1)], &[&admin]), TimelockError::ResolutionBeyondElapsed);
    let treasury_before = s.f.token_balance(&s.f.treasury_payment_tokens);
    s.f.exec(resolve(3_600), &[&admin]);
    assert_eq!(s.f.token_balance(&s.f.treasury_payment_tokens), treasury_before + 10 * ONE_USDC);
}

#[test]
fn incentive_pool_pays_emissions_pro_rata_to_what_renters_paid() {
    let mut f = TestFixture::new();
    let stake_program = f.stake_token_program;
    let emission = 1_000 * ONE_STAKE;
    let admin_tokens = f.enable_incentives(emission, 4 * HOUR, 1_500 * ONE_STAKE);
    let intruder = f.actor();
    let steal = ix::incentives_fund(intruder.pubkey(), f.stake_mint, admin_tokens, stake_program, 1);
    assert_error(f.send(&[steal], &[&intruder]), TimelockError::NotAdmin);

    let (alice, alice_workers) = f.supplier_with_workers(1);
    let (bob, bob_workers) = f.supplier_with_workers(1);
    let renter = f.renter(1_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 2).unwrap();
    let workers = [alice_workers[0], bob_workers[0]];
    f.add_workers(&renter, 1, &workers).unwrap();
    f.warp(HOUR);
    let now = f.now();
    let reports =
        [(f.lease_address(&renter, 1, &workers[0]), 3_600, 0), (f.lease_address(&renter, 1, &workers[1]), 1_800, 0)];
    f.attest_quorum(2, now, &reports);
    f.warp(DISPUTE_WINDOW);

    // Without the incentive accounts a settlement is refused, so no final second escapes crediting.
    let cranker = f.actor();
    let bare = ix::lease_settle(f.settle_accounts(&renter, 1, &workers[0]));
    assert_error(f.send(&[bare], &[&cranker]), TimelockError::IncentiveAccountsMissing);
    let credited: Vec<u64> =
        workers.iter().map(|w| f.settle(&renter, 1, w).unwrap().event::<LeaseSettled>().incentive_credit).collect();
    // Credit is what the renter paid for final seconds: an hour and half an hour of 16 USDC/h.
    assert_eq!(credited, vec![16 * ONE_USDC, 8 * ONE_USDC]);
    // Settling again credits nothing twice.
    assert_eq!(f.settle(&renter, 1, &workers[0]).unwrap().event::<LeaseSettled>().incentive_credit, 0);

    let pool: timelock::state::IncentivePool = f.account(&pda::incentive_pool().0);
    let epoch = pool.epoch_at(f.now());
    let claim = |f: &mut TestFixture, supplier: &SupplierActor| {
        let record: timelock::state::SupplierIncentive =
            f.account(&pda::supplier_incentive(&supplier.supplier(), epoch).0);
        let ix = ix::incentives_claim(
            supplier.key(),
            epoch,
            record.rent_payer,
            f.stake_mint,
            supplier.stake_tokens,
            f.stake_token_program,
        );
        f.send(&[ix], &[&supplier.authority])
    };
    assert_error(claim(&mut f, &alice), TimelockError::EpochNotOver);
    f.set_time(pool.epoch_end(epoch));
    let before = (f.token_balance(&alice.stake_tokens), f.token_balance(&bob.stake_tokens));
    claim(&mut f, &alice).unwrap();
    claim(&mut f, &bob).unwrap();
    // 2/3 and 1/3 of the epoch's 1,000, rounded down; the remainder stays in the pool.
    assert_eq!(f.token_balance(&alice.stake_tokens) - before.0, 666_666_666_666);
    assert_eq!(f.token_balance(&bob.stake_tokens) - before.1, 333_333_333_333);
    assert!(!f.exists(&pda::supplier_incentive(&alice.supplier(), epoch).0), "the record closed");
    let record = pda::supplier_incentive(&alice.supplier(), epoch).0;
    let again = ix::incentives_claim(
        alice.key(),
        epoch,
        cranker.pubkey(),
        f.stake_mint,
        alice.stake_tokens,
        f.stake_token_program,
    );
    assert!(f.send(&[again], &[&alice.authority]).is_err(), "{record} cannot be claimed twice");
    let epoch_account: timelock::state::IncentiveEpoch = f.account(&pda::incentive_epoch(epoch).0);
    assert_eq!((epoch_account.emission, epoch_account.credit), (emission, 24 * ONE_USDC));
}
