//! Indexer figures: `ingest_events_per_s` (program events decoded from self-CPI data and stored in batches of
//! 1,000 by the indexer's ingest loop), and the API's p99 latency for point reads (`api_point_p99_ms`) and filtered lists (`api_list_p99_ms`)
//! at a fixed 2,000 requests/s for 30 s, sent by a separate load process, on a database seeded with 100,000
//! workers and 1,000,000 leases. Needs `DATABASE_URL` (`make bench` provides one); uses a database of its own.
//!
//! `bench-indexer load <url> <point|list> <rate> <secs>` is the load process: open loop (each request has its
//! scheduled time, and latency counts from it, so a slow server cannot hide its queueing), printing the p99.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::Event;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use timelock::events::{AttestedLease, LeaseSettled, LeasesAttested};
use timelock_indexer::decode::{events_of, InnerInstruction, TransactionRecord};
use timelock_indexer::source::{Source, SourceError};
use timelock_indexer::store::{Batch, Checkpoint, Store};
use timelock_indexer::Config;
use timelock_tests::postgres::fresh_database;
use timelock_tools::{http_request, read_response, report, Row};
use tokio::io::AsyncWriteExt;

const WORKERS: i64 = 100_000;
const LEASES: i64 = 1_000_000;
const RATE: u64 = 2_000;
const LOAD_SECS: u64 = 30;
/// The recorded transactions' first slot, one transaction a slot.
const FIRST_SLOT: u64 = 10;

fn key(i: i64, salt: u8) -> String {
    let mut bytes = [salt; 32];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    Pubkey::new_from_array(bytes).to_string()
}

