//! Random lifecycles against the real .so, with adversaries among the actors: a renter that hands its wallet to
//! another program, renters and suppliers that dispute again and again or leave disputes to lapse, a supplier
//! renting its own workers, suppliers whose `worker_update` races the renter's booking, and suppliers that
//! deregister and register again to wash their record. After every step: token conservation to the unit, no
//! lease slashed beyond its own collateral, stake covering every commitment, fault records that never shrink,
//! no lease paid twice for a second, nothing moving from a paused program's bookings or from a closed lease; and
//! every lease is settled and closed by one crank once its end, one epoch, the dispute window and the dispute
//! timeout have passed, whatever its parties did. `TIMELOCK_PROP_CASES` sets the number of lifecycles (default
//! 10,000).

mod adversaries;
mod lifecycles;

use std::collections::{BTreeSet, HashMap};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::system_instruction;
use timelock::math;
use timelock::state::{Lease, Worker, WorkerSpec};
use timelock_sdk::{ix, pda};
use timelock_tests::*;

use adversaries::{dispute_round, release_jailed, wash_attempts};
use lifecycles::lifecycle;

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
        // And it holds exactly what it still owes: each open lease's unpaid entitlement (paid later or refunded at
        // its close), the fees it charged (sent to the treasury at its close), and the bonds.
        let owed: u64 =
            leases.iter().map(|(_, l)| l.entitled(cluster.hours).unwrap() - l.gross_paid + l.fees_paid).sum();
        assert_eq!(escrow, owed + bonds, "escrow holds what open leases are owed, their fees included");
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
