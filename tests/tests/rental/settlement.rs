//! Settlement to the end: payouts, the renter ending early, refunds and close, a paused program, and who may be paid.

use super::*;

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
    assert_eq!((settled.paid_to_supplier, settled.fee, settled.fees_to_treasury), (gross - fee, fee, 0));
    // The fee is charged now and stays in escrow until the lease closes.
    assert_eq!(s.f.token_balance(&s.f.treasury_payment_tokens), 0);
    assert_eq!(s.escrow(), deposited - (gross - fee));
    assert_eq!(s.earnings(), gross - fee);
    assert_eq!(s.f.supplier_account(&s.supplier).earnings_unclaimed, gross - fee);

    // Settling again pays nothing twice.
    let again = s.settle(0);
    assert_eq!((again.paid_to_supplier, again.fee), (0, 0));

    // To the end of the booking: 6,600 s proven of 7,200.
    s.an_hour_attested(6_600, 0);
    // After the end, an epoch for the last attestation and the dispute window, both leases close.
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    let gross_per_lease = 29_333_333; // 6,600 s × 16 USDC / 3,600, rounded down
    let fee_per_lease = gross_per_lease * 500 / 10_000;
    for i in 0..2 {
        let treasury_before = s.f.token_balance(&s.f.treasury_payment_tokens);
        assert!(s.settle_until_closed(i), "lease {i} closes");
        assert!(!s.f.exists(&s.lease_address(i)));
        // Its close sent the treasury every fee the lease charged, those of earlier settlements included.
        let treasury = s.f.token_balance(&s.f.treasury_payment_tokens);
        assert_eq!(treasury - treasury_before, fee_per_lease, "lease {i}'s fees reach the treasury at its close");
    }
    let cluster = s.f.cluster(&s.renter, 1);
    assert_eq!(cluster.leases_open, 0);
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
    let claim = ix::earnings_claim(
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
    let claim = ix::earnings_claim(
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
    assert_error(s.f.send(&[ix], &[&cranker]), TimelockError::NotClusterRenter);
    // Another supplier's account for this lease.
    let (other, _) = s.f.supplier_with_workers(1);
    let mut accounts = s.f.settle_accounts(&s.renter, 1, &worker);
    accounts.supplier = other.supplier();
    assert_error(s.f.send(&[ix::lease_settle(accounts)], &[&cranker]), AnchorError::ConstraintHasOne);
    assert_eq!(s.escrow(), RATE, "nothing moved");
}
