//! Random lifecycles against the real .so, with adversaries among the actors: a renter that hands its wallet to
//! another program, renters and suppliers that dispute again and again or leave disputes to lapse, a supplier
//! renting its own workers, suppliers whose `worker_update` races the renter's booking, and suppliers that
//! deregister and register again to wash their record. After every step: token conservation to the unit, no
//! lease slashed beyond its own collateral, stake covering every commitment, fault records that never shrink,
//! no lease paid twice for a second, nothing moving from a paused program's bookings or from a closed lease; and
//! every lease is settled and closed by one crank once its end, one epoch, the dispute window and the dispute
//! timeout have passed, whatever its parties did. `TIMELOCK_PROP_CASES` sets the number of lifecycles (default
//! 10,000).

use std::collections::{BTreeSet, HashMap};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::system_instruction;
use timelock::math;
use timelock::state::{Lease, Worker, WorkerSpec};
use timelock_sdk::{ix, pda};
use timelock_tests::*;

/// xorshift64*: deterministic, so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const WORKERS_PER_SUPPLIER: usize = 3;

/// Who rents in a lifecycle.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RenterKind {
    Honest,
    /// Assigns its wallet to another program once it has booked.
    Reassigning,
    /// A supplier renting (among others) its own workers.
    SelfRenting(usize),
}

struct World {
    f: TestFixture,
    suppliers: Vec<SupplierActor>,
    /// `workers[s * WORKERS_PER_SUPPLIER + k]` belongs to supplier `s`.
    workers: Vec<ix::WorkerRef>,
    renter: Renter,
    /// Every payment token account that has ever held tokens in this world.
    holders: BTreeSet<Pubkey>,
    minted_payment: u64,
    /// Highest gross ever paid per lease address, to prove payments only grow.
    gross_seen: HashMap<Pubkey, u64>,
    /// Fault record per supplier, to prove it never shrinks.
    faults_seen: HashMap<Pubkey, u64>,
    /// Clusters whose escrow is still counted.
    clusters: BTreeSet<(Pubkey, u64)>,
}

impl World {
    fn new() -> World {
        let mut f = TestFixture::new();
        let mut suppliers = Vec::new();
        let mut workers = Vec::new();
        let mut holders = BTreeSet::new();
        let mut minted_payment = 0;
        for _ in 0..3 {
            let (supplier, refs) = f.supplier_with_workers(WORKERS_PER_SUPPLIER as u32);
            // Bond headroom for collateral, and payment tokens for bonds and self-rental.
            top_up_stake(&mut f, &supplier, 2_000 * ONE_STAKE);
            f.mint_to(f.payment_mint, supplier.payment_tokens, 100_000 * ONE_USDC);
            minted_payment += 100_000 * ONE_USDC;
            holders.insert(supplier.payment_tokens);
            holders.insert(pda::earnings_vault(&supplier.supplier()).0);
            suppliers.push(supplier);
            workers.extend(refs);
        }
        let renter = f.renter(1_000_000_000 * ONE_USDC);
        minted_payment += 1_000_000_000 * ONE_USDC;
        holders.insert(renter.payment_tokens);
        holders.insert(f.treasury_payment_tokens);
        World {
            f,
            suppliers,
            workers,
            renter,
            holders,
            minted_payment,
            gross_seen: HashMap::new(),
            faults_seen: HashMap::new(),
            clusters: BTreeSet::new(),
        }
    }

    fn renter_for(&mut self, kind: RenterKind) -> Renter {
        match kind {
            RenterKind::Honest => clone_renter(&self.renter),
            RenterKind::Reassigning => {
                let renter = self.f.renter(10_000 * ONE_USDC);
                self.minted_payment += 10_000 * ONE_USDC;
                self.holders.insert(renter.payment_tokens);
                renter
            }
            RenterKind::SelfRenting(s) => {
                let supplier = &self.suppliers[s];
                Renter {
                    authority: supplier.authority.insecure_clone(),
                    payment_tokens: supplier.payment_tokens,
                    stake_tokens: supplier.stake_tokens,
                }
            }
        }
    }

    fn supplier_of(&self, worker: &ix::WorkerRef) -> usize {
        self.suppliers.iter().position(|s| s.supplier() == worker.supplier).expect("a world supplier")
    }

