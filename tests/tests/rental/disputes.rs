//! Disputes: payouts frozen until the oracle quorum's re-judgments or the admin decide, and a rejected dispute's
//! bond.

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

/// The associated token account the quorum's decision pays a party's bond to.
fn ata_of(s: &Story, owner: &anchor_lang::prelude::Pubkey) -> anchor_lang::prelude::Pubkey {
    anchor_spl::associated_token::get_associated_token_address_with_program_id(
        owner,
        &s.f.payment_mint,
        &anchor_spl::token::ID,
    )
}

#[test]
fn the_oracle_quorums_re_judgment_decides_a_dispute_without_the_admin() {
    let mut s = Story::booked(1, 1);
    let window = s.an_hour_attested(3_600, 0);
    let (payment, worker) = (s.f.payment(&s.renter, 1), s.workers[0]);
    let ix = ix::lease_dispute(s.renter.key(), s.renter.payment_tokens, payment, worker.worker, worker.supplier);
    s.f.exec(ix, &[&s.renter.authority]);
    let lease = s.lease(0);
    assert_eq!((lease.disputed_secs, lease.disputed_faults, lease.disputed_as_of), (3_600, 0, window));
    s.f.warp(EPOCH);

    // Nobody but an oracle of the set re-judges.
    let intruder = s.f.actor();
    let treasury = s.f.config().params.treasury;
    let forged = ix::lease_dispute_verdict(
        intruder.pubkey(),
        payment,
        worker.worker,
        s.renter.key(),
        treasury,
        0,
        0,
        0,
        [0; 32],
    );
    assert_error(s.f.send(&forged, &[&intruder]), TimelockError::NotOracle);
    // One oracle finds half the hour unproven: not a quorum yet, nothing moves.
    s.f.dispute_verdict(0, &s.renter, 1, &worker, (1_800, 0)).expect("first verdict");
    assert!(s.lease(0).is_disputed());
    assert_error(s.f.dispute_verdict(0, &s.renter, 1, &worker, (0, 0)), TimelockError::VerdictAlreadyGiven);
    // A second agrees: the quorum decides, final at once, as of the contested window; the renter was right.
    let renter_ata = ata_of(&s, &s.renter.key());
    s.f.dispute_verdict(1, &s.renter, 1, &worker, (1_800, 0)).expect("second verdict");
    let lease = s.lease(0);
    assert!(!lease.is_disputed());
    assert_eq!((lease.proven_secs, lease.final_secs, lease.resolved_at), (1_800, 1_800, window));
    assert_eq!(s.f.token_balance(&renter_ata), 10 * ONE_USDC, "an upheld dispute gets its bond back");
    assert_error(s.f.dispute_verdict(2, &s.renter, 1, &worker, (1_800, 0)), TimelockError::NoDispute);
    let settled = s.settle(0);
    assert_eq!(settled.paid_to_supplier + settled.fee, RATE / 2);
    assert_eq!(settled.refund, RATE / 2);
}

#[test]
fn a_dispute_the_quorums_re_judgment_does_not_support_forfeits_its_bond_and_claims_are_capped() {
    let mut s = Story::booked(1, 2);
    let window = s.an_hour_attested(1_800, 0);
    let (payment, worker) = (s.f.payment(&s.renter, 1), s.workers[0]);
    // The supplier disputes, believing more than half the hour was proven.
    s.f.mint_to(s.f.payment_mint, s.supplier.payment_tokens, 10 * ONE_USDC);
    let ix = ix::lease_dispute(s.supplier.key(), s.supplier.payment_tokens, payment, worker.worker, worker.supplier);
    s.f.exec(ix, &[&s.supplier.authority]);
    // An oracle cannot claim more seconds than the contested window had; the quorum confirms the attested half.
    s.f.dispute_verdict(0, &s.renter, 1, &worker, (u64::MAX, 0)).expect("capped");
    let votes = s.lease(0).votes;
    let elapsed = (window - GENESIS_TIME) as u64;
    assert!(votes.iter().any(|v| v.verdict_secs == elapsed), "capped at the window's elapsed time");
    let supplier_before = s.f.token_balance(&s.supplier.payment_tokens);
    s.f.dispute_verdict(2, &s.renter, 1, &worker, (1_800, 0)).expect("second verdict");
    assert!(s.lease(0).is_disputed(), "two that disagree wait for the third");
    s.f.dispute_verdict(1, &s.renter, 1, &worker, (1_800, 0)).expect("the deciding verdict");
    let lease = s.lease(0);
    assert_eq!((lease.proven_secs, lease.final_secs, lease.is_disputed()), (1_800, 1_800, false));
    let treasury = ata_of(&s, &s.f.config().params.treasury);
    assert_eq!(s.f.token_balance(&treasury), 10 * ONE_USDC, "a rejected dispute's bond goes to the treasury");
    assert_eq!(s.f.token_balance(&s.supplier.payment_tokens), supplier_before);
    // Oracles report again from the decision's time on.
    s.f.warp(HOUR);
    let now = s.f.now();
    s.attest_all(now, 3_600, 0);
    assert_eq!(s.lease(0).proven_secs, 1_800 + 3_600);
}

#[test]
fn one_oracle_cannot_decide_a_dispute_and_verdicts_that_disagree_wait_for_the_rest() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(3_600, 0);
    let (payment, worker) = (s.f.payment(&s.renter, 1), s.workers[0]);
    let ix = ix::lease_dispute(s.renter.key(), s.renter.payment_tokens, payment, worker.worker, worker.supplier);
    s.f.exec(ix, &[&s.renter.authority]);
    // A verdict judged for another dispute than the one open is refused.
    let oracle = s.f.oracles[0].insecure_clone();
    let (treasury, opened) = (s.f.config().params.treasury, s.lease(0).dispute_opened_at);
    let stale = ix::lease_dispute_verdict(
        oracle.pubkey(),
        payment,
        worker.worker,
        s.renter.key(),
        treasury,
        opened - 1,
        0,
        0,
        [0; 32],
    );
    assert_error(s.f.send(&stale, &[&oracle]), TimelockError::VerdictForAnotherDispute);
    // A lying oracle finds nothing proven; an honest one finds the hour: two of three disagree, nothing is decided.
    s.f.dispute_verdict(0, &s.renter, 1, &worker, (0, 0)).expect("the liar's verdict");
    s.f.dispute_verdict(1, &s.renter, 1, &worker, (3_600, 0)).expect("an honest verdict");
    assert!(s.lease(0).is_disputed(), "the third verdict could still move the quorum");
    // The third, honest, settles it: what two of three find, the hour; the renter's dispute is rejected.
    s.f.dispute_verdict(2, &s.renter, 1, &worker, (3_600, 0)).expect("the deciding verdict");
    let lease = s.lease(0);
    assert_eq!((lease.is_disputed(), lease.proven_secs, lease.final_secs), (false, 3_600, 3_600));
    assert_eq!(s.f.token_balance(&ata_of(&s, &treasury)), 10 * ONE_USDC, "the bond is forfeited");
}
