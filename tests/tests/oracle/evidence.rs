//! The Time-Lock evidence: judged against the renter's workload and the registered GPUs (never a list the
//! supplier's agent sends), every unpaid interval with its reason, and an evidence root on chain that the
//! stored heartbeats rebuild.

use timelock_oracle::store::Store;
use timelock_protocol::evidence::{self, LeaseEvidence};
use timelock_protocol::merkle;
use timelock_protocol::policy::Reason;
use timelock_tests::oracle_world::{CLUSTER_ID, JOB_IMAGE};

use super::*;

/// Heartbeats every 30 s from `from` for `intervals` intervals, 5 s into each, with `gpus` as telemetry.
fn beats(
    world: &OracleWorld,
    worker: usize,
    from: i64,
    intervals: i64,
    gpus: impl Fn(i64) -> Vec<timelock_protocol::GpuSample>,
) -> Vec<StoredHeartbeat> {
    (0..intervals)
        .map(|i| {
            let at = from + 30 * i + 5;
            StoredHeartbeat::from_verified(&world.heartbeat(worker, at as u64, at, gpus(i)), at)
        })
        .collect()
}

async fn intervals_of(oracle: &RunningOracle, lease: &anchor_lang::prelude::Pubkey) -> Vec<Value> {
    let (status, body) = send(oracle, "GET", &format!("/v1/leases/{lease}/intervals?limit=1000"), String::new()).await;
    assert_eq!(status, 200, "{body}");
    body["intervals"].as_array().unwrap().clone()
}

