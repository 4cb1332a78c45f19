//! Oracle throughput: `verify_per_s` (heartbeat signatures checked per second, batch verification on all cores,
//! as the writer does) and `ingest_per_s` (heartbeats accepted over HTTP and durably stored per second, with
//! Postgres committing every batch), and `challenge_verify_ms` (the oracle's check of one H100-class challenge's
//! opening). Needs `DATABASE_URL` (`make bench` provides one); uses a database of its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use timelock_oracle::config::ChallengeClass;
use timelock_oracle::ingest::verify_items_in_parallel;
use timelock_oracle::Config;
use timelock_protocol::challenge::{self, Challenge, OpenedRow, Opening, Probe};
use timelock_protocol::merkle;
use timelock_protocol::SignedHeartbeat;
use timelock_tests::oracle_world::{unix_now, OracleWorld};
use timelock_tests::postgres::fresh_database;
use timelock_tools::{http_request, read_response, report, Row};
use tokio::io::AsyncWriteExt;

const WORKERS: usize = 512;
const GPUS: u16 = 8;
const LOAD_SECS: u64 = 10;
const CONNECTIONS: usize = 512;

fn heartbeats(world: &OracleWorld, per_worker: u64) -> Vec<Vec<SignedHeartbeat>> {
    let now = unix_now();
    (0..world.workers.len())
        .map(|w| (1..=per_worker).map(|seq| world.heartbeat(w, seq, now, world.honest_gpus(w))).collect())
        .collect()
}

fn verify_per_s(world: &OracleWorld) -> f64 {
    let signed: Vec<SignedHeartbeat> = heartbeats(world, 100).into_iter().flatten().collect();
    let keys: std::collections::HashMap<[u8; 32], [u8; 32]> =
        world.workers.iter().map(|w| (w.worker.to_bytes(), w.device.verifying_key().to_bytes())).collect();
    let items: Vec<_> = signed.iter().map(|h| (h, keys[&h.heartbeat.worker])).collect();
    let started = Instant::now();
    let mut verified = 0;
    for chunk in items.chunks(2_048) {
        verified += verify_items_in_parallel(chunk).into_iter().filter(|ok| *ok).count();
    }
    assert_eq!(verified, items.len());
    items.len() as f64 / started.elapsed().as_secs_f64()
}

