//! Challenges issued, answered once and judged, and the agent that delivers heartbeats and answers them.

use super::*;

#[sqlx::test(migrator = "MIGRATIONS")]
async fn challenges_are_issued_answered_once_and_judged(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 2, 0);
    let config = Config { challenge_size: 24, challenge_every_secs: 0, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    let worker = world.workers[0].worker.to_string();
    let path = format!("/v1/challenges/{worker}");
    let fetch = || async {
        let (status, body) = send(&oracle, "GET", &path, String::new()).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value::<Challenge>(body["challenge"].clone()).unwrap()
    };
    let answer = |c: &Challenge, product: Vec<u32>, device: &SigningKey| {
        let signed = ChallengeAnswer { id: c.id, product, duration_micros: 900 }
            .sign(world.workers[0].worker.to_bytes(), device);
        (format!("/v1/challenges/{}", c.id), serde_json::to_string(&signed).unwrap())
    };
    let device = &world.workers[0].device;

    assert_refused(send(&oracle, "GET", "/v1/challenges/not-a-key", String::new()).await, 400, "malformed");
    let stranger = anchor_lang::prelude::Pubkey::new_unique();
    assert_refused(
        send(&oracle, "GET", &format!("/v1/challenges/{stranger}"), String::new()).await,
        404,
        "unknown_worker",
    );

    // An honest answer passes, once.
    let first = fetch().await;
    assert_eq!(fetch().await, first, "the open challenge is returned until answered");
    let (to, body) = answer(&first, challenge::solve(&first), device);
    let (status, verdict) = send(&oracle, "POST", &to, body.clone()).await;
    assert_eq!((status, verdict["verdict"].as_str()), (200, Some("Passed")));
    assert_refused(send(&oracle, "POST", &to, body).await, 409, "already_answered");

    // Refusals that record nothing: another key, another id, an unknown challenge.
    let second = fetch().await;
    assert_ne!(second.id, first.id);
    let (to, body) = answer(&second, challenge::solve(&second), &SigningKey::from_bytes(&[3; 32]));
    assert_refused(send(&oracle, "POST", &to, body).await, 401, "bad_signature");
    let (_, body) = answer(&second, challenge::solve(&second), device);
    assert_refused(send(&oracle, "POST", &format!("/v1/challenges/{}", first.id), body).await, 400, "malformed");
    let unknown = Challenge { id: 999_999, ..second.clone() };
    let (to, body) = answer(&unknown, vec![], device);
    assert_refused(send(&oracle, "POST", &to, body).await, 404, "unknown_challenge");

    // A wrong product fails.
    let mut wrong = challenge::solve(&second);
    wrong[7] ^= 1;
    let (to, body) = answer(&second, wrong, device);
    assert_eq!(send(&oracle, "POST", &to, body).await.1["verdict"], "WrongAnswer");

    // An answer after the deadline is refused; the challenge counts as failed.
    let third = fetch().await;
    sqlx::query("UPDATE oracle.challenges SET deadline = deadline - 1000 WHERE id = $1")
        .bind(third.id as i64)
        .execute(&pool)
        .await
        .unwrap();
    let (to, body) = answer(&third, challenge::solve(&third), device);
    assert_refused(send(&oracle, "POST", &to, body).await, 422, "too_old");

    let results = Store::new(pool).challenge_results(&world.workers[0].worker.to_bytes(), unix_now()).await.unwrap();
    let passed: Vec<bool> = results.iter().map(|r| r.passed).collect();
    assert_eq!(passed, vec![false, true, false], "expired (earliest deadline), passed, wrong");
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn the_agent_delivers_heartbeats_and_answers_its_challenge(pool: PgPool) {
    use timelock_agent::client::Agent;
    use timelock_agent::telemetry::FileSource;
    use timelock_agent::Identity;

    let world = OracleWorld::new(1, 8, 2, 0);
    let config = Config { challenge_size: 32, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    let dir = tempfile::tempdir().unwrap();
    let telemetry = dir.path().join("gpus.json");
    std::fs::write(&telemetry, serde_json::to_string(&world.honest_gpus(0)).unwrap()).unwrap();
    let identity = Identity {
        worker: world.workers[0].worker.to_bytes(),
        lease: world.workers[0].lease.to_bytes(),
        allowed_containers: vec![timelock_tests::oracle_world::JOB_CONTAINER.into()],
    };
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
    assert_eq!((second.delivered, second.challenges.len()), (1, 0), "one challenge per period");
    assert_eq!(second.sequence, first.sequence + 1);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM oracle.heartbeats").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, 2);
    oracle.stop().await;
}