fn reasons(intervals: &[Value]) -> Vec<&str> {
    intervals.iter().map(|i| i["reason"].as_str().unwrap()).collect()
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn every_way_of_cheating_is_judged_with_its_reason_and_the_evidence_on_chain_rebuilds(pool: PgPool) {
    // Four hosts, ten minutes in: honest; a miner beside the renter's job from minute 5 (whatever the
    // supplier's agent would have allowed, the renter declared only its job); a GPU swapped for another from
    // minute 5; silent after minute 2.
    let world = OracleWorld::new(4, 8, 2, 600);
    let store = Store::new(pool.clone());
    let start = world.start;
    let mut rows = beats(&world, 0, start, 20, |_| world.honest_gpus(0));
    rows.extend(beats(&world, 1, start, 20, |i| {
        let images: &[Option<&str>] =
            if i >= 10 { &[Some(JOB_IMAGE), Some("crypto-miner")] } else { &[Some(JOB_IMAGE)] };
        world.gpus(1, images)
    }));
    rows.extend(beats(&world, 2, start, 20, |i| {
        let mut gpus = world.honest_gpus(2);
        if i >= 10 {
            gpus[3].uuid = "GPU-from-another-host".into();
        }
        gpus
    }));
    rows.extend(beats(&world, 3, start, 4, |_| world.honest_gpus(3)));
    store.insert_heartbeats(&rows).await.unwrap();

    let config = Config { challenge_timeout_secs: 1_000_000, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config.clone()).await;
    let round = oracle.attestor.round().await.unwrap();
    let judged = ((world.chain.lock().now() - config.max_clock_skew_secs - start) / 30) as usize;
    let sent: Vec<(u32, u16)> = world
        .workers
        .iter()
        .map(|w| round.sent.iter().find(|(l, ..)| *l == w.lease).map(|(_, p, f)| (*p, *f)).unwrap())
        .collect();
    assert_eq!(sent, vec![(judged as u32 * 30, 0), (300, 1), (300, 1), (120, 1)]);

    // Every unpaid interval says why.
    let honest = intervals_of(&oracle, &world.workers[0].lease).await;
    assert_eq!(honest.len(), judged);
    assert!(reasons(&honest).iter().all(|r| *r == "proven"));
    let miner = intervals_of(&oracle, &world.workers[1].lease).await;
    assert_eq!(reasons(&miner)[..10], ["proven"; 10]);
    assert!(reasons(&miner)[10..].iter().all(|r| *r == "foreign_process"), "{miner:?}");
    assert_eq!(miner[10]["image_name"], "crypto-miner");
    assert_eq!((miner[10]["start"].as_i64(), miner[10]["end"].as_i64()), (Some(start + 300), Some(start + 330)));
    let swapped = intervals_of(&oracle, &world.workers[2].lease).await;
    assert!(reasons(&swapped)[10..].iter().all(|r| *r == "gpu_mismatch"), "{swapped:?}");
    let silent = intervals_of(&oracle, &world.workers[3].lease).await;
    assert!(reasons(&silent)[4..].iter().all(|r| *r == "missed"), "{silent:?}");

    // The root on chain with the oracle's vote is the root of the leaves this oracle stored, and the miner's
    // leaf rebuilds from the stored heartbeats and verdicts.
    let me = world.oracle_identity(0);
    let lease = world.lease(1);
    let vote = lease.votes.iter().find(|v| v.oracle.to_bytes() == me).expect("the oracle's vote");
    let row = store.latest_evidence(&me, &world.workers[1].lease.to_bytes()).await.unwrap().expect("evidence");
    assert_eq!(row.root, vote.evidence_root);
    let received = store.lease_heartbeats(&world.workers[1].lease.to_bytes(), lease.start_ts, i64::MAX).await.unwrap();
    let judged_until = lease.start_ts + 30 * judged as i64;
    let leaves: Vec<merkle::Hash> = received
        .iter()
        .filter(|(o, _)| o.received_at < judged_until)
        .map(|(o, signature)| evidence::heartbeat_leaf(o.received_at, signature))
        .collect();
    assert_eq!(leaves.len(), row.heartbeats);
    let verdicts: Vec<Reason> = miner.iter().map(|i| serde_json::from_value(i.clone()).expect("a reason")).collect();
    let rebuilt = LeaseEvidence {
        lease: world.workers[1].lease.to_bytes(),
        window_end: vote.window_end,
        proven_secs: 300,
        faults: 1,
        resolution: 0,
        heartbeats_root: evidence::heartbeats_root(&leaves),
        verdicts_digest: evidence::verdicts_digest(lease.start_ts, 30, &verdicts),
    };
    assert!(merkle::verify(&rebuilt.leaf(), row.position, row.leaves, &row.proof, &vote.evidence_root));
    // One heartbeat less (an oracle hiding what it judged) does not rebuild the leaf.
    let hidden = LeaseEvidence { heartbeats_root: evidence::heartbeats_root(&leaves[1..]), ..rebuilt };
    assert!(!merkle::verify(&hidden.leaf(), row.position, row.leaves, &row.proof, &vote.evidence_root));

    // The renter now declares another image: intervals judged under the old list stay as they were.
    {
        let mut f = world.chain.lock();
        f.set_workload(&world.renter, CLUSTER_ID, &["ghcr.io/renter/other:v2"]).unwrap();
        f.warp(timelock::constants::WORKLOAD_GRACE_SECS + 60);
    }
    oracle.attestor.round().await.unwrap();
    let honest = intervals_of(&oracle, &world.workers[0].lease).await;
    assert!(reasons(&honest)[..judged].iter().all(|r| *r == "proven"), "{honest:?}");
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn the_intervals_endpoint_refuses_bad_input_and_pages(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 1, 600);
    let store = Store::new(pool.clone());
    store.insert_heartbeats(&beats(&world, 0, world.start, 20, |_| world.honest_gpus(0))).await.unwrap();
    let config = Config { challenge_timeout_secs: 1_000_000, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    oracle.attestor.round().await.unwrap();
    let lease = world.workers[0].lease;
    assert_refused(send(&oracle, "GET", "/v1/leases/not-a-key/intervals", String::new()).await, 400, "bad_address");
    let path = format!("/v1/leases/{lease}/intervals?limit=0");
    assert_refused(send(&oracle, "GET", &path, String::new()).await, 400, "malformed");
    let path = format!("/v1/leases/{lease}/intervals?from=x");
    assert_refused(send(&oracle, "GET", &path, String::new()).await, 400, "malformed");
    let (status, first) = send(&oracle, "GET", &format!("/v1/leases/{lease}/intervals?limit=5"), String::new()).await;
    assert_eq!((status, first["intervals"].as_array().unwrap().len()), (200, 5));
    let next = first["next"].as_i64().unwrap();
    let (_, second) =
        send(&oracle, "GET", &format!("/v1/leases/{lease}/intervals?from={next}&limit=5"), String::new()).await;
    assert_eq!(second["intervals"][0]["start"].as_i64(), Some(world.start + 150));
    // A lease nobody judged has no intervals yet.
    let other = anchor_lang::prelude::Pubkey::new_unique();
    let (status, none) = send(&oracle, "GET", &format!("/v1/leases/{other}/intervals"), String::new()).await;
    assert_eq!((status, none["intervals"].as_array().unwrap().len()), (200, 0));
    oracle.stop().await;
}