    fn payment_total(&self) -> u64 {
        let f = &self.f;
        let mut total: u64 = self.holders.iter().map(|a| f.token_balance(a)).sum();
        for (renter, id) in &self.clusters {
            let escrow = pda::escrow(&pda::cluster(renter, *id).0).0;
            if f.exists(&escrow) {
                total += f.token_balance(&escrow);
            }
        }
        total
    }

    fn open_leases(&self, renter: &Renter, cluster_id: u64, booked: &[ix::WorkerRef]) -> Vec<(Pubkey, Lease)> {
        booked
            .iter()
            .map(|w| self.f.lease_address(renter, cluster_id, w))
            .filter(|address| self.f.exists(address))
            .map(|address| (address, self.f.account::<Lease>(&address)))
            .collect()
    }

    #[track_caller]
    fn check(&mut self, renter: &Renter, cluster_id: u64, booked: &[ix::WorkerRef]) {
        let f = &self.f;
        // Payment tokens are conserved across every holder.
        assert_eq!(self.payment_total(), self.minted_payment, "payment conservation");
        // Stake: the vault holds exactly what suppliers are credited with.
        let credited: u64 = self.suppliers.iter().map(|s| f.supplier_account(s).staked).sum();
        assert_eq!(f.token_balance(&pda::stake_vault().0), credited, "stake conservation");
        let leases = self.open_leases(renter, cluster_id, booked);
        for s in &self.suppliers {
            let account = f.supplier_account(s);
            // A slash only ever takes a lease's own locked collateral, so the rest of the supplier's commitments
            // stay fully backed.
            let slashed_open: u64 =
                leases.iter().filter(|(_, l)| l.supplier == s.supplier()).map(|(_, l)| l.slashed).sum();
            assert!(
                account.staked + slashed_open >= account.reserved + account.locked + account.unbonding,
                "commitments not backed by stake"
            );
            let seen = self.faults_seen.entry(s.supplier()).or_default();
            assert!(account.fault_count >= *seen, "a fault record shrank");
            *seen = account.fault_count;
        }
        let cluster_address = f.cluster_address(renter, cluster_id);
        if !f.exists(&cluster_address) {
            return;
        }
        let cluster = f.cluster(renter, cluster_id);
        let escrow = f.token_balance(&pda::escrow(&cluster_address).0);
        let bonds: u64 = leases.iter().map(|(_, l)| l.dispute_bond).sum();
        assert_eq!(
            escrow + cluster.paid_to_suppliers + cluster.fees + cluster.refunded,
            cluster.deposited + bonds,
            "escrow conservation"
        );
        for (address, lease) in &leases {
            assert!(lease.slashed <= lease.collateral, "slashed beyond the lease's collateral");
            let payable = lease.final_secs.min(lease.max_secs(cluster.end_ts));
            let owed = math::payment_for(lease.hourly_rate, payable).unwrap();
            assert_eq!(lease.gross_paid, owed.min(lease.gross_paid), "paid beyond final seconds");
            assert!(lease.final_secs <= lease.proven_secs, "final beyond proven");
            assert!(lease.faults_slashed <= lease.final_faults, "slashed a fault before it was final");
            let seen = self.gross_seen.entry(*address).or_default();
            assert!(lease.gross_paid >= *seen, "payment went backwards");
            *seen = lease.gross_paid;
        }
    }
}

fn clone_renter(renter: &Renter) -> Renter {
    Renter {
        authority: renter.authority.insecure_clone(),
        payment_tokens: renter.payment_tokens,
        stake_tokens: renter.stake_tokens,
    }
}

fn top_up_stake(f: &mut TestFixture, supplier: &SupplierActor, amount: u64) {
    f.mint_to(f.stake_mint, supplier.stake_tokens, amount);
    f.deposit(supplier, amount).expect("stake_deposit");
}

/// A booking refused for a reason the actors can cause; nothing may have moved.
fn refused_booking(code: Option<u32>) -> bool {
    [TimelockError::WorkerJailed, TimelockError::InsufficientFreeStake, TimelockError::WorkerUnavailable]
        .iter()
        .any(|e| code == Some(e.code()))
}

