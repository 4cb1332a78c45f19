//! The heartbeat API: the honest path, every refusal, back-pressure, and durability across `kill -9`.

use super::*;

#[sqlx::test(migrator = "MIGRATIONS")]
async fn an_honest_heartbeat_is_stored_before_its_202(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 2, 0);
    let oracle = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    let heartbeat = world.heartbeat(0, 1, unix_now(), world.honest_gpus(0));

    let (status, body) = post_heartbeat(&oracle, &heartbeat).await;
    assert_eq!((status, &body["accepted"], &body["sequence"]), (202, &json!(true), &json!(1)));
    let me = anchor_lang::prelude::Pubkey::new_from_array(world.oracle_identity(0)).to_string();
    assert_eq!(body["oracle"], me.as_str(), "the oracle names itself (what answers and reads are bound to)");
    assert_eq!(body["open_challenge"]["challenge"]["oracle"], me.as_str(), "the lease's first challenge");

    let stored = Store::new(pool).lease_heartbeats(&world.workers[0].lease.to_bytes(), 0, i64::MAX).await.unwrap();
    let stored: Vec<_> = stored.into_iter().map(|(o, _)| o.heartbeat).collect();
    assert_eq!(stored, vec![heartbeat.heartbeat]);
    let (status, health) = send(&oracle, "GET", "/health", String::new()).await;
    assert_eq!((status, health), (200, json!({ "status": "ok" })));
    let (status, ready) = send(&oracle, "GET", "/ready", String::new()).await;
    assert_eq!((status, ready), (200, json!({ "status": "ready" })));
    let metrics = reqwest::get(format!("http://{}/metrics", oracle.addr)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("oracle_heartbeats_stored_total 1\n"), "{metrics}");
    assert!(metrics.contains("http_responses_total{status=\"202\"} 1\n"), "{metrics}");
    assert!(metrics.contains("oracle_unavailable{cause=\"chain\"} 0\n"), "{metrics}");
    assert!(metrics.contains("oracle_ingest_commit_micros_total"), "{metrics}");
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_heartbeat_another_writer_stored_is_a_replay_and_fails_nothing_else(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 2, 0);
    let oracle = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    let now = unix_now();
    let beat = |sequence: u64| world.heartbeat(0, sequence, now, world.honest_gpus(0));
    assert_eq!(post_heartbeat(&oracle, &beat(1)).await.0, 202);
    // Another process on this database (or this one before a restart) stores sequence 2 behind the oracle's
    // back: its memory of the worker's last sequence is now stale.
    Store::new(pool.clone()).insert_heartbeats(&[StoredHeartbeat::from_verified(&beat(2), now)]).await.unwrap();

    // Once a failed batch, every heartbeat in it answered 503; now only the duplicate is refused.
    let (second, third) = (beat(2), beat(3));
    let (duplicate, fresh) = tokio::join!(post_heartbeat(&oracle, &second), post_heartbeat(&oracle, &third));
    assert_refused(duplicate, 409, "replay");
    assert_eq!(fresh.0, 202, "{}", fresh.1);
    let stored = Store::new(pool).lease_heartbeats(&world.workers[0].lease.to_bytes(), 0, i64::MAX).await.unwrap();
    assert_eq!(stored.iter().map(|(o, _)| o.heartbeat.sequence).collect::<Vec<_>>(), vec![1, 2, 3]);
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_batch_is_stored_as_given_and_its_replays_are_skipped_row_by_row(pool: PgPool) {
    let world = OracleWorld::new(3, 8, 2, 0);
    let store = Store::new(pool.clone());
    let now = unix_now();
    let signed = |w: usize, sequence: u64| world.heartbeat(w, sequence, now - sequence as i64, world.honest_gpus(w));
    let row = |w: usize, sequence: u64| StoredHeartbeat::from_verified(&signed(w, sequence), now + sequence as i64);
    assert_eq!(store.insert_heartbeats(&[row(0, 1), row(2, 5)]).await.unwrap(), vec![true, true]);

    // Worker 0 rises above its mark (the common case); worker 1 has no mark yet and repeats a sequence, then goes
    // back; worker 2 rises, but from below its mark.
    let batch = [row(0, 2), row(1, 3), row(0, 3), row(1, 3), row(2, 4), row(1, 2), row(2, 6), row(0, 4), row(1, 4)];
    let new = store.insert_heartbeats(&batch).await.unwrap();
    assert_eq!(new, vec![true, true, true, false, false, false, true, true, true]);

    type Stored = (Vec<u8>, i64, Vec<u8>, i64, i64, Vec<u8>, Vec<u8>);
    let stored: Vec<Stored> = sqlx::query_as(
        "SELECT worker, sequence, lease, ts, received_at, payload, signature FROM oracle.heartbeats \
         ORDER BY worker, sequence",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut expected: Vec<Stored> = [row(0, 1), row(2, 5)]
        .iter()
        .chain(batch.iter().zip(&new).filter(|(_, new)| **new).map(|(r, _)| r))
        .map(|r| {
            (
                r.worker.to_vec(),
                r.sequence,
                r.lease.to_vec(),
                r.timestamp,
                r.received_at,
                r.payload.clone(),
                r.signature.clone(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(stored, expected, "every column of every new row, exactly as given");
    let mut marks: Vec<(Vec<u8>, i64)> =
        sqlx::query_as("SELECT worker, last FROM oracle.heartbeat_marks").fetch_all(&pool).await.unwrap();
    let mut want: Vec<(Vec<u8>, i64)> =
        [(0, 4), (1, 4), (2, 6)].into_iter().map(|(w, l)| (world.workers[w].worker.to_bytes().to_vec(), l)).collect();
    marks.sort();
    want.sort();
    assert_eq!(marks, want, "each worker's mark is its highest stored sequence");

    // What was stored is the evidence as signed: it decodes to the heartbeat, whose signature verifies.
    let evidence = store.lease_heartbeats(&world.workers[1].lease.to_bytes(), 0, i64::MAX).await.unwrap();
    let sequences: Vec<u64> = evidence.iter().map(|(o, _)| o.heartbeat.sequence).collect();
    assert_eq!(sequences, vec![3, 4]);
    for (observation, signature) in evidence {
        let sent = signed(1, observation.heartbeat.sequence);
        assert_eq!((&observation.heartbeat, signature), (&sent.heartbeat, sent.signature));
        assert_eq!(sent.verify(&world.workers[1].device.verifying_key().to_bytes()), Ok(()));
    }

    // The same batch again is all replays, and stores nothing.
    assert_eq!(store.insert_heartbeats(&batch).await.unwrap(), vec![false; batch.len()]);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM oracle.heartbeats").fetch_one(&pool).await.unwrap();
    assert_eq!(count as usize, expected.len());
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn heartbeats_over_one_http2_connection_and_one_kept_alive_http1_connection_are_all_stored(pool: PgPool) {
    let world = OracleWorld::new(4, 8, 2, 0);
    let oracle = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    let now = unix_now();
    let body =
        |w: usize, sequence: u64| serde_json::to_vec(&world.heartbeat(w, sequence, now, world.honest_gpus(w))).unwrap();

    // HTTP/2 without TLS (prior knowledge): workers 0 to 2, each with five heartbeats in flight at once on one
    // connection, as a proxy in front of the oracle would multiplex many agents.
    let tcp = tokio::net::TcpStream::connect(oracle.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut answers = Vec::new();
    for sequence in 1..=5u64 {
        for w in 0..3 {
            let mut client = client.clone().ready().await.unwrap();
            let request = http::Request::post(format!("http://{}/v1/heartbeats", oracle.addr))
                .header("content-type", "application/json")
                .body(())
                .unwrap();
            let (answer, mut stream) = client.send_request(request, false).unwrap();
            stream.send_data(body(w, sequence).into(), true).unwrap();
            answers.push(answer);
            // A worker's next heartbeat only once this one is stored: its sequence must rise in storage order.
            if w == 2 {
                for answer in answers.drain(..) {
                    let mut response = answer.await.unwrap();
                    assert_eq!(response.status(), 202);
                    let mut text = Vec::new();
                    while let Some(chunk) = response.body_mut().data().await {
                        text.extend_from_slice(&chunk.unwrap());
                    }
                    let text: Value = serde_json::from_slice(&text).unwrap();
                    assert_eq!(text["accepted"], json!(true));
                }
            }
        }
    }

    // HTTP/1.1: worker 3, five heartbeats one after another on one kept-alive connection.
    let mut tcp = tokio::net::TcpStream::connect(oracle.addr).await.unwrap();
    for sequence in 1..=5u64 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body = body(3, sequence);
        let head = format!(
            "POST /v1/heartbeats HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            oracle.addr,
            body.len()
        );
        tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(b"}") {
            let mut chunk = [0u8; 1024];
            let n = tcp.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the connection is kept alive");
            answer.extend_from_slice(&chunk[..n]);
        }
        assert!(answer.starts_with(b"HTTP/1.1 202"), "{}", String::from_utf8_lossy(&answer));
    }

    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM oracle.heartbeats").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, 20);
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_second_process_of_one_oracle_on_its_database_is_refused(pool: PgPool) {
    let world = OracleWorld::new(1, 8, 2, 0);
    let first = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    // The same oracle twice would store under one sequence check and post every report twice.
    let second = world.try_start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    assert!(matches!(second, Err(timelock_oracle::StartError::Writer(_))), "a second writer must be refused");
    // Another oracle may share the database; the same one starts again once the first has stopped.
    let other = world.start_oracle(pool.clone(), 1, OracleWorld::oracle_config()).await;
    first.stop().await;
    let restarted = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    restarted.stop().await;
    other.stop().await;
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
    // A signature of 128 bytes that are not 128 hex digits: once a panic that dropped the connection.
    let json = serde_json::to_string(&honest(1)).unwrap();
    let at = json.find("\"signature\":\"").unwrap() + "\"signature\":\"".len();
    let non_ascii = format!("{}0€{}{}", &json[..at], "0".repeat(124), &json[at + 128..]);
    assert_refused(send(&oracle, "POST", "/v1/heartbeats", non_ascii).await, 400, "malformed");

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

    // 422: outside the clock skew either way.
    let at = |timestamp: i64| world.heartbeat(0, 2, timestamp, world.honest_gpus(0));
    assert_refused(post_heartbeat(&oracle, &at(now - 3_600)).await, 422, "too_old");
    assert_refused(post_heartbeat(&oracle, &at(now + 3_600)).await, 422, "too_new");

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
async fn a_heartbeat_received_after_its_lease_ended_is_refused_whatever_its_stamp(pool: PgPool) {
    // A one-hour lease that ended half a minute ago.
    let world = OracleWorld::new(1, 8, 1, 3_630);
    let oracle = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    let lease_end = world.start + 3_600;
    // Stamped inside the lease (within the allowed skew), but received after it: the oracle's clock decides.
    let backdated = world.heartbeat(0, 1, lease_end - 10, world.honest_gpus(0));
    assert!(unix_now() - backdated.heartbeat.timestamp < OracleWorld::oracle_config().max_clock_skew_secs);
    assert_refused(post_heartbeat(&oracle, &backdated).await, 422, "lease_not_active");
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_timestamp_burst_proves_one_interval(pool: PgPool) {
    // A lease ten minutes in; the host comes online once and sends five heartbeats stamped across the skew the
    // oracle allows (-59 s to +59 s), each a fresh sequence.
    let world = OracleWorld::new(1, 8, 2, 600);
    let oracle = world.start_oracle(pool.clone(), 0, OracleWorld::oracle_config()).await;
    let now = unix_now();
    for (sequence, skew) in [-59, -29, 1, 31, 59].into_iter().enumerate() {
        let beat = world.heartbeat(0, sequence as u64 + 1, now + skew, world.honest_gpus(0));
        assert_eq!(post_heartbeat(&oracle, &beat).await.0, 202);
    }
    // Judged once the window has passed them all.
    world.chain.lock().warp(180);
    let round = oracle.attestor.round().await.unwrap();
    assert_eq!(round.sent.len(), 1);
    let (_, proven_secs, faults) = round.sent[0];
    assert_eq!(proven_secs, 30, "a burst received at once proves the interval it arrived in, no more");
    assert!(faults >= 1, "the silence before it is an outage of the host");
    oracle.stop().await;
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn a_full_queue_answers_429_and_loses_nothing_it_accepted(pool: PgPool) {
    // More heartbeats than the writer holds while the table is locked: the queue's 2, a batch of 1 being verified
    // and one verified, and a batch of 1 in each of the commits in flight.
    let world = OracleWorld::new(16, 1, 2, 0);
    let config = Config { queue_capacity: 2, max_batch: 1, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    // Hold the table so that the writer blocks on its first batch and the queue fills behind it.
    let mut blocker = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE oracle.heartbeats IN EXCLUSIVE MODE").execute(&mut *blocker).await.unwrap();
    let now = unix_now();
    let heartbeats: Vec<_> = (0..16).map(|w| world.heartbeat(w, 1, now, world.honest_gpus(w))).collect();
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
    assert_eq!(accepted + overloaded, 16, "{statuses:?}");
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
                let heartbeat =
                    timelock_protocol::Heartbeat { worker, lease, sequence, timestamp: unix_now(), gpus: vec![] }
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
