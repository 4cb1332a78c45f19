//! Items 1 and 2: settlement stays live whatever the renter does, and dispute resolutions stick.

use super::*;

// 1. Liveness ------------------------------------------------------------------------------------------------

#[test]
fn item1_a_renter_that_closes_its_token_accounts_cannot_freeze_settlement() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(3_000, 0);
    // The renter empties and closes both of its token accounts (payment and stake).
    let renter = s.renter.authority.insecure_clone();
    let sink = s.f.token_account(s.f.payment_mint, &Pubkey::new_unique());
    let balance = s.f.token_balance(&s.renter.payment_tokens);
    let token_program = timelock_sdk::TOKEN_PROGRAM_ID;
    let drain = anchor_spl::token::spl_token::instruction::transfer(
        &token_program,
        &s.renter.payment_tokens,
        &sink,
        &renter.pubkey(),
        &[],
        balance,
    )
    .unwrap();
    let close = |account: &Pubkey| {
        anchor_spl::token::spl_token::instruction::close_account(
            &token_program,
            account,
            &renter.pubkey(),
            &renter.pubkey(),
            &[],
        )
        .unwrap()
    };
    s.f.send(&[drain, close(&s.renter.payment_tokens), close(&s.renter.stake_tokens)], &[&renter]).unwrap();
    assert!(!s.f.exists(&s.renter.payment_tokens));

    // Any cranker opens token accounts for the renter (associated accounts are permissionless) and settles to
    // the end: the refund reaches the renter there.
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    let renter_key = s.renter.key();
    let (payment_mint, stake_mint) = (s.f.payment_mint, s.f.stake_mint);
    s.renter.payment_tokens = s.f.funded_ata(&renter_key, payment_mint, 0);
    s.renter.stake_tokens = s.f.funded_ata(&renter_key, stake_mint, 0);
    assert!(s.settle_until_closed(0), "the lease closes");
    let gross = 13_333_333; // 3,000 s of 16 USDC/h
    assert_eq!(s.f.token_balance(&s.renter.payment_tokens), RATE - gross);
}

// 2. Resolutions stick ---------------------------------------------------------------------------------------

#[test]
fn item2_a_resolved_span_never_comes_back_through_stale_votes() {
    let mut s = Story::booked(1, 2);
    let window = s.an_hour_attested(3_600, 0);
    renter_disputes(&mut s).unwrap();
    // The admin finds that only half the hour was the renter's.
    let renter_tokens = s.renter.payment_tokens;
    resolve(&mut s, renter_tokens, 1_800, 0, true);
    assert_eq!(s.lease(0).proven_secs, 1_800);

    // From the decision on, oracles report what they saw since it. An oracle still sending its old cumulative
    // count (3,660 s since the start) is held to the 60 s the decision has been standing, and alone it is no
    // quorum. Before the fix, its stale 3,600 and the other oracle's made a quorum and the half-hour came back.
    s.f.warp(60);
    let later = s.f.now();
    let lease = s.lease_address(0);
    s.f.attest(0, later, &[(lease, 3_660, 0)]).unwrap();
    assert_eq!(s.lease(0).proven_secs, 1_800, "one oracle cannot bring the resolved span back");
    // A window from before the decision is never counted again, whoever re-sends it.
    s.f.attest(2, window, &[(lease, 3_600, 0)]).unwrap();
    assert_eq!(s.lease(0).proven_secs, 1_800);
    // Once the quorum agrees on the new minute, only that minute is added to the decision.
    s.f.attest(1, later, &[(lease, 60, 0)]).unwrap();
    assert_eq!(s.lease(0).proven_secs, 1_860);

    // Settlement pays the decision plus the minute, never the disputed half-hour.
    s.f.warp(DISPUTE_WINDOW);
    s.settle(0);
    assert_eq!(s.lease(0).gross_paid, RATE * 1_860 / 3_600);
}

