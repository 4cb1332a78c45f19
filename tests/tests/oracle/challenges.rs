//! Challenges: issued only in the answer to the worker's own heartbeat, answered once and judged; bound to the
//! oracle that issued them and to their lease; and the agent that delivers heartbeats and answers them.

use anchor_lang::prelude::Pubkey;

use super::*;

/// Posts the worker's heartbeat `sequence` and returns the challenge its 202 carries, if any.
async fn heartbeat_for_challenge(world: &OracleWorld, oracle: &RunningOracle, sequence: u64) -> Option<Challenge> {
    let (status, body) = post_heartbeat(oracle, &world.heartbeat(0, sequence, unix_now(), world.honest_gpus(0))).await;
    assert_eq!(status, 202, "{body}");
    serde_json::from_value(body["open_challenge"]["challenge"].clone()).ok()
}

/// The worker's signed commitment to `kept` (its product of `c`) and where it goes.
fn commit(world: &OracleWorld, c: &Challenge, kept: &Committed, device: &SigningKey) -> (String, String) {
    let worker = world.workers[0].worker.to_bytes();
    let signed = Commitment { id: c.id, root: kept.root, duration_micros: 900 }.sign(worker, c, device);
    (format!("/v1/challenges/{}/commitment", c.id), serde_json::to_string(&signed).unwrap())
}

/// The worker's signed opening of `opening` and where it goes.
fn open(world: &OracleWorld, c: &Challenge, opening: Opening, device: &SigningKey) -> (String, String) {
    let signed = opening.sign(world.workers[0].worker.to_bytes(), c, device);
    (format!("/v1/challenges/{}/opening", c.id), serde_json::to_string(&signed).unwrap())
}

/// Commits to the honest product of `c` and opens it as probed: the oracle's verdict.
async fn answer_honestly(world: &OracleWorld, oracle: &RunningOracle, c: &Challenge, device: &SigningKey) -> Value {
    let kept = Committed::new(c.size as usize, challenge::solve(c));
    let (to, body) = commit(world, c, &kept, device);
    let (status, taken) = send(oracle, "POST", &to, body).await;
    assert_eq!(status, 200, "{taken}");
    let probe: Probe = serde_json::from_value(taken["probe"].clone()).expect("a probe");
    let (to, body) = open(world, c, kept.open(&probe), device);
    let (status, judged) = send(oracle, "POST", &to, body).await;
    assert_eq!(status, 200, "{judged}");
    judged
}