/// 1,000 suppliers, 100,000 workers across models, regions and prices, 1,000,000 leases.
async fn seed(pool: &PgPool) {
    let started = Instant::now();
    let suppliers: Vec<String> = (0..1_000).map(|i| key(i, 1)).collect();
    sqlx::query(
        "INSERT INTO indexer.suppliers (address, authority, staked, unbonding, reserved, locked, slashed_total, \
         earnings_unclaimed, earnings_claimed, active_leases, worker_count, gpu_count, created_at, slot) \
         SELECT a, a, 1000000000000 + i * 1000, 0, 0, 0, 0, 0, 0, 0, 100, 800, 1800000000, 1 \
         FROM UNNEST($1::text[]) WITH ORDINALITY AS s(a, i)",
    )
    .bind(&suppliers)
    .execute(pool)
    .await
    .unwrap();
    let workers: Vec<String> = (0..WORKERS).map(|i| key(i, 2)).collect();
    for chunk in workers.chunks(20_000) {
        sqlx::query(
            "INSERT INTO indexer.workers (address, supplier, worker_index, gpu_model, gpu_count, vram_gib, cpu_cores, \
             ram_gib, region, connectivity_tier, compliance, green_energy, price_per_gpu_hour, device_key, available, \
             active_lease, bonded_stake, jailed_until, fault_count, registered_at, slot, bookable) \
             SELECT a, $2[(1 + h % 1000)::int], h, \
               (ARRAY['H100-SXM','H100-PCIE','H200','A100-80G','A100-40G','L40S','RTX-4090','RTX-3090','A6000','B200'])[(1 + h % 10)::int], \
               (ARRAY[1,2,4,8])[(1 + (h / 10) % 4)::int], 80, 64, 512, \
               (ARRAY['US-EAST','US-WEST','EU-WEST','EU-CENTRAL','AP-SOUTH','AP-EAST'])[(1 + (h / 40) % 6)::int], \
               (1 + h % 5)::int, (h % 8)::int, h % 3 = 0, 300000 + (h * 7919) % 3000000, a, h % 4 <> 0, \
               CASE WHEN h % 3 = 0 THEN a END, 8000, 0, 0, 1800000000 + h, 1, h % 4 <> 0 AND h % 3 <> 0 \
             FROM (SELECT a, abs(hashtext(a)::bigint) AS h FROM UNNEST($1::text[]) AS w(a)) x",
        )
        .bind(chunk)
        .bind(&suppliers)
        .execute(pool)
        .await
        .unwrap();
    }
    for start in (0..LEASES).step_by(100_000) {
        let leases: Vec<String> = (start..start + 100_000).map(|i| key(i, 3)).collect();
        sqlx::query(
            "INSERT INTO indexer.leases (address, cluster, worker, supplier, price_per_gpu_hour, hourly_rate, gpu_count, \
             collateral, start_ts, removed_at, proven_secs, final_secs, faults, gross_paid, fees_paid, slashed, slot) \
             SELECT a, 'cluster-' || (n / 8), $2[(1 + n % 100000)::int], $3[(1 + n % 1000)::int], 2000000, 16000000, 8, 16000000, \
               1800000000 + n, 0, 3600, 3600, 0, 16000000, 800000, 0, 1 \
             FROM UNNEST($1::text[]) WITH ORDINALITY AS l(a, n)",
        )
        .bind(&leases)
        .bind(&workers)
        .bind(&suppliers)
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
    eprintln!("seeded {WORKERS} workers and {LEASES} leases in {:.1} s", started.elapsed().as_secs_f64());
}

/// Transactions as a node returns them: each settles 4 leases and attests 10, as the self-CPI data the
/// program emits.
fn transactions(count: usize) -> Vec<TransactionRecord> {
    let event_data = |body: Vec<u8>| [anchor_lang::event::EVENT_IX_TAG_LE, &body].concat();
    (0..count)
        .map(|t| {
            let mut inner = Vec::new();
            for i in 0..4 {
                let settled = LeaseSettled {
                    lease: Pubkey::new_unique(),
                    cluster: Pubkey::new_unique(),
                    worker: Pubkey::new_unique(),
                    supplier: Pubkey::new_unique(),
                    final_secs: 3_600,
                    paid_to_supplier: 15_200_000,
                    fee: 800_000,
                    fees_to_treasury: 0,
                    refund: 0,
                    slashed: if i == 0 { 3_200_000 } else { 0 },
                    slash_to_renter: if i == 0 { 1_600_000 } else { 0 },
                    gross_paid: 16_000_000,
                    faults: 0,
                    jailed_until: 0,
                    closed: false,
                    supplier_earnings_unclaimed: 15_200_000,
                    supplier_staked: 8_000_000_000,
                    supplier_locked: 0,
                    incentive_credit: 0,
                    timestamp: 1_800_000_000,
                };
                inner.push(InnerInstruction {
                    outer_index: i,
                    program_id: timelock::ID,
                    data: event_data(settled.data()),
                });
            }
            let attested = LeasesAttested {
                oracle: Pubkey::new_unique(),
                window_end: 1_800_000_000,
                evidence_root: [7; 32],
                leases: (0..10)
                    .map(|_| AttestedLease {
                        lease: Pubkey::new_unique(),
                        accepted: true,
                        proven_secs: 1_800,
                        faults: 0,
                        final_secs: 0,
                    })
                    .collect(),
                timestamp: 1_800_000_000,
            };
            inner.push(InnerInstruction {
                outer_index: 4,
                program_id: timelock::ID,
                data: event_data(attested.data()),
            });
            TransactionRecord {
                signature: format!("bench-{t}"),
                slot: FIRST_SLOT + t as u64,
                block_time: Some(1_800_000_000 + t as i64),
                inner_instructions: inner,
            }
        })
        .collect()
}

/// The recorded transactions as a node would deliver them, 200 (1,000 events) a batch, each batch decoded from
/// the self-CPI data when the ingest loop asks for it, from the checkpoint it is given.
struct Recorded {
    records: Arc<Vec<TransactionRecord>>,
    /// When the loop asked for the first batch.
    first_asked: Arc<std::sync::OnceLock<Instant>>,
}

impl Source for Recorded {
    fn name(&self) -> &str {
        "bench"
    }

    async fn next_batch(&mut self, checkpoint: Option<Checkpoint>) -> Result<Option<Batch>, SourceError> {
        self.first_asked.get_or_init(Instant::now);
        let from = checkpoint.map_or(0, |c| (c.slot + 1 - FIRST_SLOT) as usize);
        let Some(chunk) =
            self.records.get(from..).filter(|rest| !rest.is_empty()).map(|rest| &rest[..rest.len().min(200)])
        else {
            return Ok(None);
        };
        let mut batch = Batch::default();
        for record in chunk {
            batch.events.extend(events_of(record, &timelock::ID));
        }
        batch.checkpoint = chunk.last().map(|r| (r.slot, Some(r.signature.clone())));
        Ok(Some(batch))
    }
}

/// Events decoded and stored per second by the indexer's own ingest loop (which reads a batch while it stores
/// the one before), from the first batch asked for to the last one's checkpoint.
async fn ingest_events_per_s(pool: &PgPool) -> f64 {
    let records = Arc::new(transactions(12_000)); // 60,000 events
    let events: usize = records.iter().map(|r| events_of(r, &timelock::ID).len()).sum();
    let last_slot = records.last().map_or(0, |r| r.slot);
    let first_asked = Arc::new(std::sync::OnceLock::new());
    let source = Recorded { records, first_asked: first_asked.clone() };
    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let indexer = timelock_indexer::start(&config, pool.clone(), Some(source)).await.unwrap();
    let checkpoint = indexer.metrics.gauge("indexer_checkpoint_slot", "", "");
    while checkpoint.load(Ordering::Relaxed) < last_slot {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = first_asked.get().expect("asked for batches").elapsed();
    indexer.stop().await;
    events as f64 / elapsed.as_secs_f64()
}

async fn p99_from_load_process(url: &str, kind: &str) -> f64 {
    let output = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["load", url, kind, &RATE.to_string(), &LOAD_SECS.to_string()])
        .output()
        .await
        .expect("load process");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    let result: serde_json::Value = serde_json::from_str(text.trim()).expect("load result");
    eprintln!("{kind}: {result}");
    result["p99_ms"].as_f64().unwrap()
}

/// The load process: open-loop requests at `rate` per second for `secs`, over a pool of kept-alive connections.
async fn load(url: &str, kind: &str, rate: u64, secs: u64) {
    let addr = url.trim_start_matches("http://").to_string();
    let total = rate * secs;
    let paths: Vec<String> = (0..total)
        .map(|i| {
            let n = (i * 7_919) as i64;
            match kind {
                "point" => format!("/v1/workers/{}", key(n % WORKERS, 2)),
                _ => {
                    let models = ["H100-SXM", "A100-80G", "L40S", "RTX-4090", "H200"];
                    let regions = ["US-EAST", "EU-WEST", "AP-SOUTH"];
                    format!(
                        "/v1/workers?gpu_model={}&region={}&available=true&max_price={}&min_gpus={}&limit=50",
                        models[(i % 5) as usize],
                        regions[(i / 5 % 3) as usize],
                        1_000_000 + (n % 2_000_000),
                        [1, 2, 4][(i % 3) as usize]
                    )
                }
            }
        })
        .collect();
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(paths.iter().map(|p| http_request("GET", &addr, p, "")).collect());
    let (jobs, queue) = async_channel(total as usize);
    let start = Instant::now() + Duration::from_millis(200);
    // Released by a thread of its own: tokio's timer has millisecond ticks, so requests 0.5 ms apart left up to a
    // millisecond late, and that wait counted as the server's latency.
    let scheduler = std::thread::spawn(move || {
        for i in 0..total {
            let at = start + Duration::from_nanos(i * 1_000_000_000 / rate);
            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if jobs.blocking_send((i as usize, at)).is_err() {
                break;
            }
        }
    });
    let workers: Vec<_> = (0..64)
        .map(|_| {
            let (queue, requests, addr) = (queue.clone(), requests.clone(), addr.clone());
            tokio::spawn(async move {
                let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
                stream.set_nodelay(true).unwrap();
                let mut buffer = Vec::new();
                let mut latencies = Vec::new();
                let mut late = Vec::new();
                let mut errors = 0;
                loop {
                    let job = { queue.lock().await.recv().await };
                    let Some((i, scheduled)) = job else { break };
                    late.push(scheduled.elapsed().as_secs_f64() * 1_000.0);
                    stream.write_all(&requests[i]).await.expect("send");
                    if read_response(&mut stream, &mut buffer).await != 200 {
                        errors += 1;
                    }
                    latencies.push(scheduled.elapsed().as_secs_f64() * 1_000.0);
                }
                (latencies, late, errors)
            })
        })
        .collect();
    tokio::task::spawn_blocking(move || scheduler.join()).await.unwrap().unwrap();
    let (mut latencies, mut late) = (Vec::new(), Vec::new());
    let mut errors = 0;
    for worker in workers {
        let (l, s, e) = worker.await.unwrap();
        latencies.extend(l);
        late.extend(s);
        errors += e;
    }
    let p = |values: &mut Vec<f64>, q: f64| {
        values.sort_by(f64::total_cmp);
        values[((values.len() as f64 * q) as usize).min(values.len() - 1)]
    };
    // `sent_late`: how long after its time a request left this process (counted in its latency too).
    println!(
        "{}",
        serde_json::json!({ "requests": latencies.len(), "errors": errors, "p50_ms": p(&mut latencies, 0.5),
                            "p99_ms": p(&mut latencies, 0.99), "sent_late_p99_ms": p(&mut late, 0.99),
                            "rate": rate, "secs": secs })
    );
}

/// This process's resident memory (Linux), for what the API's workers in memory take.
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().strip_suffix("kB"));
    kib.and_then(|v| v.trim().parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

type Jobs = tokio::sync::mpsc::Sender<(usize, Instant)>;
type Queue = Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<(usize, Instant)>>>;

fn async_channel(capacity: usize) -> (Jobs, Queue) {
    let (sender, receiver) = tokio::sync::mpsc::channel(capacity.max(1));
    (sender, Arc::new(tokio::sync::Mutex::new(receiver)))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("load") {
        load(&args[2], &args[3], args[4].parse().unwrap(), args[5].parse().unwrap()).await;
        return Ok(());
    }
    let url = fresh_database(&std::env::var("DATABASE_URL").expect("DATABASE_URL"), "timelock_bench_indexer").await;
    let pool = PgPoolOptions::new().max_connections(16).connect(&url).await.unwrap();
    Store::new(pool.clone()).migrate().await.unwrap();
    let ingest = ingest_events_per_s(&pool).await;
    eprintln!("ingest: {ingest:.0} events/s");
    // `bench-indexer ingest`: that figure alone, without the million-lease seed and the API loads.
    if args.get(1).map(String::as_str) == Some("ingest") {
        return Ok(());
    }
    seed(&pool).await;
    let config = Config { listen: "127.0.0.1:0".into(), ..Config::default() };
    let (rss, started) = (resident_mib(), Instant::now());
    let indexer = timelock_indexer::start::<timelock_indexer::source::RpcSource>(&config, pool, None).await.unwrap();
    eprintln!(
        "the API started in {:.1} s; its workers in memory: {:.0} MiB",
        started.elapsed().as_secs_f64(),
        resident_mib() - rss
    );
    let base = format!("http://{}", indexer.addr);
    let point = p99_from_load_process(&base, "point").await;
    let list = p99_from_load_process(&base, "list").await;
    indexer.stop().await;
    let path = report(
        "indexer",
        &[
            Row { name: "ingest_events_per_s".into(), value: ingest.round(), unit: "events/s" },
            Row { name: "api_point_p99_ms".into(), value: (point * 100.0).round() / 100.0, unit: "ms" },
            Row { name: "api_list_p99_ms".into(), value: (list * 100.0).round() / 100.0, unit: "ms" },
        ],
    )?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
