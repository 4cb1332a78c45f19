//! The attacks of the hardening review (renters, suppliers, oracles, crankers and mint issuers against each
//! other), each performed against the real .so and answered with the named refusal or the safe outcome. The
//! numbers in the test names are the items of the review; docs/security.md maps every threat to its test.

use anchor_lang::prelude::Pubkey;
use timelock::events::{DisputeLapsed, LeaseSettled};
use timelock::state::{ClusterPurpose, Worker, WorkerSpec};
use timelock::BookingTerms;
use timelock_sdk::{catalog, ix, pda, TOKEN_2022_PROGRAM_ID};
use timelock_tests::story::*;
use timelock_tests::*;

const BOND: u64 = 10 * ONE_USDC;
const TIMEOUT: i64 = 3 * 86_400;

/// Dispute and resolution helpers over a [`Story`]'s lease 0.
fn dispute_by(s: &mut Story, party: &Keypair, tokens: Pubkey) -> SendResult {
    let payment = s.f.payment(&s.renter, s.cluster_id);
    let worker = s.workers[0];
    let ix = ix::lease_dispute(party.pubkey(), tokens, payment, worker.worker, worker.supplier);
    s.f.send(&[ix], &[party])
}

fn renter_disputes(s: &mut Story) -> SendResult {
    let renter = s.renter.authority.insecure_clone();
    let tokens = s.renter.payment_tokens;
    dispute_by(s, &renter, tokens)
}

fn supplier_disputes(s: &mut Story) -> SendResult {
    let supplier = s.supplier.authority.insecure_clone();
    let tokens = s.supplier.payment_tokens;
    s.f.mint_to(s.f.payment_mint, tokens, BOND);
    dispute_by(s, &supplier, tokens)
}

fn resolve(s: &mut Story, disputer_tokens: Pubkey, proven_secs: u64, faults: u64, upheld: bool) {
    let admin = s.f.admin.insecure_clone();
    let payment = s.f.payment(&s.renter, s.cluster_id);
    let ix = ix::lease_dispute_resolve(
        admin.pubkey(),
        payment,
        s.workers[0].worker,
        disputer_tokens,
        s.f.treasury_payment_tokens,
        proven_secs,
        faults,
        s.f.now(),
        upheld,
    );
    s.f.exec(ix, &[&admin]);
}

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
    let landed = s.f.send(&[ix::lease_attest(oracle.pubkey(), later, &[(lease, stale)])], &[&oracle]).unwrap();
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
    // Or fewer GPUs.
    f.update_worker(&supplier, index, WorkerSpec { gpu_count: 4, ..listed.clone() }).unwrap();
    assert_error(f.book(&renter, 1, &[agreed]), TimelockError::HardwareNotAsAgreed);
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

// 7. Extension and exit are consensual -----------------------------------------------------------------------

fn story_with_max_hours(max_lease_hours: u32, hours: u32) -> (TestFixture, Renter, SupplierActor, ix::WorkerRef) {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(8_100 * ONE_STAKE);
    let spec = WorkerSpec { max_lease_hours, ..f.h100_spec() };
    let index = f.register_worker(&supplier, spec).unwrap();
    let worker = f.worker_ref(&supplier, index);
    let renter = f.renter(1_000 * ONE_USDC);
    f.create_cluster(&renter, 1, hours).unwrap();
    (f, renter, supplier, worker)
}

#[test]
fn item7_no_booking_or_extension_runs_past_what_the_worker_accepts() {
    let (mut f, renter, _, worker) = story_with_max_hours(2, 3);
    assert_error(f.add_workers(&renter, 1, &[worker]), TimelockError::LeaseTooLong);

    let (mut f, renter, _, worker) = story_with_max_hours(2, 2);
    f.add_workers(&renter, 1, &[worker]).unwrap();
    // The renter extends the cluster by a day; the lease stops at the worker's two hours.
    f.extend(&renter, 1, 24).unwrap();
    assert_eq!(f.lease(&renter, 1, &worker).max_secs(f.cluster(&renter, 1).end_ts), 2 * 3_600);
    f.warp(26 * HOUR);
    let now = f.now();
    f.attest_quorum(2, now, &[(f.lease_address(&renter, 1, &worker), 26 * 3_600, 0)]);
    f.warp(EPOCH + DISPUTE_WINDOW);
    let settled: LeaseSettled = f.settle(&renter, 1, &worker).unwrap().event();
    assert!(settled.closed);
    // Paid for two hours; the 24 escrowed hours beyond the worker's consent come back.
    assert_eq!(f.token_balance(&renter.payment_tokens), 1_000 * ONE_USDC - 2 * RATE);
}

