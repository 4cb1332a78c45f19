//! Items 5 and 6: punishment deters, bounded and fair, and incentives cannot be farmed.

use super::*;

// 5. Punishment that deters, bounded and fair ----------------------------------------------------------------

#[test]
fn item5_a_supplier_who_cheats_for_an_hour_ends_poorer_than_an_honest_one() {
    let mut f = TestFixture::new();
    let (honest, honest_workers) = f.supplier_with_workers(1);
    let (cheater, cheater_workers) = f.supplier_with_workers(1);
    let renter = f.renter(1_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 1).unwrap();
    let workers = [honest_workers[0], cheater_workers[0]];
    f.add_workers(&renter, 1, &workers).unwrap();
    let stake_before = f.supplier_account(&cheater).staked;
    f.warp(HOUR);
    let now = f.now();
    // The honest host is proven for the hour. The cheater sold its GPUs a second time: the oracles see the
    // foreign process (one fault per started hour of it) and prove nothing; to be generous to the cheater, say
    // the oracles were fooled about the seconds as well and proved the whole hour.
    let reports =
        [(f.lease_address(&renter, 1, &workers[0]), 3_600, 0), (f.lease_address(&renter, 1, &workers[1]), 3_600, 1)];
    f.attest_quorum(2, now, &reports);
    f.warp(EPOCH + DISPUTE_WINDOW);
    for w in &workers {
        f.settle(&renter, 1, w).unwrap();
    }
    let earned = |f: &TestFixture, s: &SupplierActor| f.supplier_account(s).earnings_unclaimed;
    // What the cheater lost in stake, valued at the governance rate (1 stake token per USDC).
    let slashed_value = (stake_before - f.supplier_account(&cheater).staked) / 1_000;
    let sold_elsewhere = RATE;
    let honest_total = earned(&f, &honest);
    let cheater_total = (earned(&f, &cheater) + sold_elsewhere) as i64 - slashed_value as i64;
    assert_eq!(slashed_value, 32 * ONE_USDC, "a fault costs two hours of the lease's value");
    assert!(cheater_total < honest_total as i64, "cheating pays {cheater_total} against honesty's {honest_total}");
}

#[test]
fn item5_faults_on_one_lease_never_reach_the_collateral_of_another() {
    let mut f = TestFixture::new();
    let (supplier, workers) = f.supplier_with_workers(2);
    let renter = f.renter(1_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 2).unwrap();
    f.add_workers(&renter, 1, &workers).unwrap();
    let staked = f.supplier_account(&supplier).staked;
    f.warp(HOUR);
    let now = f.now();
    // 500 faults on the first lease.
    f.attest_quorum(2, now, &[(f.lease_address(&renter, 1, &workers[0]), 3_600, 500)]);
    f.warp(DISPUTE_WINDOW);
    let settled: LeaseSettled = f.settle(&renter, 1, &workers[0]).unwrap().event();
    assert_eq!(settled.slashed, COLLATERAL, "a lease's faults take at most its own collateral");
    assert_eq!(f.supplier_account(&supplier).staked, staked - COLLATERAL);
    assert_eq!(f.lease(&renter, 1, &workers[0]).slashed, COLLATERAL);
    // The other lease's collateral is untouched and still fully backed.
    let account = f.supplier_account(&supplier);
    assert!(account.staked >= account.reserved + account.locked - COLLATERAL);
    assert_eq!(f.settle(&renter, 1, &workers[0]).unwrap().event::<LeaseSettled>().slashed, 0);
}

#[test]
fn item5_a_disputed_fault_is_never_slashed_before_it_is_decided() {
    let mut s = Story::booked(1, 2);
    s.an_hour_attested(3_600, 1);
    // Attested but not final: no slash yet. The supplier contests the fault.
    assert_eq!(s.settle(0).slashed, 0);
    supplier_disputes(&mut s).unwrap();
    s.f.warp(DISPUTE_WINDOW * 3);
    assert_eq!(s.settle(0).slashed, 0, "frozen while disputed");
    // The admin finds no fault: nothing is ever slashed for it, and the oracles' stale vote cannot bring it back.
    let supplier_tokens = s.supplier.payment_tokens;
    resolve(&mut s, supplier_tokens, 3_600, 0, true);
    s.f.warp(60);
    let later = s.f.now();
    s.f.attest(0, later, &[(s.lease_address(0), 3_660, 1)]).unwrap();
    s.f.warp(DISPUTE_WINDOW);
    assert_eq!(s.settle(0).slashed, 0);
    assert_eq!(s.f.supplier_account(&s.supplier).slashed_total, 0);
}

