//! Oracle throughput: `verify_per_s` (heartbeat signatures checked per second, batch verification on all cores,
//! as the writer does; `verify_per_s_one_forged_per_batch` with one bad signature in every 2,048) and `ingest_per_s` (heartbeats accepted over HTTP and durably stored per second, with
//! Postgres committing every batch), and `challenge_verify_ms` (the oracle's check of one H100-class challenge's
//! opening). Needs `DATABASE_URL` (`make bench` provides one); uses a database of its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use timelock_oracle::config::ChallengeClass;
use timelock_oracle::ingest::{verify_items_in_parallel, EncodedHeartbeat};
use timelock_oracle::Config;
use timelock_protocol::challenge::{self, Challenge, OpenedRow, Opening, Probe};
use timelock_protocol::merkle;
use timelock_protocol::{DeviceKey, SignedHeartbeat};
use timelock_tests::oracle_world::{unix_now, OracleWorld};
use timelock_tests::postgres::fresh_database;
use timelock_tools::{http_request, read_response, report, Row};
use tokio::io::AsyncWriteExt;

/// The oracle's own allocator, as its binary runs on.
#[global_allocator]
static ALLOCATOR: timelock_oracle::Allocator = timelock_oracle::Allocator {};

/// Workers, each with a connection of its own: 512, or `ORACLE_BENCH_CONNECTIONS` (for measuring the oracle with
/// more requests in flight than the 512 that the report's row is measured with).
fn connections() -> usize {
    std::env::var("ORACLE_BENCH_CONNECTIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(512)
}
const GPUS: u16 = 8;
const LOAD_SECS: u64 = 10;

fn heartbeats(world: &OracleWorld, per_worker: u64) -> Vec<Vec<SignedHeartbeat>> {
    let now = unix_now();
    (0..world.workers.len())
        .map(|w| (1..=per_worker).map(|seq| world.heartbeat(w, seq, now, world.honest_gpus(w))).collect())
        .collect()
}

/// What a heartbeat's signature costs the oracle: its one Borsh encoding (in the request's handler) and its share
/// of a batch verification (in the writer, all cores), with the device key that the chain cache keeps
/// decompressed.
///
/// With `forged_every`, one heartbeat in that many carries a bad signature under a real worker's name (the attack
/// on batch verification: a failed batch is checked again one by one), and only the good ones are counted.
fn verify_per_s(world: &OracleWorld, forged_every: Option<usize>) -> f64 {
    let mut signed: Vec<SignedHeartbeat> = heartbeats(world, 100).into_iter().flatten().collect();
    let mut forged = 0;
    for heartbeat in
        signed.iter_mut().skip(forged_every.map_or(usize::MAX, |n| n / 2)).step_by(forged_every.unwrap_or(1))
    {
        heartbeat.signature[40] ^= 0x10;
        forged += 1;
    }
    let keys: std::collections::HashMap<[u8; 32], DeviceKey> = world
        .workers
        .iter()
        .map(|w| (w.worker.to_bytes(), timelock_protocol::device_key(&w.device.verifying_key().to_bytes()).unwrap()))
        .collect();
    let started = Instant::now();
    let mut verified = 0;
    for chunk in signed.chunks(2_048) {
        let encoded: Vec<EncodedHeartbeat> = chunk.iter().map(EncodedHeartbeat::new).collect();
        let items: Vec<_> = encoded.iter().map(|h| (h, Some(&keys[&h.worker]))).collect();
        verified += verify_items_in_parallel(&items).into_iter().filter(|ok| *ok).count();
    }
    assert_eq!(verified, signed.len() - forged);
    verified as f64 / started.elapsed().as_secs_f64()
}

/// Heartbeats signed for the ingest load, shared out among the workers: enough that the load lasts its whole
/// `LOAD_SECS` at 40,000 heartbeats/s.
const INGEST_HEARTBEATS: u64 = 409_600;

async fn ingest_per_s(world: &OracleWorld) -> (f64, u64) {
    let url = fresh_database(&std::env::var("DATABASE_URL").expect("DATABASE_URL"), "timelock_bench_oracle").await;
    let pool = PgPoolOptions::new().max_connections(8).connect(&url).await.unwrap();
    let config =
        Config { chain_cache_secs: 600, max_batch: 4_096, queue_capacity: 100_000, ..OracleWorld::oracle_config() };
    let oracle = world.start_oracle(pool.clone(), 0, config).await;
    // Bodies are signed up front: signing is the agents' work, not the oracle's.
    let bodies: Vec<Vec<bytes::Bytes>> = heartbeats(world, INGEST_HEARTBEATS / world.workers.len() as u64)
        .into_iter()
        .map(|beats| beats.iter().map(|h| serde_json::to_vec(h).unwrap().into()).collect())
        .collect();
    // Whole HTTP/1.1 requests, built up front: the load generator should cost the machine as little as wrk.
    let host = oracle.addr.to_string();
    let requests: Vec<Vec<Vec<u8>>> = bodies
        .iter()
        .map(|worker| {
            let body = |b: &bytes::Bytes| String::from_utf8(b.to_vec()).unwrap();
            worker.iter().map(|b| http_request("POST", &host, "/v1/heartbeats", &body(b))).collect()
        })
        .collect();
    let postgres = Postgres::find(&pool).await;
    let cpu_before = (process_cpu(), postgres.as_ref().map(Postgres::cpu));
    // The load generator runs on a thread of its own (a single-threaded runtime), apart from the oracle's
    // runtime, so that what it costs the machine is measured rather than mixed into the oracle's figure.
    let addr = oracle.addr;
    let http2 = std::env::var("ORACLE_BENCH_HTTP2").ok().and_then(|n| n.parse::<usize>().ok());
    let started = Instant::now();
    let load = std::thread::Builder::new()
        .name(LOAD_GENERATOR.into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let accepted = match http2 {
                Some(connections) => runtime.block_on(generate_load_http2(addr, Arc::new(bodies), connections.max(1))),
                None => runtime.block_on(generate_load(addr, Arc::new(requests))),
            };
            (accepted, thread_cpu())
        })
        .unwrap();
    let (accepted, load_cpu) = tokio::task::spawn_blocking(move || load.join().expect("load generator")).await.unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_after = (process_cpu(), postgres.as_ref().map(Postgres::cpu));
    let metrics = oracle.metrics.render();
    for line in metrics.lines().filter(|l| l.starts_with("oracle_ingest_")) {
        eprintln!("{line}");
    }
    oracle.stop().await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM oracle.heartbeats").fetch_one(&pool).await.unwrap();
    assert_eq!(stored as u64, accepted, "every 202 is a stored row");
    // Where the machine's time went during the load, per heartbeat accepted.
    let per_beat = |secs: f64| secs * 1e6 / accepted.max(1) as f64;
    let oracle_cpu = (cpu_after.0 - cpu_before.0) - load_cpu;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let mut line = format!(
        "CPU during the load ({elapsed:.1} s × {cores} cores = {:.1} core-s): oracle {oracle_cpu:.1} s \
         ({:.1} µs a heartbeat), load generator {load_cpu:.1} s ({:.1} µs)",
        elapsed * cores,
        per_beat(oracle_cpu),
        per_beat(load_cpu)
    );
    if let (Some(before), Some(after)) = (cpu_before.1, cpu_after.1) {
        line.push_str(&format!(", Postgres {:.1} s ({:.1} µs)", after - before, per_beat(after - before)));
    }
    eprintln!("{line}");
    (accepted as f64 / elapsed, accepted)
}

