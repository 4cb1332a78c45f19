//! The renter's voice: a probe in the renter's container, granted by the renter's wallet, reports the GPUs it
//! sees. Only the renter can grant it; a complaint brings the worker a challenge at once and leaves the interval
//! unpaid, never faulted, unless a passed challenge answers it.

use timelock_protocol::renter::{ProbeGrant, RenterReport, SignedGrant, SignedReport};
use timelock_tests::{gpu_uuids, Keypair, Signer};

use super::*;

/// A grant of `probe` on `lease` signed by `by`.
fn grant(by: &Keypair, lease: [u8; 32], probe: &SigningKey, expires_at: i64) -> SignedGrant {
    let grant = ProbeGrant { lease, probe: probe.verifying_key().to_bytes(), expires_at };
    SignedGrant { signature: by.sign_message(&grant.signing_bytes()).into(), grant }
}

fn report(
    world: &OracleWorld,
    sequence: u64,
    gpus: Vec<String>,
    grant: &SignedGrant,
    probe: &SigningKey,
) -> SignedReport {
    let lease = world.workers[0].lease.to_bytes();
    let report = RenterReport { lease, sequence, timestamp: unix_now(), gpus, matmul_size: 4_096, matmul_ms: 12 };
    report.sign(grant.clone(), probe)
}

fn lease(world: &OracleWorld) -> [u8; 32] {
    world.workers[0].lease.to_bytes()
}

