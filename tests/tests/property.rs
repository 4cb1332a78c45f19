//! Random lifecycles against the real .so. After every step: token conservation to the unit, stake never below
//! locked collateral unless slashed, no lease paid twice for a second, and nothing moves from a paused program's
//! bookings or from a closed lease. `TIMELOCK_PROP_CASES` sets the number of lifecycles (default 10,000).

use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use timelock::math;
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

struct World {
    f: TestFixture,
    suppliers: Vec<SupplierActor>,
    workers: Vec<ix::WorkerRef>,
    renter: Renter,
    minted_payment: u64,
    /// Highest gross ever paid per lease address, to prove payments only grow.
    gross_seen: HashMap<Pubkey, u64>,
    bonds_held: HashMap<u64, u64>,
}

impl World {
    fn new() -> World {
        let mut f = TestFixture::new();
        let mut suppliers = Vec::new();
        let mut workers = Vec::new();
        for _ in 0..3 {
            let (supplier, refs) = f.supplier_with_workers(3);
            suppliers.push(supplier);
            workers.extend(refs);
        }
        let minted_payment = 1_000_000_000 * ONE_USDC;
        let renter = f.renter(minted_payment);
        World { f, suppliers, workers, renter, minted_payment, gross_seen: HashMap::new(), bonds_held: HashMap::new() }
    }

    fn payment_total(&self) -> u64 {
        let f = &self.f;
        let mut total = f.token_balance(&self.renter.payment_tokens) + f.token_balance(&f.treasury_payment_tokens);
        for s in &self.suppliers {
            total += f.token_balance(&pda::earnings_vault(&s.supplier()).0) + f.token_balance(&s.payment_tokens);
        }
        for id in self.bonds_held.keys() {
            let escrow = pda::escrow(&f.cluster_address(&self.renter, *id)).0;
            if f.exists(&escrow) {
                total += f.token_balance(&escrow);
            }
        }
        total
    }

    #[track_caller]
    fn check(&mut self, cluster_id: u64, leases: &[ix::WorkerRef]) {
        let f = &self.f;
        // Payment tokens are conserved across every holder.
        assert_eq!(self.payment_total(), self.minted_payment, "payment conservation");
        // Stake: the vault holds exactly what suppliers are credited with.
        let credited: u64 = self.suppliers.iter().map(|s| f.supplier_account(s).staked).sum();
        assert_eq!(f.token_balance(&pda::stake_vault().0), credited, "stake conservation");
        for s in &self.suppliers {
            let account = f.supplier_account(s);
            assert!(account.staked >= account.locked || account.slashed_total > 0, "stake below collateral");
        }
        let cluster_address = f.cluster_address(&self.renter, cluster_id);
        if !f.exists(&cluster_address) {
            return;
        }
        let cluster = f.cluster(&self.renter, cluster_id);
        let escrow = f.token_balance(&pda::escrow(&cluster_address).0);
        let bonds = self.bonds_held.get(&cluster_id).copied().unwrap_or(0);
        assert_eq!(
            escrow + cluster.paid_to_suppliers + cluster.fees + cluster.refunded,
            cluster.deposited + bonds,
            "escrow conservation"
        );
        for w in leases {
            let address = f.lease_address(&self.renter, cluster_id, w);
            if !f.exists(&address) {
                continue;
            }
            let lease = f.lease(&self.renter, cluster_id, w);
            let payable = lease.final_secs.min(lease.max_secs(cluster.end_ts));
            let owed = math::payment_for(lease.hourly_rate, payable).unwrap();
            assert_eq!(lease.gross_paid, owed.min(lease.gross_paid), "paid beyond final seconds");
            assert!(lease.final_secs <= lease.proven_secs, "final beyond proven");
            let seen = self.gross_seen.entry(address).or_default();
            assert!(lease.gross_paid >= *seen, "payment went backwards");
            *seen = lease.gross_paid;
        }
    }
}

