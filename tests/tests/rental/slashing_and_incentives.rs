//! Slashing and jail for a cheating worker, and the incentive pool's emissions.

use super::*;

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

#[test]
fn a_settlement_credits_only_this_epochs_record_of_the_leases_own_supplier() {
    let mut f = TestFixture::new();
    f.enable_incentives(1_000 * ONE_STAKE, 4 * HOUR, 1_500 * ONE_STAKE);
    let (_alice, alice_workers) = f.supplier_with_workers(1);
    let (bob, bob_workers) = f.supplier_with_workers(1);
    let renter = f.renter(1_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 3).unwrap();
    let workers = [alice_workers[0], bob_workers[0]];
    f.add_workers(&renter, 1, &workers).unwrap();
    let lease = f.lease_address(&renter, 1, &workers[0]);
    let other = f.lease_address(&renter, 1, &workers[1]);
    // Both suppliers earn in the first epoch: both have a record of it.
    f.warp(HOUR);
    let now = f.now();
    f.attest_quorum(2, now, &[(lease, 3_600, 0), (other, 3_600, 0)]);
    f.warp(DISPUTE_WINDOW);
    for worker in &workers {
        f.settle(&renter, 1, worker).unwrap();
    }
    let pool: timelock::state::IncentivePool = f.account(&pda::incentive_pool().0);
    let first_epoch = pool.epoch_at(f.now());

    // More final seconds for Alice's lease, and a cranker hands in Bob's record of the epoch instead of hers.
    f.warp(HOUR);
    let now = f.now();
    f.attest_quorum(2, now, &[(lease, 7_200, 0)]);
    f.warp(DISPUTE_WINDOW);
    let cranker = f.actor();
    let mut accounts = f.settle_accounts(&renter, 1, &workers[0]);
    accounts.incentives = Some(ix::IncentiveCredit { epoch: first_epoch, payer: cranker.pubkey() });
    let mut settle = ix::lease_settle(accounts);
    let records = settle.accounts.len() - 3;
    settle.accounts[records].pubkey = pda::supplier_incentive(&bob.supplier(), first_epoch).0;
    assert_error(f.send(&[settle], &[&cranker]), TimelockError::IncentiveAccountsMissing);

    // Once the epoch is over, its records (the epoch's and Alice's own) no longer take credit.
    f.set_time(pool.epoch_end(first_epoch));
    let mut accounts = f.settle_accounts(&renter, 1, &workers[0]);
    accounts.incentives = Some(ix::IncentiveCredit { epoch: first_epoch, payer: cranker.pubkey() });
    assert_error(f.send(&[ix::lease_settle(accounts)], &[&cranker]), TimelockError::IncentiveAccountsMissing);
    // With the current epoch's records the settlement goes through and credits what became final.
    assert!(f.settle(&renter, 1, &workers[0]).unwrap().event::<LeaseSettled>().incentive_credit > 0);
}