#[test]
fn item7_a_jailed_workers_lease_is_not_extended() {
    let mut s = Story::booked(1, 2);
    s.an_hour_attested(3_600, 3);
    s.f.warp(DISPUTE_WINDOW);
    s.settle(0);
    assert!(s.f.account::<Worker>(&s.workers[0].worker).is_jailed());
    let booked_end = s.f.cluster(&s.renter, 1).end_ts;
    s.f.extend(&s.renter, 1, 5).unwrap();
    assert_eq!(
        s.lease(0).end_ts(s.f.cluster(&s.renter, 1).end_ts),
        booked_end,
        "the extension skips the jailed worker"
    );
}

// 8. History cannot be washed, hardware cannot be sold twice -------------------------------------------------

#[test]
fn item8_a_jailed_worker_cannot_leave_to_wash_its_record() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(3_600, 3);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    assert!(s.settle_until_closed(0));
    let index = s.f.account::<Worker>(&s.workers[0].worker).worker_index;
    let supplier = clone_supplier(&s.supplier);
    assert_error(s.f.deregister_worker(&supplier, index), TimelockError::WorkerHasOpenFaults);
    assert_eq!(s.f.supplier_account(&supplier).fault_count, 3);
    // Once its cool-down (and with it the jail window) has passed and it is unjailed, it may leave; the
    // supplier's record keeps the faults.
    s.f.warp(86_400);
    s.f.exec(ix::worker_unjail(supplier.key(), index), &[&supplier.authority]);
    s.f.deregister_worker(&supplier, index).unwrap();
    assert_eq!(s.f.supplier_account(&supplier).fault_count, 3);
}

#[test]
fn item8_faults_still_counting_toward_jail_keep_a_worker_registered() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(3_600, 2);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    assert!(s.settle_until_closed(0));
    let worker: Worker = s.f.account(&s.workers[0].worker);
    assert!(!worker.is_jailed() && worker.window_faults == 2, "one fault short of jail");
    let supplier = clone_supplier(&s.supplier);
    // Leaving now and registering the host again would restart the count at zero: refused.
    assert_error(s.f.deregister_worker(&supplier, worker.worker_index), TimelockError::WorkerHasOpenFaults);
    s.f.warp(86_400);
    s.f.deregister_worker(&supplier, worker.worker_index).unwrap();
}

#[test]
fn item8_unjailing_keeps_the_fault_window() {
    let mut s = Story::booked(1, 1);
    // A short cool-down inside a day-long jail window.
    let admin = s.f.admin.insecure_clone();
    let mut params = s.f.config().params;
    params.jail_cooldown_secs = HOUR;
    s.f.exec(ix::config_update(admin.pubkey(), params), &[&admin]);
    s.an_hour_attested(3_600, 3);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    assert!(s.settle_until_closed(0));
    s.f.warp(HOUR);
    // Unjail and leave in one transaction: the faults that jailed the worker still count, so it cannot leave.
    let supplier = clone_supplier(&s.supplier);
    let index = s.f.account::<Worker>(&s.workers[0].worker).worker_index;
    let unjail_and_leave = [ix::worker_unjail(supplier.key(), index), s.f.deregister_worker_ix(&supplier, index)];
    assert_error(s.f.send(&unjail_and_leave, &[&supplier.authority]), TimelockError::WorkerHasOpenFaults);
}