fn lifecycle(world: &mut World, rng: &mut Rng, cluster_id: u64) {
    let hours = 1 + rng.below(3) as u32;
    world.f.create_cluster(&world.renter, cluster_id, hours).expect("cluster_create");
    world.bonds_held.insert(cluster_id, 0);
    let count = 1 + rng.below(3) as usize;
    let start = rng.below(world.workers.len() as u64) as usize;
    let booked: Vec<_> = (0..count).map(|i| world.workers[(start + i) % world.workers.len()]).collect();
    let renter_key = world.renter.key();
    match world.f.add_workers(&world.renter, cluster_id, &booked) {
        Ok(_) => {}
        Err(failed) => {
            // A jailed worker may refuse the booking; nothing moved.
            assert_eq!(failed.custom_code(), Some(TimelockError::WorkerJailed.code()));
            world.check(cluster_id, &[]);
            let close = ix::cluster_close(world.f.payment(&world.renter, cluster_id));
            world.f.warp(i64::from(hours) * 3_600);
            world.f.exec(close, &[&world.renter.authority]);
            return;
        }
    }
    world.check(cluster_id, &booked);
    for _ in 0..rng.below(6) {
        world.f.warp(60 + rng.below(1_800) as i64);
        match rng.below(10) {
            0..=4 => {
                let window = world.f.now();
                let oracle = rng.below(3) as usize;
                let reports: Vec<_> = booked
                    .iter()
                    .map(|w| {
                        let lease = world.f.lease_address(&world.renter, cluster_id, w);
                        (lease, rng.below(4 * 3_600) as u32, rng.below(3) as u16 * u16::from(rng.chance(15)))
                    })
                    .filter(|(lease, _, _)| world.f.exists(lease))
                    .collect();
                if !reports.is_empty() {
                    world.f.attest(oracle, window, &reports).expect("attest");
                }
            }
            5 | 6 => {
                let w = booked[rng.below(booked.len() as u64) as usize];
                let _ = world.f.settle(&world.renter, cluster_id, &w);
            }
            7 => {
                let _ = world.f.send(
                    &[ix::cluster_extend(world.f.payment(&world.renter, cluster_id), 1)],
                    &[&world.renter.authority],
                );
            }
            8 => {
                let w = booked[rng.below(booked.len() as u64) as usize];
                let _ = world
                    .f
                    .send(&[ix::cluster_remove_worker(renter_key, cluster_id, w.worker)], &[&world.renter.authority]);
            }
            _ => {
                let w = booked[rng.below(booked.len() as u64) as usize];
                let payment = world.f.payment(&world.renter, cluster_id);
                let dispute = ix::lease_dispute(renter_key, world.renter.payment_tokens, payment, w.worker, w.supplier);
                if world.f.send(&[dispute], &[&world.renter.authority]).is_ok() {
                    *world.bonds_held.get_mut(&cluster_id).unwrap() += 10 * ONE_USDC;
                    world.check(cluster_id, &booked);
                    let lease = world.f.lease(&world.renter, cluster_id, &w);
                    let admin = world.f.admin.insecure_clone();
                    let upheld = rng.chance(50);
                    let resolve = ix::lease_dispute_resolve(
                        admin.pubkey(),
                        payment,
                        w.worker,
                        world.renter.payment_tokens,
                        world.f.treasury_payment_tokens,
                        (lease.final_secs + rng.below(600)).min((world.f.now() - lease.start_ts) as u64),
                        upheld,
                    );
                    world.f.exec(resolve, &[&admin]);
                    *world.bonds_held.get_mut(&cluster_id).unwrap() -= 10 * ONE_USDC;
                }
            }
        }
        world.check(cluster_id, &booked);
    }

    // A paused program takes no new money for this cluster, then resumes.
    if rng.chance(10) {
        let admin = world.f.admin.insecure_clone();
        world.f.exec(ix::pause(admin.pubkey()), &[&admin]);
        let before = world.payment_total();
        let extend = ix::cluster_extend(world.f.payment(&world.renter, cluster_id), 1);
        let result = world.f.send(&[extend], &[&world.renter.authority]);
        assert_eq!(result.unwrap_err().custom_code(), Some(TimelockError::Paused.code()));
        assert_eq!(world.payment_total(), before);
        world.f.exec(ix::unpause(admin.pubkey()), &[&admin]);
    }

    // Wind down: end, let the last attestations and windows pass, settle every lease until it closes.
    let _ = world.f.send(&[ix::cluster_end(renter_key, cluster_id)], &[&world.renter.authority]);
    world.f.warp(1_200);
    for w in &booked {
        let address = world.f.lease_address(&world.renter, cluster_id, w);
        if !world.f.exists(&address) {
            continue; // removed from the cluster and already settled
        }
        let mut closed = false;
        for _ in 0..3 {
            let settled: timelock::events::LeaseSettled =
                world.f.settle(&world.renter, cluster_id, w).expect("settle").event();
            world.check(cluster_id, &booked);
            if settled.closed {
                closed = true;
                break;
            }
            world.f.warp(600);
        }
        assert!(closed, "lease closes after its windows");
        // A closed lease moves nothing again.
        let before = world.payment_total();
        assert!(world.f.settle(&world.renter, cluster_id, w).is_err());
        assert_eq!(world.payment_total(), before);
        world.gross_seen.remove(&address);
    }
    let cluster = world.f.cluster(&world.renter, cluster_id);
    assert_eq!(cluster.paid_to_suppliers + cluster.fees + cluster.refunded, cluster.deposited);
    world.f.exec(ix::cluster_close(world.f.payment(&world.renter, cluster_id)), &[&world.renter.authority]);
    world.bonds_held.remove(&cluster_id);
    world.check(cluster_id, &[]);

    // Jailed workers are released once their cool-down has passed, so the pool stays bookable.
    for (i, w) in world.workers.clone().iter().enumerate() {
        let worker = world.f.account::<timelock::state::Worker>(&w.worker);
        if worker.jailed_until != 0 && world.f.now() >= worker.jailed_until {
            let supplier = &world.suppliers[i / 3];
            let unjail = ix::worker_unjail(supplier.key(), worker.worker_index);
            world.f.exec(unjail, &[&supplier.authority]);
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
    }
}