/// `GET /v1/workers/{worker}/challenge` signed by `device` for `oracle` at `timestamp`.
fn read_path(world: &OracleWorld, oracle: [u8; 32], timestamp: i64, device: &SigningKey) -> String {
    let worker = world.workers[0].worker;
    let signature = challenge::sign_fetch(worker.to_bytes(), oracle, timestamp, device);
    let hex = timelock_protocol::signature_to_hex(&signature);
    format!("/v1/workers/{worker}/challenge?timestamp={timestamp}&signature={hex}")
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn challenges_go_out_with_heartbeats_are_committed_then_opened_once_and_judged(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 2, 0);
    let config = Config { challenge_every_secs: 0, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    let device = &world.workers[0].device;

    // The first heartbeat of the lease brings a challenge, bound to this oracle; until it is answered, every
    // heartbeat brings the same one.
    let first = heartbeat_for_challenge(&world, &oracle, 1).await.expect("a challenge is due");
    assert_eq!(first.oracle, world.oracle_identity(0));
    assert_eq!(heartbeat_for_challenge(&world, &oracle, 2).await, Some(first.clone()));
    let kept = Committed::new(first.size as usize, challenge::solve(&first));
    let (to, body) = commit(&world, &first, &kept, device);
    let (status, taken) = send(&oracle, "POST", &to, body.clone()).await;
    assert_eq!(status, 200, "{taken}");
    let probe: Probe = serde_json::from_value(taken["probe"].clone()).unwrap();
    assert_eq!((probe.id, probe.rows), (first.id, 16));
    assert_refused(send(&oracle, "POST", &to, body).await, 409, "already_answered");
    let (to, body) = open(&world, &first, kept.open(&probe), device);
    let (status, verdict) = send(&oracle, "POST", &to, body.clone()).await;
    assert_eq!((status, verdict["verdict"].as_str()), (200, Some("Passed")));
    assert_refused(send(&oracle, "POST", &to, body).await, 409, "already_answered");

    // Refusals that record nothing: another key, another id, an unknown challenge, an opening before any
    // commitment.
    let second = heartbeat_for_challenge(&world, &oracle, 3).await.expect("due again");
    assert_ne!(second.id, first.id);
    let kept = Committed::new(second.size as usize, challenge::solve(&second));
    let (to, body) = commit(&world, &second, &kept, &SigningKey::from_bytes(&[3; 32]));
    assert_refused(send(&oracle, "POST", &to, body).await, 401, "bad_signature");
    let (_, body) = commit(&world, &second, &kept, device);
    let elsewhere = format!("/v1/challenges/{}/commitment", first.id);
    assert_refused(send(&oracle, "POST", &elsewhere, body).await, 422, "id_mismatch");
    let unknown = Challenge { id: 999_999, ..second.clone() };
    let (to, body) = commit(&world, &unknown, &kept, device);
    assert_refused(send(&oracle, "POST", &to, body).await, 404, "unknown_challenge");
    let early = kept.open(&Probe { id: second.id, seed: [1; 32], rows: 8, open_by: 0 });
    let (to, body) = open(&world, &second, early, device);
    assert_refused(send(&oracle, "POST", &to, body).await, 409, "not_committed");

    // A wrong opened row fails: committed honestly, then one entry of a probed row changed.
    let (to, body) = commit(&world, &second, &kept, device);
    let (_, taken) = send(&oracle, "POST", &to, body).await;
    let probe: Probe = serde_json::from_value(taken["probe"].clone()).unwrap();
    let mut opening = kept.open(&probe);
    opening.rows[0].values[5] = (opening.rows[0].values[5] + 1) % challenge::MODULUS as u32;
    let (to, body) = open(&world, &second, opening, device);
    assert_eq!(send(&oracle, "POST", &to, body).await.1["verdict"], "WrongAnswer");

    // A commitment after the deadline is refused; the challenge counts as failed.
    let third = heartbeat_for_challenge(&world, &oracle, 4).await.expect("due again");
    sqlx::query("UPDATE oracle.challenges SET deadline = deadline - 1000 WHERE id = $1")
        .bind(third.id as i64)
        .execute(&pool)
        .await
        .unwrap();
    let kept = Committed::new(third.size as usize, challenge::solve(&third));
    let (to, body) = commit(&world, &third, &kept, device);
    assert_refused(send(&oracle, "POST", &to, body).await, 422, "too_old");

    let lease = world.workers[0].lease.to_bytes();
    let results = Store::new(pool).challenge_results(&world.oracle_identity(0), &lease, unix_now()).await.unwrap();
    let passed: Vec<bool> = results.iter().map(|(_, r)| r.passed).collect();
    assert_eq!(passed, vec![false, true, false], "expired (earliest deadline), passed, wrong");
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_cpu_cannot_answer_an_h100_class_challenge_in_time(pool: PgPool) {
    // The oracle's real class table: the worker's H100s get the H100's challenge and deadline.
    let world = OracleWorld::new(1, 8, 2, 0);
    let config = Config { challenge_every_secs: 0, ..OracleWorld::oracle_config() };
    let config = Config { challenge_classes: timelock_oracle::config::gpu_challenge_classes(), ..config };
    let class = config.challenge_class("H100-SXM");
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    let issued = heartbeat_for_challenge(&world, &oracle, 1).await.expect("a challenge is due");
    assert_eq!(issued.size, class.size);

    // What the CPU solver would take at that size, from its rate at a small one (the product is n³ work).
    let small = Challenge { size: 96, ..issued.clone() };
    let started = std::time::Instant::now();
    challenge::solve(&small);
    let scale = (f64::from(class.size) / 96.0).powi(3);
    let cpu_ms = started.elapsed().as_secs_f64() * 1_000.0 * scale;
    assert!(cpu_ms > 20.0 * class.commit_ms as f64, "a CPU needs {cpu_ms:.0} ms, the class {} ms", class.commit_ms);

    // So its commitment arrives after the class's deadline: too slow, whatever it commits to.
    tokio::time::sleep(std::time::Duration::from_millis(class.commit_ms + 100)).await;
    let kept = Committed::new(2, vec![0; 4]);
    let (to, body) = commit(&world, &issued, &kept, &world.workers[0].device);
    let (status, taken) = send(&oracle, "POST", &to, body).await;
    assert_eq!((status, taken["verdict"].as_str(), taken.get("probe")), (200, Some("TooSlow"), None), "{taken}");
    let lease = world.workers[0].lease.to_bytes();
    let results = Store::new(pool).challenge_results(&world.oracle_identity(0), &lease, unix_now()).await.unwrap();
    assert_eq!(results.iter().map(|(_, r)| r.passed).collect::<Vec<_>>(), vec![false]);
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_third_party_polling_the_challenge_endpoint_cannot_make_an_honest_agent_fail(pool: PgPool) {
    // Once, the first GET by anyone started the answer clock, and an attacker polling every second made the
    // agent's answer (fetched on its next tick) too slow: a fault on chain for an honest worker.
    let world = OracleWorld::new(1, 8, 2, 0);
    let config = OracleWorld::oracle_config();
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    let me = world.oracle_identity(0);
    let worker = world.workers[0].worker;
    let now = unix_now();
    let stranger = SigningKey::from_bytes(&[3; 32]);

    // The attacker polls: unsigned, signed by itself, replaying the worker's read made for another oracle, or
    // an old one. Nothing is served and nothing is issued.
    for _ in 0..5 {
        let unsigned = format!("/v1/workers/{worker}/challenge");
        assert_refused(send(&oracle, "GET", &unsigned, String::new()).await, 400, "malformed");
        let forged = read_path(&world, me, now, &stranger);
        assert_refused(send(&oracle, "GET", &forged, String::new()).await, 401, "bad_signature");
        let for_another = read_path(&world, world.oracle_identity(1), now, &world.workers[0].device);
        assert_refused(send(&oracle, "GET", &for_another, String::new()).await, 401, "bad_signature");
        let stale = read_path(&world, me, now - 3_600, &world.workers[0].device);
        assert_refused(send(&oracle, "GET", &stale, String::new()).await, 422, "too_old");
        // Once an overflow that dropped the connection (found by Schemathesis).
        let ancient = read_path(&world, me, i64::MIN + 1, &world.workers[0].device);
        assert_refused(send(&oracle, "GET", &ancient, String::new()).await, 422, "too_old");
    }
    let issued: i64 = sqlx::query_scalar("SELECT count(*) FROM oracle.challenges").fetch_one(&pool).await.unwrap();
    assert_eq!(issued, 0, "reading issues nothing");
    // The worker's own read, before any heartbeat: nothing open.
    let own = read_path(&world, me, unix_now(), &world.workers[0].device);
    assert_eq!(send(&oracle, "GET", &own, String::new()).await.0, 204);

    // The attacker keeps polling for longer than the answer may take while the agent is between ticks; the
    // agent's tick still passes.
    let delivered = heartbeat_for_challenge(&world, &oracle, 1).await.expect("issued to the worker");
    let own = read_path(&world, me, unix_now(), &world.workers[0].device);
    let (status, body) = send(&oracle, "GET", &own, String::new()).await;
    assert_eq!((status, body["challenge"]["id"].as_u64()), (200, Some(delivered.id)), "the worker may read it again");
    for _ in 0..3 {
        let unsigned = format!("/v1/workers/{worker}/challenge");
        assert_refused(send(&oracle, "GET", &unsigned, String::new()).await, 400, "malformed");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let verdict = answer_honestly(&world, &oracle, &delivered, &world.workers[0].device).await;
    assert_eq!(verdict["verdict"], "Passed");
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_commitment_replayed_at_another_oracle_is_refused(pool: PgPool) {
    // A bad oracle issues its own challenge under the id an honest oracle gave the worker, with its own seed,
    // takes the worker's commitment to it and replays it to the honest oracle, where it commits to the wrong
    // product: a WrongAnswer fault, and the worker's real commitment refused as a second one.
    let world = OracleWorld::new(1, 8, 2, 0);
    let config = OracleWorld::oracle_config();
    let honest = world.start_oracle(pool.clone(), 0, config).await;
    let device = &world.workers[0].device;
    let issued = heartbeat_for_challenge(&world, &honest, 1).await.expect("a challenge is due");

    let bad_oracle = SigningKey::from_bytes(&[66; 32]).verifying_key().to_bytes();
    let bad = Challenge { id: issued.id, seed: [13; 32], size: issued.size, oracle: bad_oracle };
    let kept = Committed::new(bad.size as usize, challenge::solve(&bad));
    let (to, replayed) = commit(&world, &bad, &kept, device);
    assert_refused(send(&honest, "POST", &to, replayed).await, 401, "bad_signature");
    // The same seed and id, presented as another oracle's challenge: still not this oracle's.
    let posing = Challenge { oracle: bad_oracle, ..issued.clone() };
    let kept = Committed::new(posing.size as usize, challenge::solve(&posing));
    let (to, replayed) = commit(&world, &posing, &kept, device);
    assert_refused(send(&honest, "POST", &to, replayed).await, 401, "bad_signature");

    let verdict = answer_honestly(&world, &honest, &issued, device).await;
    assert_eq!(verdict["verdict"], "Passed", "nothing was recorded before");
    honest.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn an_unanswered_challenge_from_before_a_lease_does_not_fault_it(pool: PgPool) {
    // The worker's previous lease ended with a challenge it never answered; its new lease, 15 minutes in, has
    // been honest throughout.
    let world = OracleWorld::new(1, 8, 2, 900);
    let me = world.oracle_identity(0);
    let previous_lease = Pubkey::new_unique();
    sqlx::query(
        "INSERT INTO oracle.challenges (oracle, worker, lease, seed, size, issued_at, deadline) \
         VALUES ($1, $2, $3, $4, 24, $5, $6)",
    )
    .bind(&me[..])
    .bind(&world.workers[0].worker.to_bytes()[..])
    .bind(&previous_lease.to_bytes()[..])
    .bind(&[1u8; 32][..])
    .bind(world.start - 1_000)
    .bind(world.start - 880)
    .execute(&pool)
    .await
    .unwrap();
    let rows: Vec<StoredHeartbeat> = (0..30)
        .map(|i| {
            let at = world.start + 30 * i + 5;
            StoredHeartbeat::from_verified(&world.heartbeat(0, at as u64, at, world.honest_gpus(0)), at)
        })
        .collect();
    Store::new(pool.clone()).insert_heartbeats(&rows).await.unwrap();

    let oracle = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    let round = oracle.attestor.round().await.unwrap();
    assert_eq!(round.sent.len(), 1);
    let (_, proven_secs, faults) = round.sent[0];
    assert_eq!(faults, 0, "the earlier lease's challenge is not this lease's fault");
    assert!(proven_secs >= 780, "{proven_secs}");
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn the_agent_delivers_heartbeats_and_answers_its_challenge(pool: PgPool) {
    use timelock_agent::client::Agent;
    use timelock_agent::telemetry::FileSource;

    let world = OracleWorld::new(1, 8, 2, 0);
    let config = OracleWorld::oracle_config();
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    let dir = tempfile::tempdir().unwrap();
    let (identity, telemetry) = world.agent_of(0, dir.path());
    let url = format!("http://{}", oracle.addr);
    let (device, oracles) = (world.workers[0].device.clone(), vec![url.clone()]);
    // The agent's blocking HTTP client lives and dies on a blocking thread.
    let (first, second) = tokio::task::spawn_blocking(move || {
        let mut agent = Agent::new(identity, device, Box::new(FileSource { path: telemetry }), oracles);
        let now = unix_now() as u64 * 1000;
        let first = agent.tick(now);
        let second = agent.tick(now); // same millisecond: the sequence still grows
        (first, second)
    })
    .await
    .unwrap();
    assert_eq!((first.delivered, first.errors.len()), (1, 0), "{:?}", first.errors);
    assert_eq!(first.challenges.len(), 1);
    assert_eq!((first.challenges[0].0.as_str(), first.challenges[0].2.as_str()), (url.as_str(), "Passed"));
    assert_eq!((second.delivered, second.challenges.len(), second.errors.len()), (1, 0, 0), "{:?}", second.errors);
    assert_eq!(second.sequence, first.sequence + 1);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM oracle.heartbeats").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, 2);
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn challenges_come_at_times_the_worker_cannot_predict(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 2, 0);
    let store = Store::new(pool);
    let (oracle, worker) = (world.oracle_identity(0), world.workers[0].worker.to_bytes());
    let class = OracleWorld::oracle_config().challenge_default;
    let every = 1_200;
    let mut gaps = std::collections::BTreeSet::new();
    for lease in 0..20u8 {
        let (issued, next_due) = store
            .challenge_for_heartbeat(&oracle, &worker, &[lease; 32], 1_000_000, every, 120, class, true)
            .await
            .unwrap();
        assert!(issued.is_some(), "a lease's first heartbeat brings its first challenge");
        let gap = next_due - 1_000;
        assert!((every / 2..=every * 3 / 2).contains(&gap), "{gap}");
        gaps.insert(gap);
        // Answered or not, nothing new is issued before the drawn time.
        let (_, again) = store
            .challenge_for_heartbeat(&oracle, &worker, &[lease; 32], (next_due - 1) * 1_000, every, 120, class, true)
            .await
            .unwrap();
        assert_eq!(again, next_due);
    }
    assert!(gaps.len() > 10, "drawn, not a fixed period: {gaps:?}");
}

#[test]
fn oracles_take_turns_to_issue_so_a_worker_gets_one_new_challenge_an_interval() {
    let turns = timelock_oracle::api::Turns::default();
    assert!((0..6).all(|i| turns.mine(1_000 + 30 * i, 30)), "before its place is known, every interval");
    turns.learn(1, 3);
    let mine: Vec<bool> = (0..6).map(|i| turns.mine(30 * i + 7, 30)).collect();
    assert_eq!(mine, vec![false, true, false, false, true, false]);
}