fn lifecycle(world: &mut World, rng: &mut Rng, cluster_id: u64) {
    let kind = match rng.below(20) {
        0 => RenterKind::Reassigning,
        1 => RenterKind::SelfRenting(rng.below(world.suppliers.len() as u64) as usize),
        _ => RenterKind::Honest,
    };
    let renter = world.renter_for(kind);
    let renter_key = renter.key();
    let hours = 1 + rng.below(3) as u32;
    world.f.create_cluster(&renter, cluster_id, hours).expect("cluster_create");
    world.clusters.insert((renter_key, cluster_id));
    let count = 1 + rng.below(3) as usize;
    let start = rng.below(world.workers.len() as u64) as usize;
    let booked: Vec<_> = (0..count).map(|i| world.workers[(start + i) % world.workers.len()]).collect();
    let bookings: Vec<_> = booked.iter().map(|w| world.f.as_listed(w)).collect();

    // A supplier's update lands between the renter reading the listing and its booking.
    if rng.chance(10) {
        let target = booked[rng.below(booked.len() as u64) as usize];
        let s = world.supplier_of(&target);
        let listed: Worker = world.f.account(&target.worker);
        let raised = if rng.chance(50) {
            WorkerSpec { price_per_gpu_hour: listed.spec.price_per_gpu_hour * 1_000, ..listed.spec.clone() }
        } else {
            WorkerSpec { gpu_count: 4, ..listed.spec.clone() }
        };
        let supplier = world.suppliers[s].authority.insecure_clone();
        let update = world.f.update_worker_ix(&world.suppliers[s], listed.worker_index, raised);
        if world.f.send(&[update], &[&supplier]).is_ok() {
            let before = world.payment_total();
            let code = world.f.book(&renter, cluster_id, &bookings).unwrap_err().custom_code();
            let expected = [TimelockError::PriceAboveAgreed, TimelockError::HardwareNotAsAgreed];
            assert!(expected.iter().any(|e| code == Some(e.code())) || refused_booking(code), "{code:?}");
            assert_eq!(world.payment_total(), before, "a refused booking moved money");
            let restore = world.f.update_worker_ix(&world.suppliers[s], listed.worker_index, listed.spec);
            world.f.send(&[restore], &[&supplier]).expect("restore the listing");
        }
    }
    if let Err(failed) = world.f.book(&renter, cluster_id, &bookings) {
        assert!(refused_booking(failed.custom_code()), "{:?}", failed);
        world.check(&renter, cluster_id, &[]);
        world.f.warp(i64::from(hours) * 3_600);
        world.f.exec(ix::cluster_close(world.f.payment(&renter, cluster_id)), &[&renter.authority]);
        world.clusters.remove(&(renter_key, cluster_id));
        return;
    }
    world.check(&renter, cluster_id, &booked);

    let mut wallet_gone = false;
    for _ in 0..rng.below(6) {
        world.f.warp(60 + rng.below(1_800) as i64);
        match rng.below(11) {
            0..=4 => {
                let window = world.f.now();
                let oracle = rng.below(3) as usize;
                let reports: Vec<_> = booked
                    .iter()
                    .map(|w| {
                        let lease = world.f.lease_address(&renter, cluster_id, w);
                        (lease, rng.below(4 * 3_600) as u32, rng.below(3) as u16 * u16::from(rng.chance(15)))
                    })
                    .filter(|(lease, _, _)| world.f.exists(lease))
                    .collect();
                if !reports.is_empty() {
                    world.f.attest(oracle, window, &reports).expect("attest");
                }
            }
            5 => {
                let w = booked[rng.below(booked.len() as u64) as usize];
                let _ = world.f.settle(&renter, cluster_id, &w);
            }
            6 if !wallet_gone => {
                let _ = world.f.extend(&renter, cluster_id, 1);
            }
            7 if !wallet_gone => {
                let w = booked[rng.below(booked.len() as u64) as usize];
                let remove = ix::cluster_remove_worker(renter_key, cluster_id, w.worker);
                let _ = world.f.send(&[remove], &[&renter.authority]);
            }
            8 if kind == RenterKind::Reassigning && !wallet_gone => {
                // The renter's wallet stops being a system account: it can no longer sign for fees, and nothing
                // settlement needs may depend on it.
                let wallet = renter.authority.insecure_clone();
                let elsewhere = Pubkey::new_unique();
                world.f.exec(system_instruction::assign(&wallet.pubkey(), &elsewhere), &[&wallet]);
                wallet_gone = true;
            }
            _ => dispute_round(world, rng, &renter, cluster_id, &booked, wallet_gone),
        }
        world.check(&renter, cluster_id, &booked);
    }

    // A paused program takes no new money for this cluster, then resumes.
    if rng.chance(10) && !wallet_gone {
        let admin = world.f.admin.insecure_clone();
        world.f.exec(ix::pause(admin.pubkey()), &[&admin]);
        let before = world.payment_total();
        let result = world.f.extend(&renter, cluster_id, 1);
        assert_eq!(result.unwrap_err().custom_code(), Some(TimelockError::Paused.code()));
        assert_eq!(world.payment_total(), before);
        world.f.exec(ix::unpause(admin.pubkey()), &[&admin]);
    }

    // Liveness: once the lease's end, an epoch, the dispute window and the dispute timeout have passed, one crank
    // by anyone settles and closes every lease, whatever the renter, the supplier or a disputer did.
    if !wallet_gone && rng.chance(70) {
        let _ = world.f.send(&[ix::cluster_end(renter_key, cluster_id)], &[&renter.authority]);
    }
    let params = world.f.config().params;
    let end_ts = world.f.cluster(&renter, cluster_id).end_ts;
    let bound =
        end_ts.max(world.f.now()) + params.epoch_secs + params.dispute_window_secs + params.dispute_timeout_secs;
    world.f.set_time(bound);
    for w in &booked {
        let address = world.f.lease_address(&renter, cluster_id, w);
        if !world.f.exists(&address) {
            continue; // removed from the cluster and already settled
        }
        let settled: timelock::events::LeaseSettled = world.f.settle(&renter, cluster_id, w).expect("settle").event();
        world.check(&renter, cluster_id, &booked);
        assert!(settled.closed, "lease closes within the liveness bound");
        // A closed lease moves nothing again.
        let before = world.payment_total();
        assert!(world.f.settle(&renter, cluster_id, w).is_err());
        assert_eq!(world.payment_total(), before);
        world.gross_seen.remove(&address);
    }
    let cluster = world.f.cluster(&renter, cluster_id);
    assert_eq!(cluster.paid_to_suppliers + cluster.fees + cluster.refunded, cluster.deposited);
    if !wallet_gone {
        world.f.exec(ix::cluster_close(world.f.payment(&renter, cluster_id)), &[&renter.authority]);
        world.clusters.remove(&(renter_key, cluster_id));
    }
    world.check(&renter, cluster_id, &[]);

    wash_attempts(world, rng);
}