const LOAD_GENERATOR: &str = "load-generator";

/// One kept-alive HTTP/1.1 connection per worker, each posting its worker's heartbeats in sequence order, one
/// request in flight at a time, until `LOAD_SECS` have passed; the number answered 202.
async fn generate_load(addr: std::net::SocketAddr, requests: Arc<Vec<Vec<Vec<u8>>>>) -> u64 {
    let accepted = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECS);
    let tasks: Vec<_> = (0..requests.len())
        .map(|c| {
            let (requests, accepted) = (requests.clone(), accepted.clone());
            tokio::spawn(async move {
                let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
                stream.set_nodelay(true).unwrap();
                let mut buffer = Vec::with_capacity(1024);
                for request in &requests[c] {
                    if Instant::now() >= deadline {
                        return;
                    }
                    stream.write_all(request).await.expect("send");
                    if read_response(&mut stream, &mut buffer).await == 202 {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    accepted.load(Ordering::Relaxed)
}

/// `ORACLE_BENCH_HTTP2=N`: the same heartbeats over `N` HTTP/2 connections (h2c), each worker's in sequence order
/// and one in flight at a time, the workers' requests multiplexed as a proxy in front of the oracle would.
async fn generate_load_http2(
    addr: std::net::SocketAddr,
    bodies: Arc<Vec<Vec<bytes::Bytes>>>,
    connections: usize,
) -> u64 {
    let accepted = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for _ in 0..connections {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).unwrap();
        let (client, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
        tokio::spawn(connection);
        clients.push(client);
    }
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECS);
    let uri = format!("http://{addr}/v1/heartbeats");
    let tasks: Vec<_> = (0..bodies.len())
        .map(|w| {
            let (bodies, accepted, client, uri) =
                (bodies.clone(), accepted.clone(), clients[w % connections].clone(), uri.clone());
            tokio::spawn(async move {
                for body in &bodies[w] {
                    if Instant::now() >= deadline {
                        return;
                    }
                    let mut client = client.clone().ready().await.expect("stream");
                    let request =
                        http::Request::post(&uri).header("content-type", "application/json").body(()).unwrap();
                    let (response, mut stream) = client.send_request(request, false).expect("send");
                    stream.send_data(body.clone(), true).expect("send");
                    let response = response.await.expect("answer");
                    let status = response.status();
                    let mut answer = response.into_body();
                    while let Some(chunk) = answer.data().await {
                        let _ = answer.flow_control().release_capacity(chunk.expect("answer").len());
                    }
                    if status == 202 {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    accepted.load(Ordering::Relaxed)
}

/// Seconds of CPU (user and system) in `/proc/.../stat`'s fields after the command name: `fields` counted from
/// the state (field 3 of proc(5)).
fn stat_secs(stat: &str, fields: &[usize]) -> f64 {
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let values: Vec<&str> = rest.split_whitespace().collect();
    // Linux reports these in USER_HZ, 100 a second on every architecture it supports.
    fields.iter().filter_map(|&f| values.get(f - 3)?.parse::<f64>().ok()).sum::<f64>() / 100.0
}

/// This process's CPU so far, its exited threads included.
fn process_cpu() -> f64 {
    std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| stat_secs(&s, &[14, 15]))
}

/// CPU so far of the calling thread.
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/stat").map_or(0.0, |s| stat_secs(&s, &[14, 15]))
}

/// The Postgres server the bench writes to, when it runs on this machine and its processes can be read.
struct Postgres {
    postmaster: u32,
}

impl Postgres {
    async fn find(pool: &sqlx::PgPool) -> Option<Postgres> {
        let dir: String = sqlx::query_scalar("SHOW data_directory").fetch_one(pool).await.ok()?;
        let pid = std::fs::read_to_string(std::path::Path::new(&dir).join("postmaster.pid")).ok()?;
        let postmaster = pid.lines().next()?.trim().parse().ok()?;
        std::fs::metadata(format!("/proc/{postmaster}/stat")).ok()?;
        Some(Postgres { postmaster })
    }

    /// CPU so far of the postmaster, its live children and the children it has reaped.
    fn cpu(&self) -> f64 {
        let own = std::fs::read_to_string(format!("/proc/{}/stat", self.postmaster))
            .map_or(0.0, |s| stat_secs(&s, &[14, 15, 16, 17]));
        let children: f64 = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|p| std::fs::read_to_string(p.path().join("stat")).ok())
            .filter(|s| {
                let parent = s.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1));
                parent.and_then(|p| p.parse::<u32>().ok()) == Some(self.postmaster)
            })
            .map(|s| stat_secs(&s, &[14, 15]))
            .sum();
        own + children
    }
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
    timelock_oracle::keep_freed_memory();
    let h100 = timelock_oracle::config::gpu_challenge_classes()["H100-SXM"];
    let verify_challenge = challenge_verify_ms(h100, Config::default().challenge_rows);
    let world = OracleWorld::new(connections(), GPUS, 2, 0);
    let verify = verify_per_s(&world, None);
    // One forgery in every writer batch the bench's chunks stand for.
    let verify_forged = verify_per_s(&world, Some(2_048));
    let (ingest, accepted) = ingest_per_s(&world).await;
    let over = match std::env::var("ORACLE_BENCH_HTTP2") {
        Ok(n) => format!("{n} HTTP/2 connections"),
        Err(_) => format!("{} HTTP/1.1 connections", world.workers.len()),
    };
    eprintln!("{accepted} heartbeats of {} workers × {GPUS} GPUs over {over} in {LOAD_SECS} s", world.workers.len());
    let mut rows = vec![
        Row { name: "verify_per_s".into(), value: verify.round(), unit: "signatures/s" },
        Row { name: "verify_per_s_one_forged_per_batch".into(), value: verify_forged.round(), unit: "signatures/s" },
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