async fn ingest_per_s(world: &OracleWorld) -> (f64, u64) {
    let url = fresh_database(&std::env::var("DATABASE_URL").expect("DATABASE_URL"), "timelock_bench_oracle").await;
    let pool = PgPoolOptions::new().max_connections(8).connect(&url).await.unwrap();
    let config =
        Config { chain_cache_secs: 600, max_batch: 4_096, queue_capacity: 100_000, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    // Bodies are signed up front: signing is the agents' work, not the oracle's.
    let bodies: Vec<Vec<String>> = heartbeats(world, 300)
        .into_iter()
        .map(|beats| beats.iter().map(|h| serde_json::to_string(h).unwrap()).collect())
        .collect();
    // Whole HTTP/1.1 requests, built up front: the load generator should cost the machine as little as wrk.
    let host = oracle.addr.to_string();
    let requests: Vec<Vec<Vec<u8>>> = bodies
        .iter()
        .map(|worker| worker.iter().map(|body| http_request("POST", &host, "/v1/heartbeats", body)).collect())
        .collect();
    let requests = Arc::new(requests);
    let accepted = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECS);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let (requests, accepted, addr) = (requests.clone(), accepted.clone(), oracle.addr);
            tokio::spawn(async move {
                let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
                stream.set_nodelay(true).unwrap();
                let mut buffer = Vec::with_capacity(1024);
                // Each connection drives its own workers, in sequence order.
                let mine: Vec<usize> = (c..WORKERS).step_by(CONNECTIONS).collect();
                for i in 0..requests[0].len() {
                    for &w in &mine {
                        if Instant::now() >= deadline {
                            return;
                        }
                        stream.write_all(&requests[w][i]).await.expect("send");
                        if read_response(&mut stream, &mut buffer).await == 202 {
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let metrics = oracle.metrics.render();
    let batches = metrics.lines().find(|l| l.starts_with("oracle_ingest_batches_total")).unwrap_or_default();
    eprintln!("{batches}");
    oracle.stop().await;
    let accepted = accepted.load(Ordering::Relaxed);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM oracle.heartbeats").fetch_one(&pool).await.unwrap();
    assert_eq!(stored as u64, accepted, "every 202 is a stored row");
    (accepted as f64 / elapsed, accepted)
}

/// Oracle-side verification of one challenge of `class` (what `POST /v1/challenges/{id}/opening` costs, off the
/// async threads). The opening is built the way the verifier cannot tell from an honest one: the probed rows
/// computed one by one and the other rows' leaves arbitrary, so the bench costs seconds, not the product's
/// minutes on a CPU.
fn challenge_verify_ms(class: ChallengeClass, rows: u32) -> f64 {
    let c = Challenge { id: 1, seed: [7; 32], size: class.size, oracle: [3; 32] };
    let n = class.size as usize;
    let probe = Probe { id: 1, seed: [9; 32], rows, open_by: 0 };
    let (r, picked) = challenge::probe_plan(&probe.seed, n, rows);
    let opened: std::collections::BTreeMap<u32, Vec<u32>> =
        picked.iter().map(|&i| (i, challenge::product_row(&c, i))).collect();
    let leaves: Vec<merkle::Hash> = (0..n as u32)
        .map(|i| match opened.get(&i) {
            Some(values) => challenge::row_leaf(i, values),
            None => merkle::leaf(&[&i.to_le_bytes()]),
        })
        .collect();
    let root = merkle::root(&leaves);
    let y: Vec<u32> = challenge::product_times(&c, &r).into_iter().map(|v| v as u32).collect();
    let opening = Opening {
        id: 1,
        product_times_probe: y,
        rows: picked
            .iter()
            .map(|&i| OpenedRow { index: i, values: opened[&i].clone(), proof: merkle::proof(&leaves, i as usize) })
            .collect(),
    };
    let started = Instant::now();
    let verdict = challenge::verify_opening(&c, &root, &probe, &opening);
    let ms = started.elapsed().as_secs_f64() * 1_000.0;
    assert_eq!(verdict, challenge::ChallengeVerdict::Passed);
    ms
}

/// The card's side of a challenge of its own class, where this host has a CUDA driver: the product on GPU 0, the
/// copy back and the Merkle root of its rows (what must reach the oracle within the class's `commit_ms`), after one
/// small product that JIT-compiles the PTX. `None` without a driver: the row is only written where a GPU was lent.
fn challenge_gpu_ms() -> Option<(String, f64)> {
    let gpu = timelock_agent::gpu::GpuSolver::open().ok()?;
    let model = timelock_agent::telemetry::catalog_model(&gpu.device);
    let classes = timelock_oracle::config::gpu_challenge_classes();
    let class = classes.get(&model).or_else(|| classes.get("H100-SXM")).copied()?;
    gpu.product(&Challenge { id: 0, seed: [1; 32], size: 64, oracle: [3; 32] }).ok()?;
    let c = Challenge { id: 1, seed: [7; 32], size: class.size, oracle: [3; 32] };
    let started = Instant::now();
    let committed = challenge::Committed::new(class.size as usize, gpu.product(&c).ok()?);
    let ms = started.elapsed().as_secs_f64() * 1_000.0;
    eprintln!(
        "{} ({model}): n = {} committed in {ms:.0} ms, root {:02x?}",
        gpu.device,
        class.size,
        &committed.root[..4]
    );
    Some((model, ms))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let h100 = timelock_oracle::config::gpu_challenge_classes()["H100-SXM"];
    let verify_challenge = challenge_verify_ms(h100, Config::default().challenge_rows);
    let world = OracleWorld::new(WORKERS, GPUS, 2, 0);
    let verify = verify_per_s(&world);
    let (ingest, accepted) = ingest_per_s(&world).await;
    eprintln!(
        "{accepted} heartbeats of {WORKERS} workers × {GPUS} GPUs over {CONNECTIONS} connections in {LOAD_SECS} s"
    );
    let mut rows = vec![
        Row { name: "verify_per_s".into(), value: verify.round(), unit: "signatures/s" },
        Row { name: "ingest_per_s".into(), value: ingest.round(), unit: "heartbeats/s" },
        Row { name: "challenge_verify_ms".into(), value: verify_challenge.round(), unit: "ms" },
    ];
    match challenge_gpu_ms() {
        Some((model, ms)) => {
            rows.push(Row { name: format!("challenge_gpu_ms_{model}"), value: ms.round(), unit: "ms" })
        }
        None => eprintln!("no CUDA driver here: no challenge_gpu_ms row"),
    }
    let path = report("oracle", &rows)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