/// The renter or the supplier disputes; the admin resolves at once or never (then the dispute lapses at the
/// wind-down). The party whose dispute was decided cannot re-open the same span.
fn dispute_round(
    world: &mut World,
    rng: &mut Rng,
    renter: &Renter,
    cluster_id: u64,
    booked: &[ix::WorkerRef],
    wallet_gone: bool,
) {
    let w = booked[rng.below(booked.len() as u64) as usize];
    let lease_address = world.f.lease_address(renter, cluster_id, &w);
    if !world.f.exists(&lease_address) {
        return;
    }
    let payment = world.f.payment(renter, cluster_id);
    let supplier = &world.suppliers[world.supplier_of(&w)];
    let (party, tokens) = if rng.chance(50) && !wallet_gone {
        (renter.authority.insecure_clone(), renter.payment_tokens)
    } else {
        (supplier.authority.insecure_clone(), supplier.payment_tokens)
    };
    let dispute = ix::lease_dispute(party.pubkey(), tokens, payment, w.worker, w.supplier);
    let before: Lease = world.f.account(&lease_address);
    match world.f.send(std::slice::from_ref(&dispute), &[&party]) {
        Ok(_) => {}
        Err(failed) => {
            let params = world.f.config().params;
            let end = before.end_ts(world.f.cluster(renter, cluster_id).end_ts);
            let expected = if before.is_disputed() {
                TimelockError::DisputeOpen
            } else if world.f.now() >= end + params.epoch_secs + params.dispute_window_secs {
                TimelockError::DisputeWindowClosed
            } else {
                assert!(!before.may_dispute(party.pubkey() == renter.key()), "refused for no reason: {failed:?}");
                TimelockError::DisputeAlreadyDecided
            };
            assert_eq!(failed.custom_code(), Some(expected.code()), "{failed:?}");
            return;
        }
    }
    world.check(renter, cluster_id, booked);
    if rng.chance(50) {
        let lease: Lease = world.f.account(&lease_address);
        let cluster_end = world.f.cluster(renter, cluster_id).end_ts;
        let admin = world.f.admin.insecure_clone();
        let resolve = ix::lease_dispute_resolve(
            admin.pubkey(),
            payment,
            w.worker,
            tokens,
            world.f.treasury_payment_tokens,
            (lease.final_secs + rng.below(600)).min(lease.max_secs(cluster_end.min(world.f.now()))),
            lease.final_faults + rng.below(2),
            world.f.now(),
            rng.chance(50),
        );
        world.f.exec(resolve, &[&admin]);
        world.check(renter, cluster_id, booked);
        // The same party cannot at once re-open what was just decided.
        assert_error(world.f.send(&[dispute], &[&party]), TimelockError::DisputeAlreadyDecided);
    }
}

