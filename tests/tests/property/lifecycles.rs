//! One random lifecycle: booking (with racing listing updates), attestations, settlement, extension, removal, a reassigned wallet, a pause, and the liveness bound.

use super::*;

/// A booking refused for a reason the actors can cause; nothing may have moved.
fn refused_booking(code: Option<u32>) -> bool {
    [TimelockError::WorkerJailed, TimelockError::InsufficientFreeStake, TimelockError::WorkerUnavailable]
        .iter()
        .any(|e| code == Some(e.code()))
}

pub(super) fn lifecycle(world: &mut World, rng: &mut Rng, cluster_id: u64) {
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
