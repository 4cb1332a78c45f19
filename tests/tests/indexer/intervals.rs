//! `GET /v1/leases/{address}/intervals`: the configured oracles' verdicts on a lease's intervals, through the
//! indexer, with an entry saying why for each oracle that could not be heard.

use std::time::{Duration, Instant};

use timelock_oracle::store::{Store as OracleStore, StoredHeartbeat};
use timelock_tests::oracle_world::{OracleWorld, JOB_IMAGE};

use super::*;

async fn get(base: &str, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn reasons(intervals: &Value) -> Vec<&str> {
    intervals.as_array().unwrap().iter().map(|i| i["reason"].as_str().unwrap()).collect()
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn the_indexer_serves_every_oracles_reasons_and_says_which_oracle_could_not_be_heard(pool: PgPool) {
    // One host ten minutes into its lease, with a miner beside the renter's job from minute 5; one real oracle
    // (sharing the indexer's database, as a small deployment does) has judged it.
    let world = OracleWorld::new(1, 8, 1, 600);
    let config = timelock_oracle::Config { challenge_timeout_secs: 1_000_000, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    let beats: Vec<StoredHeartbeat> = (0..20)
        .map(|i| {
            let at = world.start + 30 * i + 5;
            let images: &[Option<&str>] =
                if i >= 10 { &[Some(JOB_IMAGE), Some("crypto-miner")] } else { &[Some(JOB_IMAGE)] };
            StoredHeartbeat::from_verified(&world.heartbeat(0, at as u64, at, world.gpus(0, images)), at)
        })
        .collect();
    OracleStore::new(pool.clone()).insert_heartbeats(&beats).await.unwrap();
    oracle.attestor.round().await.unwrap();
    let oracle_url = format!("http://{}", oracle.addr);

    // Beside it: an oracle nothing listens for (refused at once), and one that takes the connection and never
    // answers (cut off by the per-oracle timeout, well within the request's).
    let dead_url = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/", silent.local_addr().unwrap());
    let config = Config {
        listen: "127.0.0.1:0".into(),
        oracle_urls: vec![oracle_url.clone(), dead_url.clone(), silent_url.clone()],
        ..Config::default()
    };
    let indexer = timelock_indexer::start::<Replay>(&config, pool.clone(), None).await.unwrap();
    let base = format!("http://{}", indexer.addr);
    let lease = world.workers[0].lease;

    let asked = Instant::now();
    let (status, body) = get(&base, &format!("/v1/leases/{lease}/intervals?limit=500")).await;
    let took = asked.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(took < Duration::from_secs(config.request_timeout_secs), "answered in {took:?}");
    assert_eq!(body["lease"], lease.to_string());
    let oracles = body["oracles"].as_array().unwrap();
    assert_eq!(oracles.len(), 3, "{body}");

    // The real oracle's page, exactly as the oracle serves it, with each unpaid interval's reason.
    let answered = &oracles[0];
    assert_eq!(answered["url"], oracle_url);
    assert_eq!(answered["oracle"], Pubkey::new_from_array(world.oracle_identity(0)).to_string());
    assert!(answered.get("error").is_none(), "{answered}");
    let judged = reasons(&answered["intervals"]);
    assert!(judged.len() >= 11, "{answered}");
    assert_eq!(judged[..10], ["proven"; 10]);
    assert!(judged[10..].iter().all(|r| *r == "foreign_process"), "{judged:?}");
    assert_eq!(answered["intervals"][10]["image_name"], "crypto-miner");
    assert_eq!(answered["intervals"][10]["start"].as_i64(), Some(world.start + 300));
    assert!(answered["next"].is_null());
    let (_, own) = get(&oracle_url, &format!("/v1/leases/{lease}/intervals?limit=500")).await;
    assert_eq!(answered["intervals"], own["intervals"], "passed through as the oracle serves them");

    // The others: an error each, and nothing else.
    for (entry, url, says) in [(&oracles[1], &dead_url, "unreachable"), (&oracles[2], &silent_url, "no answer")] {
        assert_eq!(entry["url"].as_str(), Some(url.trim_end_matches('/')), "{entry}");
        let error = entry["error"].as_str().unwrap_or_else(|| panic!("an error: {entry}"));
        assert!(error.contains(says), "{error}");
        assert!(entry.get("intervals").is_none(), "{entry}");
    }

    // Pages: each oracle's `next` is the `from` of its next page.
    let (_, first) = get(&base, &format!("/v1/leases/{lease}/intervals?limit=5")).await;
    assert_eq!(first["oracles"][0]["intervals"].as_array().unwrap().len(), 5);
    let next = first["oracles"][0]["next"].as_i64().expect("a next page");
    let (_, second) = get(&base, &format!("/v1/leases/{lease}/intervals?from={next}&limit=5")).await;
    assert_eq!(second["oracles"][0]["intervals"][0]["start"].as_i64(), Some(world.start + 150));

    // Text of an address's form that is no account's address: the oracle refuses it, and says so through the
    // indexer.
    let (status, body) = get(&base, &format!("/v1/leases/{}/intervals", "z".repeat(44))).await;
    assert_eq!(status, 200, "{body}");
    let error = body["oracles"][0]["error"].as_str().unwrap_or_else(|| panic!("the oracle refuses: {body}"));
    assert!(error.starts_with("answered 400: bad_address: "), "{error}");

    // Refused before any oracle is asked, with the API's JSON error.
    for (path, code) in [
        ("/v1/leases/not-a-key/intervals".to_string(), "bad_address"),
        (format!("/v1/leases/{lease}/intervals?limit=0"), "bad_filter"),
        (format!("/v1/leases/{lease}/intervals?limit=501"), "bad_filter"),
        (format!("/v1/leases/{lease}/intervals?from=soon"), "bad_filter"),
        (format!("/v1/leases/{lease}/intervals?page=2"), "bad_filter"),
    ] {
        let (status, body) = get(&base, &path).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some(code)), "{path}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }

    indexer.stop().await;
    oracle.stop().await;
    drop(silent);
}

/// An oracle whose answer never ends is cut off at the most the indexer reads of one, not read into memory.
#[sqlx::test(migrator = "MIGRATIONS")]
async fn an_endless_answer_is_cut_off(pool: PgPool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let endless = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b' '; 64 * 1024];
        while socket.write_all(&chunk).await.is_ok() {}
    });
    let config = Config { listen: "127.0.0.1:0".into(), oracle_urls: vec![url], ..Config::default() };
    let indexer = timelock_indexer::start::<Replay>(&config, pool, None).await.unwrap();
    let (status, body) =
        get(&format!("http://{}", indexer.addr), &format!("/v1/leases/{}/intervals", Pubkey::new_unique())).await;
    assert_eq!(status, 200, "{body}");
    let error = body["oracles"][0]["error"].as_str().unwrap_or_else(|| panic!("cut off: {body}"));
    assert!(error.contains("more than"), "{error}");
    indexer.stop().await;
    endless.abort();
}

#[sqlx::test(migrator = "MIGRATIONS")]
async fn without_oracles_the_answer_is_empty_and_a_bad_setting_is_refused_at_start(pool: PgPool) {
    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let indexer = timelock_indexer::start::<Replay>(&config, pool.clone(), None).await.unwrap();
    let lease = Pubkey::new_unique();
    let (status, body) = get(&format!("http://{}", indexer.addr), &format!("/v1/leases/{lease}/intervals")).await;
    assert_eq!((status, body), (200, serde_json::json!({"lease": lease.to_string(), "oracles": []})));
    indexer.stop().await;

    let config = Config { oracle_urls: vec!["oracle-1:8780".into()], ..config };
    let refused = timelock_indexer::start::<Replay>(&config, pool, None).await.err().expect("refused");
    assert!(refused.to_string().contains("oracle_urls"), "{refused}");
}
