//! The oracle's own outages are nobody's fault: its database restarted, its chain node down and its process
//! restarted mid-run lose no acknowledged heartbeat, fault no worker, and need nobody to recover.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use timelock_agent::client::Agent;
use timelock_agent::telemetry::FileSource;
use timelock_tests::faults::{PrivateServer, Unreliable};

use super::*;

/// Settings of the drill: one-second intervals, a tolerance of three missed ones (the agent's start and stop),
/// so that any outage of four seconds or more would be an offline fault if it were the worker's.
fn drill_config(listen: String) -> Config {
    Config { listen, interval_secs: 1, offline_tolerance: 3, chain_cache_secs: 0, ..OracleWorld::oracle_config() }
}

fn seconds(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_restart_node_outage_and_oracle_restart_fault_nobody_and_lose_nothing() {
    // The oracle's database is a server of this test's own, so that it can really be restarted.
    let server = PrivateServer::start();
    let pool = || async {
        PgPoolOptions::new().max_connections(8).acquire_timeout(seconds(2)).connect(&server.url()).await.unwrap()
    };
    let world = OracleWorld::new(1, 8, 2, 0);
    let node = Unreliable::new(world.chain.clone());
    let port = timelock_tests::free_port();
    let config = drill_config(format!("127.0.0.1:{port}"));
    let oracle = world.start_oracle_on(node.clone(), pool().await, 0, config.clone()).await.unwrap();

    // An honest agent ticking every second, from now to the end of the drill.
    let dir = tempfile::tempdir().unwrap();
    let (identity, telemetry) = world.agent_of(0, dir.path());
    let running = Arc::new(AtomicBool::new(true));
    let confirmed = Arc::new(Mutex::new(Vec::new()));
    let agent = {
        let (running, confirmed) = (running.clone(), confirmed.clone());
        let (device, url) = (world.workers[0].device.clone(), format!("http://127.0.0.1:{port}"));
        std::thread::spawn(move || {
            let mut agent = Agent::new(identity, device, Box::new(FileSource { path: telemetry }), vec![url]);
            agent.retry_budget = Duration::from_millis(500);
            while running.load(Ordering::SeqCst) {
                let tick = agent.tick(unix_now() as u64 * 1_000);
                confirmed.lock().unwrap().extend(tick.stored.into_iter().map(|(_, sequence)| sequence as i64));
                std::thread::sleep(Duration::from_millis(1_000));
            }
            agent
        })
    };

    let ready = |port: u16| async move {
        let response = reqwest::get(format!("http://127.0.0.1:{port}/ready")).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    tokio::time::sleep(seconds(4)).await;
    assert_eq!(ready(port).await.0, 200);
    // Postgres restarts: five seconds down.
    server.stop();
    tokio::time::sleep(seconds(5)).await;
    let (status, why) = ready(port).await;
    assert!(status == 503 && why.contains("database"), "{status} {why}");
    server.resume();
    tokio::time::sleep(seconds(4)).await;
    assert_eq!(ready(port).await, (200, r#"{"status":"ready"}"#.to_string()), "recovered by itself");
    // The chain node stops answering for five seconds.
    node.set_down(true);
    tokio::time::sleep(seconds(5)).await;
    let (status, why) = ready(port).await;
    assert!(status == 503 && why.contains("chain"), "{status} {why}");
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("oracle_unavailable{cause=\"chain\"} 1"), "{metrics}");
    node.set_down(false);
    tokio::time::sleep(seconds(4)).await;
    assert_eq!(ready(port).await.0, 200, "recovered by itself");
    // The oracle's process is down for five seconds and comes back on its address.
    oracle.stop().await;
    tokio::time::sleep(seconds(5)).await;
    let oracle = world.start_oracle_on(node.clone(), pool().await, 0, config).await.unwrap();
    tokio::time::sleep(seconds(4)).await;
    running.store(false, Ordering::SeqCst);
    let agent = tokio::task::spawn_blocking(move || agent.join().unwrap()).await.unwrap();
    let stopped = unix_now();
    drop(agent);

    // Every heartbeat the oracle confirmed is stored.
    let db = pool().await;
    let stored: BTreeSet<i64> = sqlx::query_scalar("SELECT sequence FROM oracle.heartbeats")
        .fetch_all(&db)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let confirmed = confirmed.lock().unwrap().clone();
    let lost: Vec<_> = confirmed.iter().filter(|s| !stored.contains(s)).collect();
    assert!(lost.is_empty(), "{} acknowledged heartbeats lost: {lost:?}", lost.len());
    assert!(confirmed.len() >= 20, "the agent kept delivering: {}", confirmed.len());

    // The oracle knows why it heard nothing.
    let causes: BTreeSet<String> =
        sqlx::query_scalar("SELECT cause FROM oracle.outages").fetch_all(&db).await.unwrap().into_iter().collect();
    assert_eq!(causes, BTreeSet::from(["chain".into(), "database".into(), "process".into()]));

    // Judged up to the moment the agent stopped: proven time, and no fault.
    world.chain.lock().set_time(stopped + config_skew());
    let round = oracle.attestor.round().await.unwrap();
    assert_eq!(round.sent.len(), 1, "{round:?}");
    let (_, proven_secs, faults) = round.sent[0];
    assert_eq!(faults, 0, "the oracle's outages are not the worker's faults");
    assert!(proven_secs >= 15, "{proven_secs}");
    oracle.stop().await;
}

fn config_skew() -> i64 {
    OracleWorld::oracle_config().max_clock_skew_secs
}
