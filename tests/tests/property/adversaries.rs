//! The adversaries' moves between steps: dispute rounds, attempts to wash a worker's record, and releasing jailed workers.

use super::*;

/// The renter or the supplier disputes; the admin resolves at once or never (then the dispute lapses at the
/// wind-down). The party whose dispute was decided cannot re-open the same span.
pub(super) fn dispute_round(
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
pub(super) fn wash_attempts(world: &mut World, rng: &mut Rng) {
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

pub(super) fn release_jailed(world: &mut World) {
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