async fn post_report(oracle: &RunningOracle, report: &SignedReport) -> (u16, Value) {
    send(oracle, "POST", "/v1/renter-reports", serde_json::to_string(report).unwrap()).await
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn only_the_renters_probe_is_heard_and_its_complaint_brings_a_challenge_at_once(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 2, 0);
    // Three-second intervals: one report per lease and interval is taken. Reports are stamped in whole seconds,
    // so the refusals below must not cross into the next interval even on a slow machine: one-second intervals
    // made the rate check a race against the clock's next tick.
    let config = Config { interval_secs: 3, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    let probe = SigningKey::from_bytes(&[0x77; 32]);
    let granted = grant(&world.renter.authority, lease(&world), &probe, unix_now() + 3_600);
    let registered = gpu_uuids(&world.workers[0].worker, 8);

    // The lease's first heartbeat brings its first challenge; answered, the next one is an hour away.
    let (status, body) = post_heartbeat(&oracle, &world.heartbeat(0, 1, unix_now(), world.honest_gpus(0))).await;
    assert_eq!(status, 202, "{body}");
    let first: Challenge = serde_json::from_value(body["open_challenge"]["challenge"].clone()).unwrap();
    let kept = Committed::new(first.size as usize, challenge::solve(&first));
    let worker = world.workers[0].worker.to_bytes();
    let device = &world.workers[0].device;
    let commitment = Commitment { id: first.id, root: kept.root, duration_micros: 1 }.sign(worker, &first, device);
    let (_, taken) = send(
        &oracle,
        "POST",
        &format!("/v1/challenges/{}/commitment", first.id),
        serde_json::to_string(&commitment).unwrap(),
    )
    .await;
    let probe_rows: Probe = serde_json::from_value(taken["probe"].clone()).unwrap();
    let opening = serde_json::to_string(&kept.open(&probe_rows).sign(worker, &first, device)).unwrap();
    let (status, judged) = send(&oracle, "POST", &format!("/v1/challenges/{}/opening", first.id), opening).await;
    assert_eq!((status, &judged["verdict"]), (200, &json!("Passed")), "{judged}");
    let (_, body) = post_heartbeat(&oracle, &world.heartbeat(0, 2, unix_now(), world.honest_gpus(0))).await;
    assert!(body["open_challenge"].is_null(), "nothing due: {body}");

    // What the renter sees agrees with the registration.
    let (status, body) = post_report(&oracle, &report(&world, 1, registered.clone(), &granted, &probe)).await;
    assert_eq!((status, body), (202, json!({ "accepted": true, "agrees": true })));
    // Nobody but the renter grants a voice, nobody but the granted probe speaks with it, and a grant ends.
    let supplier = Keypair::new();
    let by_supplier = grant(&supplier, lease(&world), &probe, unix_now() + 3_600);
    assert_refused(post_report(&oracle, &report(&world, 2, vec![], &by_supplier, &probe)).await, 401, "bad_signature");
    let stranger = SigningKey::from_bytes(&[0x78; 32]);
    assert_refused(post_report(&oracle, &report(&world, 3, vec![], &granted, &stranger)).await, 401, "bad_signature");
    let expired = grant(&world.renter.authority, lease(&world), &probe, unix_now() - 1);
    assert_refused(post_report(&oracle, &report(&world, 4, vec![], &expired, &probe)).await, 422, "too_old");
    let elsewhere = grant(&world.renter.authority, [5; 32], &probe, unix_now() + 3_600);
    // (a grant for another lease, say one of another supplier's workers in the same cluster)
    assert_refused(post_report(&oracle, &report(&world, 5, vec![], &elsewhere, &probe)).await, 404, "unknown_lease");
    assert_refused(post_report(&oracle, &report(&world, 1, registered.clone(), &granted, &probe)).await, 409, "replay");
    let flood = (0..65).map(|i| format!("GPU-{i}")).collect();
    assert_refused(post_report(&oracle, &report(&world, 6, flood, &granted, &probe)).await, 400, "malformed");

    let (status, body) = post_report(&oracle, &report(&world, 8, registered.clone(), &granted, &probe)).await;
    assert_eq!((status, &body["error"]["code"]), (429, &json!("too_frequent")), "one per interval: {body}");

    // The renter sees one GPU fewer: a complaint, and the worker's next heartbeat brings a challenge although
    // the schedule had none due for a while.
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    let (status, body) = post_report(&oracle, &report(&world, 7, registered[1..].to_vec(), &granted, &probe)).await;
    assert_eq!((status, body), (202, json!({ "accepted": true, "agrees": false })));
    let (_, body) = post_heartbeat(&oracle, &world.heartbeat(0, 3, unix_now(), world.honest_gpus(0))).await;
    let second: Challenge = serde_json::from_value(body["open_challenge"]["challenge"].clone()).expect("{body}");
    assert_ne!(second.id, first.id);
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_complaint_leaves_its_interval_unpaid_without_a_fault_until_a_passed_challenge_answers_it(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 2, 900);
    let store = Store::new(pool.clone());
    let start = world.start;
    let rows: Vec<_> = (0..30)
        .map(|i| {
            let at = start + 30 * i + 5;
            StoredHeartbeat::from_verified(&world.heartbeat(0, at as u64, at, world.honest_gpus(0)), at)
        })
        .collect();
    store.insert_heartbeats(&rows).await.unwrap();
    let probe = SigningKey::from_bytes(&[0x77; 32]);
    let granted = grant(&world.renter.authority, lease(&world), &probe, unix_now() + 3_600);
    let complaint = report(&world, 1, vec!["GPU-elsewhere".into()], &granted, &probe);
    let stored = store.record_renter_report(&complaint, start + 305, false, 30).await.unwrap();
    assert_eq!(stored, timelock_oracle::renter::Stored::New);

    let config = Config { challenge_timeout_secs: 1_000_000, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config.clone()).await;
    let window = world.chain.lock().now() - config.max_clock_skew_secs - start;
    let all = (window / 30 * 30) as u32;
    let round = oracle.attestor.round().await.unwrap();
    assert_eq!(round.sent, vec![(world.workers[0].lease, all - 30, 0)], "one interval unpaid, no fault");
    let (_, intervals) =
        send(&oracle, "GET", &format!("/v1/leases/{}/intervals", world.workers[0].lease), String::new()).await;
    let tenth = &intervals["intervals"][10];
    assert_eq!(
        (&tenth["reason"], &tenth["renter_saw"], &tenth["expected"]),
        (&json!("renter_disagreement"), &json!(1), &json!(8))
    );

    // The worker passes a challenge right after the complaint: positive proof outweighs it.
    let me = world.oracle_identity(0);
    sqlx::query(
        "INSERT INTO oracle.challenges (oracle, worker, lease, seed, size, issued_at, deadline, answered_at, verdict) \
         VALUES ($1, $2, $3, $4, 24, $5, $6, $7, 'passed')",
    )
    .bind(&me[..])
    .bind(&world.workers[0].worker.to_bytes()[..])
    .bind(&world.workers[0].lease.to_bytes()[..])
    .bind(&[0u8; 32][..])
    .bind(start + 310)
    .bind(start + 400)
    .bind(start + 320)
    .execute(&pool)
    .await
    .unwrap();
    let round = oracle.attestor.round().await.unwrap();
    assert_eq!(round.sent, vec![(world.workers[0].lease, all, 0)]);
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_complaint_never_pushes_the_scheduled_challenge_away(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 2, 0);
    let store = Store::new(pool);
    let (oracle, worker, lease) = (world.oracle_identity(0), world.workers[0].worker.to_bytes(), lease(&world));
    let class = OracleWorld::oracle_config().challenge_default;
    let now = unix_now();
    let issue = |at: i64| store.challenge_for_heartbeat(&oracle, &worker, &lease, at * 1_000, 1_200, 120, class, true);
    let (first, scheduled) = issue(now).await.unwrap();
    let first = first.expect("the lease's first challenge");
    store.record_answer(first.challenge.id as i64, now, 1, challenge::ChallengeVerdict::Passed).await.unwrap();
    // The renter complains: the next heartbeat brings a prompted challenge, and the scheduled one stays due when
    // it was (complaining every few minutes cannot keep a faultable challenge from coming).
    let probe = SigningKey::from_bytes(&[0x77; 32]);
    let granted = grant(&world.renter.authority, lease, &probe, now + 3_600);
    let complaint = report(&world, 1, vec!["GPU-elsewhere".into()], &granted, &probe);
    store.record_renter_report(&complaint, now + 1, false, 30).await.unwrap();
    let (prompted, next_due) = issue(now + 2).await.unwrap();
    assert!(prompted.is_some_and(|c| c.challenge.id != first.challenge.id));
    assert_eq!(next_due, scheduled);
}
