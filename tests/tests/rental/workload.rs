//! The renter's workload: what may run on its cluster's GPUs, declared on chain by the renter alone.

use timelock::constants::{MAX_WORKLOAD_IMAGES, WORKLOAD_GRACE_SECS};
use timelock::events::WorkloadSet;
use timelock::state::Workload;

use solana_signer::Signer;

use super::*;

const JOB: &str = "ghcr.io/renter/job:v1";

fn workload(s: &Story) -> Workload {
    s.f.account(&pda::workload(&s.f.cluster_address(&s.renter, 1)).0)
}

#[test]
fn the_renter_declares_and_replaces_what_may_run_and_dropped_images_keep_a_grace() {
    let mut s = Story::booked(1, 2);
    let landed = s.f.set_workload(&s.renter, 1, &[JOB, "sha256:5e1f"]).unwrap();
    let declared = workload(&s);
    assert_eq!(declared.cluster, s.f.cluster_address(&s.renter, 1));
    let mut expected = vec![Workload::image_hash(JOB), Workload::image_hash("sha256:5e1f")];
    expected.sort_unstable();
    assert_eq!((declared.images.clone(), declared.changed_at), (expected.clone(), s.f.now()));
    assert_eq!(landed.event::<WorkloadSet>().images, expected);

    s.f.warp(600);
    let landed = s.f.set_workload(&s.renter, 1, &["ghcr.io/renter/job:v2"]).unwrap();
    let replaced = workload(&s);
    assert_eq!(replaced.images, vec![Workload::image_hash("ghcr.io/renter/job:v2")]);
    assert_eq!(landed.event::<WorkloadSet>().retiring.len(), 2);
    let now = s.f.now();
    assert!(replaced.allows(&Workload::image_hash(JOB), now + WORKLOAD_GRACE_SECS - 1));
    assert!(!replaced.allows(&Workload::image_hash(JOB), now + WORKLOAD_GRACE_SECS));
}

#[test]
fn nobody_but_the_renter_can_set_the_workload() {
    let mut s = Story::booked(1, 1);
    s.f.set_workload(&s.renter, 1, &[JOB]).unwrap();
    let cluster = s.f.cluster_address(&s.renter, 1);
    // The supplier (or anyone) names the renter's cluster and workload with its own signature: refused, as
    // the cluster's seeds are the signer's.
    let intruder = s.supplier.authority.insecure_clone();
    let mut ix = ix::cluster_set_workload(intruder.pubkey(), 1, &["miner"]);
    ix.accounts[1].pubkey = cluster;
    ix.accounts[2].pubkey = pda::workload(&cluster).0;
    assert_error(s.f.send(&[ix], &[&intruder]), AnchorError::ConstraintSeeds);
    // Its own workload account for its own (missing) cluster cannot stand in either.
    let ix = ix::cluster_set_workload(intruder.pubkey(), 1, &["miner"]);
    assert_error(s.f.send(&[ix], &[&intruder]), AnchorError::AccountNotInitialized);
    assert_eq!(workload(&s).images, vec![Workload::image_hash(JOB)]);
}

#[test]
fn a_workload_lists_one_to_sixteen_distinct_images_while_the_cluster_is_open() {
    let mut s = Story::booked(1, 1);
    let cluster = s.f.cluster_address(&s.renter, 1);
    let with = |images: Vec<[u8; 32]>| {
        let mut ix = ix::cluster_set_workload(s.renter.key(), 1, &[JOB]);
        ix.data = anchor_lang::InstructionData::data(&timelock::instruction::ClusterSetWorkload { images });
        ix
    };
    assert_error(s.f.send(&[with(vec![])], &[&s.renter.authority]), TimelockError::InvalidWorkload);
    assert_error(s.f.send(&[with(vec![[2; 32], [1; 32]])], &[&s.renter.authority]), TimelockError::InvalidWorkload);
    assert_error(s.f.send(&[with(vec![[1; 32], [1; 32]])], &[&s.renter.authority]), TimelockError::InvalidWorkload);
    let too_many: Vec<[u8; 32]> = (0..=MAX_WORKLOAD_IMAGES as u8).map(|i| [i; 32]).collect();
    assert_error(s.f.send(&[with(too_many)], &[&s.renter.authority]), TimelockError::InvalidWorkload);
    assert!(!s.f.exists(&pda::workload(&cluster).0), "nothing was created by a refused list");
    let most: Vec<[u8; 32]> = (0..MAX_WORKLOAD_IMAGES as u8).map(|i| [i; 32]).collect();
    s.f.exec(with(most), &[&s.renter.authority]);
    s.f.exec(ix::cluster_end(s.renter.key(), 1), &[&s.renter.authority]);
    assert_error(s.f.set_workload(&s.renter, 1, &[JOB]), TimelockError::ClusterNotOpen);
}

#[test]
fn the_workload_closes_with_the_cluster_and_its_rent_returns() {
    let mut s = Story::booked(1, 1);
    s.f.set_workload(&s.renter, 1, &[JOB]).unwrap();
    let address = pda::workload(&s.f.cluster_address(&s.renter, 1)).0;
    let rent = s.f.svm.get_balance(&address).unwrap();
    s.an_hour_attested(3_600, 0);
    s.f.warp(EPOCH + DISPUTE_WINDOW);
    assert!(s.settle_until_closed(0));
    // Another cluster's workload passed in its place (to close it and take its rent): refused.
    s.f.create_cluster(&s.renter, 2, 1).unwrap();
    s.f.set_workload(&s.renter, 2, &[JOB]).unwrap();
    let mut wrong = ix::cluster_close(s.f.payment(&s.renter, 1));
    let last = wrong.accounts.len() - 1;
    wrong.accounts[last].pubkey = pda::workload(&s.f.cluster_address(&s.renter, 2)).0;
    assert_error(s.f.send(&[wrong], &[&s.renter.authority]), TimelockError::InvalidWorkloadAccount);
    let before = s.f.svm.get_balance(&s.renter.key()).unwrap();
    let cluster = s.f.cluster_address(&s.renter, 1);
    let others = s.f.svm.get_balance(&cluster).unwrap() + s.f.svm.get_balance(&pda::escrow(&cluster).0).unwrap();
    s.f.exec(ix::cluster_close(s.f.payment(&s.renter, 1)), &[&s.renter.authority]);
    assert!(!s.f.exists(&address));
    // The workload's rent comes back with the cluster's and the escrow's, less the signature fee.
    assert_eq!(s.f.svm.get_balance(&s.renter.key()).unwrap(), before + rent + others - 5_000);
}

#[test]
fn lamports_sent_to_a_future_workload_address_cannot_block_the_declaration() {
    // Anyone may fund the workload's address before the renter declares (a create would then fail, had the
    // program used a bare `create_account`).
    let mut s = Story::booked(1, 1);
    let address = pda::workload(&s.f.cluster_address(&s.renter, 1)).0;
    s.f.svm.airdrop(&address, 1_000_000).unwrap();
    s.f.set_workload(&s.renter, 1, &[JOB]).unwrap();
    assert_eq!(workload(&s).images, vec![Workload::image_hash(JOB)]);
}