#[test]
fn item8_one_host_backs_at_most_one_worker() {
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(3 * 8_100 * ONE_STAKE);
    let spec = f.h100_spec();
    let first = f.register_worker(&supplier, spec.clone()).unwrap();
    // The same device key again, from this supplier or from another: refused.
    assert_eq!(
        f.register_worker(&supplier, spec.clone()).unwrap_err().custom_code(),
        Some(TimelockError::DeviceKeyInUse.code())
    );
    let other = f.staked_supplier(8_100 * ONE_STAKE);
    assert_eq!(
        f.register_worker(&other, spec.clone()).unwrap_err().custom_code(),
        Some(TimelockError::DeviceKeyInUse.code())
    );
    // A second worker cannot move onto the first one's key either.
    let second = f.register_worker(&supplier, f.h100_spec()).unwrap();
    let onto_first = WorkerSpec { device_key: spec.device_key, ..f.worker_of(&supplier, second).spec };
    assert_error(f.update_worker(&supplier, second, onto_first), TimelockError::DeviceKeyInUse);
    // When the first worker moves to a new key, its old key is free for another worker.
    let moved = WorkerSpec { device_key: Pubkey::new_unique(), ..spec.clone() };
    f.update_worker(&supplier, first, moved).unwrap();
    assert!(!f.exists(&pda::device(&spec.device_key).0));
    f.register_worker(&supplier, spec).unwrap();
    let device: timelock::state::Device = f.account(&pda::device(&f.worker_of(&supplier, first).spec.device_key).0);
    assert_eq!(device.worker, pda::worker(&supplier.supplier(), first).0);
}

#[test]
fn item8_a_device_record_that_names_another_worker_is_refused() {
    use anchor_lang::AccountSerialize;
    let mut f = TestFixture::new();
    let supplier = f.staked_supplier(2 * 8_100 * ONE_STAKE);
    let spec = f.h100_spec();
    let index = f.register_worker(&supplier, spec.clone()).unwrap();
    // The record at this worker's device key, rewritten (as no instruction can) to name another worker.
    let (record, bump) = pda::device(&spec.device_key);
    let mut data = Vec::new();
    timelock::state::Device { worker: Pubkey::new_unique(), bump }.try_serialize(&mut data).unwrap();
    let mut account = f.svm.get_account(&record).unwrap();
    account.data = data;
    f.svm.set_account(record, account).unwrap();
    assert_error(f.deregister_worker(&supplier, index), TimelockError::InvalidDeviceRecord);
    let moved = WorkerSpec { device_key: Pubkey::new_unique(), ..spec };
    assert_error(f.update_worker(&supplier, index, moved), TimelockError::InvalidDeviceRecord);
}

#[test]
fn item8_queued_unbonding_does_not_escape_a_pending_slash() {
    let mut s = Story::booked(1, 1);
    s.an_hour_attested(1_800, 1);
    // The supplier sees the fault coming and queues every free token for withdrawal.
    let supplier = clone_supplier(&s.supplier);
    let free = s.f.supplier_account(&supplier).free_stake().unwrap();
    s.f.exec(ix::stake_unbond(supplier.key(), free), &[&supplier.authority]);
    s.f.warp(7 * 86_400);
    let stake = s.f.stake_accounts(&supplier);
    s.f.exec(ix::stake_withdraw(stake), &[&supplier.authority]);
    assert_eq!(s.f.token_balance(&supplier.stake_tokens), free);
    // The fault is slashed in full: it comes from the lease's collateral, which could never be queued.
    let settled = s.settle(0);
    assert_eq!(settled.slashed, SLASH_PER_FAULT);
    let account = s.f.supplier_account(&supplier);
    assert_eq!(account.staked + SLASH_PER_FAULT, account.reserved + COLLATERAL);
}

// 9. Oracle set and mints ------------------------------------------------------------------------------------

#[test]
fn item9_a_removed_oracles_votes_stop_counting_and_nothing_decreases() {
    let mut s = Story::booked(1, 2);
    s.an_hour_attested(3_600, 0);
    // Oracle 1 is replaced by a new key mid-lease.
    let admin = s.f.admin.insecure_clone();
    let mut params = s.f.config().params;
    let replacement = Keypair::new();
    s.f.svm.airdrop(&replacement.pubkey(), 1_000_000_000).unwrap();
    params.oracles[1] = replacement.pubkey();
    s.f.exec(ix::config_update(admin.pubkey(), params), &[&admin]);
    let retired = std::mem::replace(&mut s.f.oracles[1], replacement);
    assert_eq!(s.lease(0).proven_secs, 3_600, "a change of the set never undoes an agreed total");
    // The old key can no longer attest, and one remaining vote is not a quorum.
    s.f.warp(600);
    let later = s.f.now();
    let lease = s.lease_address(0);
    let report = timelock::LeaseReport { proven_secs: 7_200, faults: 9, resolution: 0 };
    let stale = ix::lease_attest(retired.pubkey(), later, &[(lease, report)]);
    assert_error(s.f.send(&[stale], &[&retired]), TimelockError::NotOracle);
    s.f.attest(0, later, &[(lease, 4_200, 5)]).unwrap();
    assert_eq!((s.lease(0).proven_secs, s.lease(0).faults), (3_600, 0));
    s.f.attest(1, later, &[(lease, 4_200, 0)]).unwrap();
    assert_eq!(s.lease(0).proven_secs, 4_200);
}

