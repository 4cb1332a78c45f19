//! `make demo`: the whole system on a local chain. A real validator with the program; Postgres; three oracle
//! services (threshold 2); the indexer; a supplier who stakes and registers seven 8-GPU hosts (six H100s, one
//! A100) and a renter who books them, both with the `timelock` CLI; worker agents sending signed heartbeats (two
//! honest, then a supplier cheating in each way the oracles judge: a crypto miner beside the renter's job, a host
//! that drops off the network, a swapped GPU, a missing GPU, an A100 too slow for its GPU class's challenge);
//! attestations landing; settlement paying the honest and slashing and jailing the others; a summary from the
//! indexer API, with why each host went unpaid as the indexer heard it from the oracles. The services stay up
//! until Ctrl-C.

use std::time::{Duration, Instant};

use serde_json::Value;
use solana_signer::Signer;
use timelock_tests::localnet::{Story, GPUS_PER_HOST, HEARTBEAT_SECS, HOSTS, SLOW_PROVER_CLASS, SLOW_PROVER_MODEL};

fn usdc(units: i64) -> String {
    format!("{}.{:06}", units / 1_000_000, units % 1_000_000)
}

fn stake(units: i64) -> String {
    format!("{}.{:09}", units / 1_000_000_000, units % 1_000_000_000)
}

fn get(base: &str, path: &str) -> Value {
    reqwest::blocking::get(format!("{base}{path}")).and_then(|r| r.json()).unwrap_or(Value::Null)
}

/// The reasons the first oracle that answered the indexer gives for the lease's unpaid intervals, each with how
/// many intervals it covers (the indexer asks every oracle: `GET /v1/leases/{lease}/intervals`).
fn unpaid_reasons(api: &str, lease: &str) -> String {
    let answer = get(api, &format!("/v1/leases/{lease}/intervals?limit=500"));
    let oracles = answer["oracles"].as_array().cloned().unwrap_or_default();
    let Some(page) = oracles.iter().find(|o| o["intervals"].is_array()) else {
        return format!("? (no oracle answered: {answer})");
    };
    let mut counted: Vec<(String, usize)> = Vec::new();
    for interval in page["intervals"].as_array().into_iter().flatten().filter(|i| i["reason"] != "proven") {
        let mut reason = interval["reason"].as_str().unwrap_or("?").to_string();
        if let Some(image) = interval["image_name"].as_str().or(interval["image"].as_str()) {
            reason = format!("{reason} ({image}, pid {})", interval["pid"]);
        } else if reason == "missing_gpu" {
            let model = interval["model"].as_str().unwrap_or("?");
            reason = format!("{reason} ({} of {} {model})", interval["reported"], interval["expected"]);
        }
        match counted.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => counted.push((reason, 1)),
        }
    }
    if counted.is_empty() {
        return "-".into();
    }
    counted.iter().map(|(reason, n)| format!("{reason} × {n}")).collect::<Vec<_>>().join("; ")
}

fn main() {
    let started = Instant::now();
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL (make demo provides one)");
    let port: u16 = std::env::var("TIMELOCK_DEMO_RPC_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8899);
    let dir = std::env::temp_dir().join(format!("timelock-demo-{}", std::process::id()));
    println!("== starting a local validator with the timelock program ({})", timelock::ID);
    let mut story = Story::booked(&dir, port, "timelock_demo");
    println!("   RPC {}", story.stack.validator.rpc_url);
    let hosts = HOSTS.len();
    println!(
        "== supplier {} staked 100,000 and registered {hosts} hosts of 8 GPUs: H100s, and an {SLOW_PROVER_MODEL} (CLI)",
        story.supplier.pubkey()
    );
    println!("== renter {} booked cluster 1 for 1 hour on all {hosts} hosts (CLI)", story.renter.pubkey());

    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    runtime.block_on(story.start_services(&database_url));
    for (i, url) in story.oracle_urls.iter().enumerate() {
        println!("   oracle {i}: {url}");
    }
    let api = format!("http://{}", story.indexer.as_ref().expect("indexer").addr);
    println!("   indexer API: {api}/v1/stats (OpenAPI at {api}/openapi.json)");
    println!("   web console: {api}/ (built by `make console`)");

    story.start_agents();
    println!("== agents report every {HEARTBEAT_SECS} s to the three oracles");
    let class = SLOW_PROVER_CLASS;
    println!(
        "   the oracles size an {SLOW_PROVER_MODEL}'s challenge for a GPU ({0} x {0}, committed within {1} ms): the \
         slow-prover's CPU cannot",
        class.size, class.commit_ms
    );
    std::thread::sleep(Duration::from_secs(12));
    story.cheat();
    println!("== a crypto miner appears on the cheater's GPUs; swapped-gpu reports a GPU not registered to it;");
    println!("   missing-gpu reports 7 of its 8 GPUs");
    std::thread::sleep(Duration::from_secs(3));
    story.go_offline();
    println!("== the flaky host drops off the network");

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let proving = story.hosts.iter().filter(|h| h.role.proves_time());
        if proving.into_iter().all(|h| story.lease(h).final_secs > 0) && story.every_cheater_faulted() {
            break;
        }
        assert!(Instant::now() < deadline, "attestations did not land in time");
        std::thread::sleep(Duration::from_secs(2));
    }
    // One more dispute window, so that the honest hosts' later proven time is final too.
    std::thread::sleep(Duration::from_secs(12));
    println!("== the oracles' quorum attested proven time and faults; the dispute window passed");
    for (host, settled) in story.hosts.iter().zip(story.settle_all()) {
        println!("   settled {:<11} {}", host.name, settled);
    }
    std::thread::sleep(Duration::from_secs(3)); // the indexer's next poll

    println!("\n| host | GPUs | proven s | faults | paid to supplier | slashed | jailed | why not paid (the oracles, via the indexer) |");
    println!("|---|---|---:|---:|---:|---:|---|---|");
    for host in &story.hosts {
        let why = unpaid_reasons(&api, &host.lease.to_string());
        let lease = get(&api, &format!("/v1/leases/{}", host.lease));
        let worker = get(&api, &format!("/v1/workers/{}", host.worker));
        let gross = lease["gross_paid"].as_i64().unwrap_or(0);
        let fees = lease["fees_paid"].as_i64().unwrap_or(0);
        let jailed = worker["jailed_until"].as_i64().unwrap_or(0) > 0;
        println!(
            "| {} | {GPUS_PER_HOST} x {} | {} | {} | {} USDC | {} stake | {} | {} |",
            host.name,
            host.gpu_model,
            lease["proven_secs"],
            lease["faults"],
            usdc(gross - fees),
            stake(lease["slashed"].as_i64().unwrap_or(0)),
            if jailed { "yes" } else { "no" },
            why
        );
    }
    let stats = get(&api, "/v1/stats");
    println!(
        "\nnetwork: {} GPUs, {} rented, {} USDC paid in the last 24 h",
        stats["gpus_total"],
        stats["gpus_rented"],
        usdc(stats["volume_paid_24h"].as_i64().unwrap_or(0))
    );
    println!(
        "story done in {:.0} s. The web console and the API stay up at {api}/ — Ctrl-C stops everything.",
        started.elapsed().as_secs_f64()
    );
    if std::env::var_os("TIMELOCK_DEMO_EXIT").is_none() {
        runtime.block_on(timelock_service_kit::shutdown_signal());
    }
    runtime.block_on(story.stop_services());
    drop(runtime);
    drop(story);
    let _ = std::fs::remove_dir_all(&dir);
}
