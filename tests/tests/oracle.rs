//! The oracle service against real Postgres (`#[sqlx::test]`: a fresh database per test) and the real .so in
//! LiteSVM: every refusal of the heartbeat API, durability, challenges, and attestation rounds that land on chain.

use std::collections::BTreeSet;

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sqlx::PgPool;
use timelock_oracle::store::{Store, StoredHeartbeat};
use timelock_oracle::{Config, RunningOracle};
use timelock_protocol::challenge::{self, Challenge, ChallengeAnswer};
use timelock_protocol::SignedHeartbeat;
use timelock_sdk::ix;
use timelock_tests::oracle_world::{device_key, unix_now, OracleWorld};

const MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

async fn send(oracle: &RunningOracle, method: &str, path: &str, body: String) -> (u16, Value) {
    let url = format!("http://{}{path}", oracle.addr);
    let client = reqwest::Client::new();
    let request = match method {
        "GET" => client.get(url),
        _ => client.post(url).header("content-type", "application/json").body(body),
    };
    let response = request.send().await.expect("oracle answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn post_heartbeat(oracle: &RunningOracle, heartbeat: &SignedHeartbeat) -> (u16, Value) {
    send(oracle, "POST", "/v1/heartbeats", serde_json::to_string(heartbeat).unwrap()).await
}

#[track_caller]
fn assert_refused(answer: (u16, Value), status: u16, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"]["code"], code, "{}", answer.1);
    assert!(answer.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn an_honest_heartbeat_is_stored_before_its_202(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 2, 0);
    let oracle = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    let heartbeat = world.heartbeat(0, 1, unix_now(), world.honest_gpus(0));

    let (status, body) = post_heartbeat(&oracle, &heartbeat).await;
    assert_eq!((status, body), (202, json!({ "accepted": true, "sequence": 1 })));

    let stored = Store::new(pool).lease_heartbeats(&world.workers[0].lease.to_bytes(), 0, i64::MAX).await.unwrap();
    assert_eq!(stored, vec![heartbeat.heartbeat]);
    let (status, health) = send(&oracle, "GET", "/health", String::new()).await;
    assert_eq!((status, health), (200, json!({ "status": "ok" })));
    let metrics = reqwest::get(format!("http://{}/metrics", oracle.addr)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("oracle_heartbeats_stored_total 1\n"), "{metrics}");
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn every_bad_heartbeat_is_refused_with_its_status_and_a_json_error(pool: PgPool) {
    let world = OracleWorld::new(2, 8, 2, 0);
    let oracle = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    let now = unix_now();
    let honest = |sequence: u64| world.heartbeat(0, sequence, now, world.honest_gpus(0));

    // 400: not JSON, not a heartbeat, a sequence beyond what is stored.
    assert_refused(send(&oracle, "POST", "/v1/heartbeats", "{not json".into()).await, 400, "malformed");
    assert_refused(send(&oracle, "POST", "/v1/heartbeats", r#"{"heartbeat":{}}"#.into()).await, 400, "malformed");
    assert_refused(post_heartbeat(&oracle, &honest(u64::MAX)).await, 400, "malformed");

    // 401: signed by a key other than the worker's registered device key, or tampered with after signing.
    let mut forged = world.heartbeat(0, 1, now, world.honest_gpus(0)).heartbeat.sign(&SigningKey::from_bytes(&[1; 32]));
    assert_refused(post_heartbeat(&oracle, &forged).await, 401, "bad_signature");
    forged = honest(1);
    forged.heartbeat.gpus[0].processes.clear();
    assert_refused(post_heartbeat(&oracle, &forged).await, 401, "bad_signature");

    // 404: no such worker; no such lease; a lease of another worker.
    let mut stranger = honest(1).heartbeat;
    stranger.worker = [9; 32];
    assert_refused(post_heartbeat(&oracle, &stranger.sign(&device_key(0))).await, 404, "unknown_worker");
    let mut no_lease = honest(1).heartbeat;
    no_lease.lease = [9; 32];
    assert_refused(post_heartbeat(&oracle, &no_lease.sign(&device_key(0))).await, 404, "unknown_lease");
    let mut others_lease = honest(1).heartbeat;
    others_lease.lease = world.workers[1].lease.to_bytes();
    assert_refused(post_heartbeat(&oracle, &others_lease.sign(&device_key(0))).await, 404, "unknown_lease");

    // 422: outside the clock skew either way; before the lease started (within the skew).
    let at = |timestamp: i64| world.heartbeat(0, 2, timestamp, world.honest_gpus(0));
    assert_refused(post_heartbeat(&oracle, &at(now - 3_600)).await, 422, "too_old");
    assert_refused(post_heartbeat(&oracle, &at(now + 3_600)).await, 422, "too_new");
    assert_refused(post_heartbeat(&oracle, &at(world.start - 30)).await, 422, "lease_not_active");

    // 409: a sequence not above the last accepted one, even re-signed.
    assert_eq!(post_heartbeat(&oracle, &honest(5)).await.0, 202);
    assert_refused(post_heartbeat(&oracle, &honest(5)).await, 409, "replay");
    assert_refused(post_heartbeat(&oracle, &honest(4)).await, 409, "replay");
    assert_eq!(post_heartbeat(&oracle, &honest(6)).await.0, 202);

    // 413: the body is bounded.
    let huge = format!("{{\"padding\":\"{}\"}}", "x".repeat(100_000));
    assert_refused(send(&oracle, "POST", "/v1/heartbeats", huge).await, 413, "body_too_large");
    assert_refused(send(&oracle, "GET", "/v2/nothing", String::new()).await, 404, "no_such_route");

    let stored: Vec<i64> =
        sqlx::query_scalar("SELECT sequence FROM oracle.heartbeats ORDER BY sequence").fetch_all(&pool).await.unwrap();
    assert_eq!(stored, vec![5, 6], "only the accepted heartbeats are stored");
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_full_queue_answers_429_and_loses_nothing_it_accepted(pool: PgPool) {
    let world = OracleWorld::new(8, 1, 2, 0);
    let config = Config { queue_capacity: 2, max_batch: 1, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    // Hold the table so that the writer blocks on its first batch and the queue fills behind it.
    let mut blocker = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE oracle.heartbeats IN EXCLUSIVE MODE").execute(&mut *blocker).await.unwrap();
    let now = unix_now();
    let heartbeats: Vec<_> = (0..8).map(|w| world.heartbeat(w, 1, now, world.honest_gpus(w))).collect();
    let sends: Vec<_> = heartbeats
        .iter()
        .map(|h| {
            let (url, body) = (format!("http://{}/v1/heartbeats", oracle.addr), serde_json::to_string(h).unwrap());
            tokio::spawn(async move {
                let response = reqwest::Client::new().post(url).body(body).send().await.unwrap();
                let retry_after = response.headers().get("retry-after").is_some();
                (response.status().as_u16(), retry_after)
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    blocker.rollback().await.unwrap();
    let mut statuses = Vec::new();
    for send in sends {
        statuses.push(send.await.unwrap());
    }
    let accepted = statuses.iter().filter(|s| s.0 == 202).count();
    let overloaded = statuses.iter().filter(|s| s.0 == 429).count();
    assert_eq!(accepted + overloaded, 8, "{statuses:?}");
    assert!(overloaded >= 1 && accepted >= 1, "{statuses:?}");
    assert!(statuses.iter().filter(|s| s.0 == 429).all(|s| s.1), "429 says when to retry");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM oracle.heartbeats").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, accepted as i64);
    oracle.stop().await;
}

fn database_url(pool: &PgPool) -> String {
    let options = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("postgres")
    )
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_heartbeat_acknowledged_survives_kill_9(pool: PgPool) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_oracle-svm"))
        .arg("4")
        .env("DATABASE_URL", database_url(&pool))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("oracle-svm starts");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stdout.take().unwrap()));
    let ready: Value = serde_json::from_str(&lines.next_line().await.unwrap().expect("ready line")).unwrap();
    let url = format!("http://{}/v1/heartbeats", ready["addr"].as_str().unwrap());
    let key = |text: &Value| -> [u8; 32] {
        text.as_str().unwrap().parse::<anchor_lang::prelude::Pubkey>().unwrap().to_bytes()
    };

    // Four agents post as fast as they are answered; the service is killed the moment the 100th 202 arrives.
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    for (i, worker) in ready["workers"].as_array().unwrap().iter().enumerate() {
        let (url, acked) = (url.clone(), acked_tx.clone());
        let (worker, lease) = (key(&worker["worker"]), key(&worker["lease"]));
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for sequence in 1.. {
                let heartbeat = timelock_protocol::Heartbeat {
                    worker,
                    lease,
                    sequence,
                    timestamp: unix_now(),
                    gpus: vec![],
                    allowed_containers: vec![],
                }
                .sign(&device_key(i));
                match client.post(&url).json(&heartbeat).send().await {
                    Ok(response) if response.status() == 202 => {
                        if acked.send((worker, sequence as i64)).is_err() {
                            return;
                        }
                    }
                    Ok(response) => panic!("unexpected {}", response.status()),
                    Err(_) => return, // the service is gone
                }
            }
        });
    }
    drop(acked_tx);
    let mut acknowledged = BTreeSet::new();
    while let Some(ack) = acked_rx.recv().await {
        acknowledged.insert(ack);
        if acknowledged.len() == 100 {
            child.start_kill().unwrap(); // SIGKILL: no shutdown path runs
            break;
        }
    }
    child.wait().await.unwrap();
    while let Ok(ack) = acked_rx.try_recv() {
        acknowledged.insert(ack);
    }

    let stored: BTreeSet<(Vec<u8>, i64)> = sqlx::query_as("SELECT worker, sequence FROM oracle.heartbeats")
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let missing: Vec<_> = acknowledged.iter().filter(|(w, s)| !stored.contains(&(w.to_vec(), *s))).collect();
    assert!(missing.is_empty(), "{} acknowledged heartbeats lost: {missing:?}", missing.len());
    assert!(acknowledged.len() >= 100);
}

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

/// Heartbeats every 30 s from `from` for `intervals` intervals, 5 s into each.
fn beats(world: &OracleWorld, worker: usize, from: i64, intervals: i64, foreign: bool) -> Vec<StoredHeartbeat> {
    (0..intervals)
        .map(|i| {
            let at = from + 30 * i + 5;
            let gpus = if foreign {
                world.gpus(worker, &[Some(timelock_tests::oracle_world::JOB_CONTAINER), Some("crypto-miner")])
            } else {
                world.honest_gpus(worker)
            };
            StoredHeartbeat::from_verified(&world.heartbeat(worker, at as u64, at, gpus))
        })
        .collect()
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn attestation_rounds_put_the_quorums_verdict_on_chain_once(pool: PgPool) {
    // Leases that started 15 minutes ago: an honest worker, a cheater from minute 5, one gone after 150 s.
    let world = OracleWorld::new(3, 8, 2, 900);
    let store = Store::new(pool.clone());
    let start = world.start;
    let mut rows = beats(&world, 0, start, 30, false);
    rows.extend(beats(&world, 1, start, 10, false));
    rows.extend(beats(&world, 1, start + 300, 20, true));
    rows.extend(beats(&world, 2, start, 5, false));
    store.insert_heartbeats(&rows).await.unwrap();

    let config = Config { challenge_timeout_secs: 1_000_000, ..OracleWorld::oracle_config() };
    let first = world.start_oracle(pool.clone(), 0, config.clone()).await;
    let second = world.start_oracle(pool.clone(), 1, config.clone()).await;
    let mut round = first.attestor.round().await.unwrap();
    // Judged up to the chain's clock less the skew allowance: 840 s, 28 intervals.
    let window = world.chain.lock().now() - config.max_clock_skew_secs - start;
    let expected_honest = (window / 30 * 30) as u32;
    round.sent.sort_by_key(|(lease, ..)| world.workers.iter().position(|w| w.lease == *lease));
    assert_eq!(
        round.sent,
        vec![
            (world.workers[0].lease, expected_honest, 0),
            (world.workers[1].lease, 300, 1),
            (world.workers[2].lease, 150, 1),
        ]
    );
    assert_eq!((round.transactions, round.failed_transactions, round.challenges_issued), (1, 0, 3));
    assert_eq!(world.lease(0).proven_secs, 0, "one oracle is not a quorum");

    second.attestor.round().await.unwrap();
    let on_chain: Vec<(u64, u64)> = (0..3).map(|w| (world.lease(w).proven_secs, world.lease(w).faults)).collect();
    assert_eq!(on_chain, vec![(u64::from(expected_honest), 0), (300, 1), (150, 1)]);

    // Nothing new: nothing sent, also after a restart (the chain holds each oracle's latest vote).
    assert!(first.attestor.round().await.unwrap().sent.is_empty());
    first.stop().await;
    let restarted = world.start_oracle(pool.clone(), 0, config).await;
    assert!(restarted.attestor.round().await.unwrap().sent.is_empty());

    // Two more minutes of honest work: only the honest lease is news.
    world.chain.lock().warp(120);
    store.insert_heartbeats(&beats(&world, 0, start + 900, 4, false)).await.unwrap();
    let round = restarted.attestor.round().await.unwrap();
    assert_eq!(round.sent.len(), 1);
    assert_eq!(round.sent[0].0, world.workers[0].lease);
    assert!(round.sent[0].1 > expected_honest);
    let reports: i64 = sqlx::query_scalar("SELECT count(*) FROM oracle.reports WHERE signature IS NOT NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(reports, 7);
    restarted.stop().await;
    second.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn after_a_dispute_resolution_the_oracles_report_what_they_saw_since_it(pool: PgPool) {
    use timelock_tests::Signer;
    // An honest lease, 15 minutes in, attested by the quorum.
    let world = OracleWorld::new(1, 8, 2, 900);
    let store = Store::new(pool.clone());
    let start = world.start;
    store.insert_heartbeats(&beats(&world, 0, start, 30, false)).await.unwrap();
    let config = Config { challenge_timeout_secs: 1_000_000, ..OracleWorld::oracle_config() };
    let first = world.start_oracle(pool.clone(), 0, config.clone()).await;
    let second = world.start_oracle(pool.clone(), 1, config.clone()).await;
    first.attestor.round().await.unwrap();
    second.attestor.round().await.unwrap();
    let attested = world.lease(0);
    assert!(attested.proven_secs > 600);

    // The renter disputes and the admin decides 300 s as of the oracles' window.
    let as_of = attested.votes[0].window_end;
    {
        let mut f = world.chain.lock();
        let payment = f.payment(&world.renter, timelock_tests::oracle_world::CLUSTER_ID);
        let w = &world.workers[0];
        let renter = world.renter.authority.insecure_clone();
        f.exec(
            ix::lease_dispute(renter.pubkey(), world.renter.payment_tokens, payment, w.worker, w.supplier),
            &[&renter],
        );
        let admin = f.admin.insecure_clone();
        let treasury = f.treasury_payment_tokens;
        let tokens = world.renter.payment_tokens;
        let resolve =
            ix::lease_dispute_resolve(admin.pubkey(), payment, w.worker, tokens, treasury, 300, 0, as_of, false);
        f.exec(resolve, &[&admin]);
    }
    assert_eq!((world.lease(0).proven_secs, world.lease(0).resolved_at), (300, as_of));

    // Two more minutes of honest work: each oracle reports only the time since the decision, naming it, and the
    // chain adds the quorum's count to the 300 s decided.
    world.chain.lock().warp(120);
    store.insert_heartbeats(&beats(&world, 0, start + 900, 4, false)).await.unwrap();
    let sent = first.attestor.round().await.unwrap().sent;
    let since_decision = sent[0].1;
    assert!(since_decision > 0 && i64::from(since_decision) <= world.chain.lock().now() - as_of, "{sent:?}");
    second.attestor.round().await.unwrap();
    assert_eq!(world.lease(0).proven_secs, 300 + u64::from(since_decision));
    first.stop().await;
    second.stop().await;
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
