//! The crash drill on a real local validator: while agents report and the oracles attest, the shipped indexer
//! and one of the three oracles are each killed with SIGKILL at twenty random moments and restarted. The
//! killed indexer ends with Postgres identical, row for row, to an indexer that was never killed; the killed
//! oracle lost no heartbeat it acknowledged, and no oracle posted any vote twice.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;
use solana_signer::Signer;
use sqlx::postgres::PgPoolOptions;
use timelock::LeaseReport;
use timelock_tests::localnet::{oracle_config, Story, HEARTBEAT_SECS};
use timelock_tests::postgres::{fresh_database, indexer_state_fingerprint};

const KILLS: usize = 20;

fn binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    let path = target.join("debug").join(name);
    assert!(path.exists(), "{} is missing (cargo test builds it with its package's tests)", path.display());
    path
}

/// The service's settings as its `PREFIX_FIELD` variables.
fn settings_env(settings: &impl serde::Serialize, prefix: &str) -> Vec<(String, String)> {
    let value = serde_json::to_value(settings).unwrap();
    value
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((format!("{prefix}{}", key.to_ascii_uppercase()), text))
        })
        .collect()
}

fn spawn(binary: &PathBuf, env: &[(String, String)], log: &PathBuf) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Command::new(binary)
        .envs(env.iter().cloned())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()))
}