#[test]
fn item2_a_decision_covers_its_span_and_the_time_after_it_is_still_attested() {
    let mut s = Story::booked(1, 2);
    let window = s.an_hour_attested(3_600, 0);
    s.f.warp(120);
    renter_disputes(&mut s).unwrap();
    // A decision cannot cover time that has not happened, nor reach back before the last decision.
    let admin = s.f.admin.insecure_clone();
    let payment = s.f.payment(&s.renter, 1);
    let (worker, tokens, treasury) = (s.workers[0].worker, s.renter.payment_tokens, s.f.treasury_payment_tokens);
    let decide =
        |as_of| ix::lease_dispute_resolve(admin.pubkey(), payment, worker, tokens, treasury, 1_800, 0, as_of, true);
    assert_error(s.f.send(&[decide(s.f.now() + 1)], &[&admin]), TimelockError::InvalidResolutionTime);
    assert_error(s.f.send(&[decide(GENESIS_TIME - 1)], &[&admin]), TimelockError::InvalidResolutionTime);
    // The admin decides the hour the oracles attested, as of their window: the two minutes since stay theirs.
    s.f.exec(decide(window), &[&admin]);
    assert_eq!(s.lease(0).resolved_at, window);
    s.f.warp(60);
    let later = s.f.now();
    // An oracle that judged before the decision landed names the earlier resolution: refused, not added.
    let lease = s.lease_address(0);
    let stale = timelock::LeaseReport { proven_secs: 3_780, faults: 0, resolution: 0 };
    let oracle = s.f.oracles[0].insecure_clone();
    let landed = s.f.send(&[ix::lease_attest(oracle.pubkey(), later, [0; 32], &[(lease, stale)])], &[&oracle]).unwrap();
    assert!(!landed.event::<timelock::events::LeasesAttested>().leases[0].accepted);
    // Counting from the decision, the quorum reports the 180 s since its window.
    s.attest_all(later, 180, 0);
    assert_eq!(s.lease(0).proven_secs, 1_800 + 180);
}

#[test]
fn item2_a_fault_decided_while_the_oracles_lagged_is_not_counted_twice() {
    let mut s = Story::booked(1, 2);
    // The quorum has not seen the fault yet; the renter disputes and the admin finds one fault.
    s.an_hour_attested(3_600, 0);
    renter_disputes(&mut s).unwrap();
    let renter_tokens = s.renter.payment_tokens;
    resolve(&mut s, renter_tokens, 3_600, 1, true);
    // The oracles then report the same fault: one of them from the lease's start (1 fault), the others since
    // the decision (none). The lease keeps the one fault decided.
    s.f.warp(300);
    let later = s.f.now();
    let lease = s.lease_address(0);
    s.f.attest(0, later, &[(lease, 3_900, 1)]).unwrap();
    s.f.attest(1, later, &[(lease, 300, 0)]).unwrap();
    s.f.attest(2, later, &[(lease, 300, 0)]).unwrap();
    assert_eq!((s.lease(0).faults, s.lease(0).proven_secs), (1, 3_900));
    s.f.warp(DISPUTE_WINDOW);
    assert_eq!(s.settle(0).slashed, SLASH_PER_FAULT, "slashed once");
}

#[test]
fn item2_a_report_meant_for_an_earlier_lease_at_the_same_address_changes_nothing() {
    let mut s = Story::booked(1, 1);
    let window = s.an_hour_attested(3_600, 1);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    assert!(s.settle_until_closed(0));
    // The renter closes the cluster and books the same worker again under the same cluster id: the new lease
    // has the old one's address.
    s.f.exec(ix::cluster_close(s.f.payment(&s.renter, 1)), &[&s.renter.authority]);
    s.f.warp(86_400);
    let unjail = ix::worker_unjail(s.supplier.key(), s.f.account::<Worker>(&s.workers[0].worker).worker_index);
    let _ = s.f.send(&[unjail], &[&s.supplier.authority]);
    s.f.create_cluster(&s.renter, 1, 1).unwrap();
    let workers = s.workers.clone();
    s.f.add_workers(&s.renter, 1, &workers).unwrap();
    // An oracle batch still in flight for the old lease lands: its window ended before the new lease began.
    let lease = s.lease_address(0);
    s.f.attest(1, window + 600, &[(lease, 3_600, 1)]).unwrap();
    s.f.attest(2, window + 600, &[(lease, 3_600, 1)]).unwrap();
    assert_eq!((s.lease(0).proven_secs, s.lease(0).faults), (0, 0), "nothing attested for the old lease counts");
}
