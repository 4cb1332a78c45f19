//! Disputes: payouts frozen until the admin resolves, and a rejected dispute's bond.

use super::*;

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