/// Starts the service, kills it (SIGKILL: no shutdown path runs) at `KILLS` random moments, restarting it each
/// time; returns the last one, running.
fn drill(binary: PathBuf, env: Vec<(String, String)>, log: PathBuf) -> Child {
    let mut rng = rand::thread_rng();
    for _ in 0..KILLS {
        let mut child = spawn(&binary, &env, &log);
        std::thread::sleep(Duration::from_millis(rng.gen_range(300..1_500)));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    spawn(&binary, &env, &log)
}

/// Every lease report `oracle` sent on chain, oldest first: `(transaction, lease, report)`.
fn attestations_sent(rpc_url: &str, oracle: &anchor_lang::prelude::Pubkey) -> Vec<(String, String, LeaseReport)> {
    use anchor_lang::{AnchorDeserialize, Discriminator};
    let rpc = |method: &str, params: serde_json::Value| -> serde_json::Value {
        let request = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let answer: serde_json::Value =
            reqwest::blocking::Client::new().post(rpc_url).json(&request).send().unwrap().json().unwrap();
        answer["result"].clone()
    };
    let listed = rpc("getSignaturesForAddress", serde_json::json!([oracle.to_string(), { "commitment": "confirmed" }]));
    let mut sent = Vec::new();
    for entry in listed.as_array().unwrap().iter().rev().filter(|e| e["err"].is_null()) {
        let signature = entry["signature"].as_str().unwrap();
        let config =
            serde_json::json!({ "encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0 });
        let transaction = rpc("getTransaction", serde_json::json!([signature, config]));
        let message = &transaction["transaction"]["message"];
        // A v0 transaction's accounts: its own keys, then those loaded from lookup tables (writable, read-only).
        let loaded = &transaction["meta"]["loadedAddresses"];
        let keys: Vec<&str> = [&message["accountKeys"], &loaded["writable"], &loaded["readonly"]]
            .into_iter()
            .filter_map(|list| list.as_array())
            .flatten()
            .map(|k| k.as_str().unwrap())
            .collect();
        for instruction in message["instructions"].as_array().unwrap() {
            let program = keys[instruction["programIdIndex"].as_u64().unwrap() as usize];
            let data = bs58::decode(instruction["data"].as_str().unwrap()).into_vec().unwrap();
            let discriminator = timelock::instruction::LeaseAttest::DISCRIMINATOR;
            if program != timelock::ID.to_string() || !data.starts_with(discriminator) {
                continue;
            }
            let args = timelock::instruction::LeaseAttest::try_from_slice(&data[discriminator.len()..]).unwrap();
            // The attest instruction's accounts past its fixed four are its leases, in report order.
            let leases = instruction["accounts"].as_array().unwrap().iter().skip(4);
            for (index, report) in leases.zip(args.reports) {
                sent.push((signature.to_string(), keys[index.as_u64().unwrap() as usize].to_string(), report));
            }
        }
    }
    sent
}

#[test]
fn each_service_killed_twenty_times_loses_nothing_and_posts_nothing_twice() {
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL (make test provides one)");
    let dir = tempfile::tempdir().unwrap();
    let mut story = Story::booked(dir.path(), timelock_tests::free_port(), "timelock_drill");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    story.database_url = database_url.clone();
    // Oracles 0 and 1 and the reference indexer run in this process and are never killed.
    runtime.block_on(async {
        story.start_oracle(0, true).await;
        story.start_oracle(1, true).await;
        story.start_indexer(true).await;
    });
    let rpc_url = story.stack.validator.rpc_url.clone();

    // Oracle 2 and the drilled indexer are the shipped binaries, each with its own database.
    let oracle_db = runtime.block_on(fresh_database(&database_url, "timelock_drill_oracle2"));
    let killed_db = runtime.block_on(fresh_database(&database_url, "timelock_drill_killed_indexer"));
    let oracle_port = timelock_tests::free_port();
    let mut config = oracle_config(&rpc_url, oracle_db.clone(), HEARTBEAT_SECS as i64);
    config.listen = format!("127.0.0.1:{oracle_port}");
    config.keypair = story.stack.save_keypair("oracle2", &story.stack.oracles[2]);
    let oracle_env = settings_env(&config, "TIMELOCK_ORACLE_");
    let indexer_config = timelock_indexer::Config {
        listen: "127.0.0.1:0".into(),
        database_url: killed_db.clone(),
        rpc_url: rpc_url.clone(),
        poll_interval_ms: 200,
        ..timelock_indexer::Config::default()
    };
    let indexer_env = settings_env(&indexer_config, "TIMELOCK_INDEXER_");
    let oracle_url = format!("http://127.0.0.1:{oracle_port}");
    story.oracle_urls.push(oracle_url.clone());
    story.start_agents();

    // Both drills at once, while the agents report and the oracles attest; a miner appears half-way.
    let (oracle_log, indexer_log) = (dir.path().join("oracle2.log"), dir.path().join("indexer.log"));
    let oracle_drill = std::thread::spawn(move || drill(binary("timelock-oracle"), oracle_env, oracle_log));
    let indexer_drill = std::thread::spawn(move || drill(binary("timelock-indexer"), indexer_env, indexer_log));
    std::thread::sleep(Duration::from_secs(8));
    story.cheat();
    let mut oracle = oracle_drill.join().unwrap();
    let mut indexer = indexer_drill.join().unwrap();
    // A last attestation round by every oracle, then the chain goes quiet.
    std::thread::sleep(Duration::from_secs(2 * HEARTBEAT_SECS + 4));
    for host in &mut story.hosts {
        if let Some(agent) = host.agent.as_mut() {
            agent.stop();
        }
    }
    std::thread::sleep(Duration::from_secs(6));
    runtime.block_on(async {
        for oracle in story.oracles.iter_mut() {
            if let Some(oracle) = oracle.take() {
                oracle.stop().await;
            }
        }
    });
    oracle.kill().unwrap();
    oracle.wait().unwrap();

    let (reference, killed, oracle2) = runtime.block_on(async {
        let connect = |url: String| async move { PgPoolOptions::new().max_connections(2).connect(&url).await.unwrap() };
        let reference = story.indexer.as_ref().unwrap().store.pool.clone();
        (reference, connect(killed_db).await, connect(oracle_db).await)
    });

    // Nothing acknowledged by the killed oracle was lost.
    let log_of = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    let stored: BTreeSet<(Vec<u8>, i64)> = runtime
        .block_on(sqlx::query_as("SELECT worker, sequence FROM oracle.heartbeats").fetch_all(&oracle2))
        .unwrap_or_else(|e| panic!("{e}; the oracle's log:\n{}", log_of("oracle2.log")))
        .into_iter()
        .collect();
    let mut acknowledged = 0;
    for host in &story.hosts {
        let agent = host.agent.as_ref().unwrap();
        for (_, sequence) in agent.stored.lock().unwrap().iter().filter(|(url, _)| *url == oracle_url) {
            acknowledged += 1;
            assert!(
                stored.contains(&(host.worker.to_bytes().to_vec(), *sequence as i64)),
                "{}'s heartbeat {sequence}, acknowledged by the killed oracle, is lost",
                host.name
            );
        }
    }
    assert!(acknowledged >= 10, "the killed oracle took heartbeats between its deaths: {acknowledged}");

    // Both indexers reach the chain's newest transaction, then agree row for row (finality included; an account
    // row's read slot is the indexer's own moment of reading, which restarts move).
    let newest = runtime.block_on(timelock_tests::newest_program_signature(&rpc_url));
    let checkpoint = |pool: &sqlx::PgPool| {
        let query = sqlx::query_scalar::<_, Option<String>>("SELECT signature FROM indexer.checkpoints");
        runtime.block_on(query.fetch_optional(pool)).unwrap().flatten()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while checkpoint(&reference).as_ref() != Some(&newest) || checkpoint(&killed).as_ref() != Some(&newest) {
        let positions = (checkpoint(&reference), checkpoint(&killed));
        assert!(Instant::now() < deadline, "not both at {newest}: {positions:?}\n{}", log_of("indexer.log"));
        std::thread::sleep(Duration::from_millis(500));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (a, b) = runtime.block_on(async {
            (indexer_state_fingerprint(&reference).await, indexer_state_fingerprint(&killed).await)
        });
        if a == b {
            break;
        }
        if Instant::now() > deadline {
            let differing: Vec<_> =
                a.lines().zip(b.lines()).filter(|(x, y)| x != y).map(|(x, _)| &x[..x.len().min(40)]).collect();
            let first = a
                .lines()
                .zip(b.lines())
                .find(|(x, y)| x != y)
                .map(|(x, y)| (x[..x.len().min(600)].to_string(), y[..y.len().min(600)].to_string()));
            panic!("the killed indexer's mirror differs from the reference in: {differing:?}\n{first:#?}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let events: i64 =
        runtime.block_on(sqlx::query_scalar("SELECT count(*) FROM indexer.events").fetch_one(&killed)).unwrap();
    assert!(events > 20, "a busy history: {events} events");

    // The killed oracle never posted a vote twice: on chain, each of its reports on a lease says more than its
    // previous one (a restart re-reads its vote from chain before it sends).
    let sent = attestations_sent(&rpc_url, &story.stack.oracles[2].pubkey());
    assert!(sent.len() >= 2, "the killed oracle attested between its deaths: {sent:?}");
    let mut last: std::collections::BTreeMap<String, (u32, u16, u8)> = std::collections::BTreeMap::new();
    for (signature, lease, report) in &sent {
        let now = (report.proven_secs, report.faults, report.resolution);
        if let Some(before) = last.insert(lease.clone(), now) {
            let news = now.2 > before.2 || now.0 > before.0 || now.1 > before.1;
            assert!(news, "{signature} posted {lease}'s vote {now:?} again after {before:?}");
        }
    }

    indexer.kill().unwrap();
    indexer.wait().unwrap();
    runtime.block_on(async {
        if let Some(indexer) = story.indexer.take() {
            indexer.stop().await;
        }
    });
    drop(runtime);
}
