//! Attestation: the oracles' quorum, replays and stale windows, the elapsed-time cap, and refused reports.

use super::*;

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
    let ix = ix::lease_attest(outsider.pubkey(), window, [0; 32], &[(lease, report)]);
    assert_error(s.f.send(&[ix], &[&outsider]), TimelockError::NotOracle);
    // A window in the future.
    assert_error(s.f.attest(0, window + 1, &[(lease, 1, 0)]), TimelockError::WindowInFuture);
    // Reports not matching the accounts.
    let oracle = s.f.oracles[0].insecure_clone();
    let mut ix = ix::lease_attest(oracle.pubkey(), window, [0; 32], &[(lease, report)]);
    ix.accounts.pop();
    assert_error(s.f.send(&[ix], &[&oracle]), TimelockError::ReportCountMismatch);
    // A lease passed read-only.
    let mut ix = ix::lease_attest(oracle.pubkey(), window, [0; 32], &[(lease, report)]);
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