/// Suppliers try to wash a worker's record by deregistering it and registering the same host again, or to back
/// a second worker with a host that already backs one.
fn wash_attempts(world: &mut World, rng: &mut Rng) {
    if !rng.chance(10) {
        return;
    }
    let slot = rng.below(world.workers.len() as u64) as usize;
    let target = world.workers[slot];
    let s = world.supplier_of(&target);
    let worker: Worker = world.f.account(&target.worker);
    let supplier = world.suppliers[s].authority.insecure_clone();
    let now = world.f.now();
    let window = world.f.config().params.jail_window_secs;
    let second_worker_same_host = world.f.register_worker(&world.suppliers[s], worker.spec.clone());
    assert_eq!(second_worker_same_host.unwrap_err().custom_code(), Some(TimelockError::DeviceKeyInUse.code()));
    let deregister = world.f.deregister_worker_ix(&world.suppliers[s], worker.worker_index);
    match world.f.send(&[deregister], &[&supplier]) {
        Ok(_) => {
            assert!(!worker.has_open_faults(now, window), "a worker with open faults left");
            let index = world.f.register_worker(&world.suppliers[s], worker.spec).expect("register the host again");
            world.workers[slot] = world.f.worker_ref(&world.suppliers[s], index);
        }
        Err(failed) => {
            assert!(worker.has_open_faults(now, window), "{failed:?}");
            assert_eq!(failed.custom_code(), Some(TimelockError::WorkerHasOpenFaults.code()));
        }
    }
}

fn release_jailed(world: &mut World) {
    for w in world.workers.clone() {
        let worker = world.f.account::<Worker>(&w.worker);
        if worker.jailed_until != 0 && world.f.now() >= worker.jailed_until {
            let s = world.supplier_of(&w);
            let supplier = world.suppliers[s].authority.insecure_clone();
            world.f.exec(ix::worker_unjail(supplier.pubkey(), worker.worker_index), &[&supplier]);
        }
    }
    // Slashes drain stake; suppliers top up so that the pool stays bookable.
    for s in 0..world.suppliers.len() {
        let free = world.f.supplier_account(&world.suppliers[s]).free_stake().unwrap();
        if free < 500 * ONE_STAKE {
            let supplier = SupplierActor {
                authority: world.suppliers[s].authority.insecure_clone(),
                stake_tokens: world.suppliers[s].stake_tokens,
                payment_tokens: world.suppliers[s].payment_tokens,
            };
            top_up_stake(&mut world.f, &supplier, 2_000 * ONE_STAKE);
        }
    }
}

#[test]
fn random_lifecycles_keep_every_invariant() {
    let cases: u64 = std::env::var("TIMELOCK_PROP_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let seed: u64 = std::env::var("TIMELOCK_PROP_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_1234);
    let mut rng = Rng(seed);
    // A fresh world every 500 lifecycles keeps LiteSVM's account store small.
    let mut world = World::new();
    for case in 0..cases {
        if case > 0 && case % 500 == 0 {
            world = World::new();
        }
        lifecycle(&mut world, &mut rng, case + 1);
        release_jailed(&mut world);
    }
}