#[test]
fn item5_a_bare_metal_renter_earns_nothing_from_faults_it_could_have_caused() {
    let mut f = TestFixture::new();
    let (_, workers) = f.supplier_with_workers(1);
    let renter = f.renter(1_000 * ONE_USDC);
    let create = ix::cluster_create(f.payment(&renter, 1), 1, ClusterPurpose::BareMetal);
    f.send(&[create], &[&renter.authority]).unwrap();
    f.add_workers(&renter, 1, &workers).unwrap();
    f.warp(HOUR);
    let now = f.now();
    // With the host to itself, the renter kills the agent: an offline fault.
    f.attest_quorum(2, now, &[(f.lease_address(&renter, 1, &workers[0]), 1_800, 1)]);
    f.warp(DISPUTE_WINDOW);
    let treasury_before = f.token_balance(&f.treasury_stake_tokens);
    let settled: LeaseSettled = f.settle(&renter, 1, &workers[0]).unwrap().event();
    assert_eq!((settled.slashed, settled.slash_to_renter), (SLASH_PER_FAULT, 0));
    assert_eq!(f.token_balance(&f.treasury_stake_tokens) - treasury_before, SLASH_PER_FAULT);
    assert_eq!(f.token_balance(&renter.stake_tokens), 0);
}

// 6. Incentives cannot be farmed -----------------------------------------------------------------------------

#[test]
fn item6_renting_your_own_worker_for_nothing_farms_nothing() {
    let mut f = TestFixture::new();
    let stake_program = f.stake_token_program;
    let emission = 1_000 * ONE_STAKE;
    f.enable_incentives(emission, 4 * HOUR, emission);

    // The farmer prices its worker at 1 base unit per GPU-hour and rents it itself; an honest supplier is rented
    // by a real renter at market price. Both are proven for the hour.
    let (farmer, farm) = f.supplier_with_workers(1);
    let index = f.account::<Worker>(&farm[0].worker).worker_index;
    let spec = f.worker_of(&farmer, index).spec;
    f.update_worker(&farmer, index, WorkerSpec { price_per_gpu_hour: 1, ..spec }).unwrap();
    let (honest, market) = f.supplier_with_workers(1);
    let farmer_as_renter = Renter {
        authority: farmer.authority.insecure_clone(),
        payment_tokens: farmer.payment_tokens,
        stake_tokens: farmer.stake_tokens,
    };
    f.mint_to(f.payment_mint, farmer.payment_tokens, ONE_USDC);
    let renter = f.renter(1_000 * ONE_USDC);
    for (who, worker) in [(&farmer_as_renter, farm[0]), (&renter, market[0])] {
        f.create_cluster(who, 1, 1).unwrap();
        f.add_workers(who, 1, &[worker]).unwrap();
    }
    f.warp(HOUR);
    let now = f.now();
    let reports = [
        (f.lease_address(&farmer_as_renter, 1, &farm[0]), 3_600, 0),
        (f.lease_address(&renter, 1, &market[0]), 3_600, 0),
    ];
    f.attest_quorum(2, now, &reports);
    f.warp(DISPUTE_WINDOW);
    let pool: timelock::state::IncentivePool = f.account(&pda::incentive_pool().0);
    let epoch = pool.epoch_at(f.now());
    f.settle(&farmer_as_renter, 1, &farm[0]).unwrap();
    f.settle(&renter, 1, &market[0]).unwrap();

    f.set_time(pool.epoch_end(epoch));
    let mut claimed = Vec::new();
    for supplier in [&farmer, &honest] {
        let record: timelock::state::SupplierIncentive =
            f.account(&pda::supplier_incentive(&supplier.supplier(), epoch).0);
        let before = f.token_balance(&supplier.stake_tokens);
        let claim = ix::incentives_claim(
            supplier.key(),
            epoch,
            record.rent_payer,
            f.stake_mint,
            supplier.stake_tokens,
            stake_program,
        );
        f.exec(claim, &[&supplier.authority]);
        claimed.push(f.token_balance(&supplier.stake_tokens) - before);
    }
    // Credit is what was paid: 8 base units against 16 USDC. By GPU-seconds the farmer would have taken half.
    assert_eq!(claimed[0], emission * 8 / (8 + RATE));
    assert!(claimed[0] < emission / 1_000_000, "the farm earned {}", claimed[0]);
    assert!(claimed[1] > emission * 999 / 1_000);
}

#[test]
fn item6_incentives_cannot_run_without_a_protocol_fee() {
    let mut f = TestFixture::new();
    let admin = f.admin.insecure_clone();
    f.enable_incentives(ONE_STAKE, 4 * HOUR, ONE_STAKE);
    let mut params = f.config().params;
    params.protocol_fee_bps = 0;
    assert_error(f.send(&[ix::config_update(admin.pubkey(), params)], &[&admin]), TimelockError::IncentivesNeedAFee);

    let mut f = TestFixture::new();
    let admin = f.admin.insecure_clone();
    let mut params = f.config().params;
    params.protocol_fee_bps = 0;
    f.exec(ix::config_update(admin.pubkey(), params), &[&admin]);
    let init = ix::incentives_init(admin.pubkey(), f.stake_mint, f.stake_token_program, ONE_STAKE, 4 * HOUR);
    assert_error(f.send(&[init], &[&admin]), TimelockError::IncentivesNeedAFee);
}