/// A Token-2022 mint with `extensions` (type, data) written after the base, as the token program lays them out.
fn token_2022_mint(f: &mut TestFixture, decimals: u8, extensions: &[(u16, Vec<u8>)]) -> Pubkey {
    // Base mint: mint authority (COption), supply, decimals, initialised, no freeze authority; padded to an
    // account's 165 bytes, then the account-type byte (1: mint) and the extensions.
    let mut data = [1u32.to_le_bytes().as_slice(), f.admin.pubkey().as_ref()].concat();
    data.extend_from_slice(&0u64.to_le_bytes());
    data.extend_from_slice(&[decimals, 1]);
    data.extend_from_slice(&[0u8; 36]);
    data.resize(165, 0);
    data.push(1);
    for (extension, value) in extensions {
        data.extend_from_slice(&extension.to_le_bytes());
        data.extend_from_slice(&(value.len() as u16).to_le_bytes());
        data.extend_from_slice(value);
    }
    let address = Pubkey::new_unique();
    let lamports = f.svm.minimum_balance_for_rent_exemption(data.len());
    let account =
        solana_account::Account { lamports, data, owner: TOKEN_2022_PROGRAM_ID, executable: false, rent_epoch: 0 };
    f.svm.set_account(address, account).unwrap();
    address
}

#[test]
fn item9_mints_whose_issuer_could_take_or_freeze_the_programs_tokens_are_refused() {
    const PERMANENT_DELEGATE: u16 = 12;
    const TRANSFER_HOOK: u16 = 14;
    const PAUSABLE: u16 = 26;
    const DEFAULT_ACCOUNT_STATE: u16 = 6;
    const METADATA_POINTER: u16 = 18;
    let key = || Pubkey::new_unique().to_bytes().to_vec();
    let cases: Vec<(u16, Vec<u8>)> = vec![
        (PERMANENT_DELEGATE, key()),
        (TRANSFER_HOOK, [key(), key()].concat()),
        (PAUSABLE, [key(), vec![0]].concat()),
        (DEFAULT_ACCOUNT_STATE, vec![2]),
    ];
    for extension in cases {
        let mut f = TestFixture::deployed();
        let payment = token_2022_mint(&mut f, 6, std::slice::from_ref(&extension));
        let ix = ix::config_init(f.admin.pubkey(), f.stake_mint, payment, f.stake_token_program, f.default_params());
        let admin = f.admin.insecure_clone();
        assert_error(f.send(&[ix], &[&admin]), TimelockError::UnsupportedMintExtension);
    }
    // Decimals beyond 18 would overflow the collateral conversion.
    let mut f = TestFixture::deployed();
    let payment = token_2022_mint(&mut f, 19, &[]);
    let ix = ix::config_init(f.admin.pubkey(), f.stake_mint, payment, f.stake_token_program, f.default_params());
    let admin = f.admin.insecure_clone();
    assert_error(f.send(&[ix], &[&admin]), TimelockError::UnsupportedMintDecimals);
    // Metadata only describes the mint: accepted.
    let mut f = TestFixture::deployed();
    let payment = token_2022_mint(&mut f, 6, &[(METADATA_POINTER, [key(), key()].concat())]);
    let ix = ix::config_init(f.admin.pubkey(), f.stake_mint, payment, f.stake_token_program, f.default_params());
    let admin = f.admin.insecure_clone();
    f.send(&[ix], &[&admin]).unwrap();
    assert_eq!((f.config().stake_decimals, f.config().payment_decimals), (STAKE_DECIMALS, 6));
}

fn clone_supplier(s: &SupplierActor) -> SupplierActor {
    SupplierActor {
        authority: s.authority.insecure_clone(),
        stake_tokens: s.stake_tokens,
        payment_tokens: s.payment_tokens,
    }
}
