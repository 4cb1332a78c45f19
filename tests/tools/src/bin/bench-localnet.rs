//! End-to-end figures on a real local validator: `cluster64_confirm_s` and `cluster1024_confirm_s` (a renter books
//! 64 single-GPU workers, or 128 eight-GPU hosts: cluster_create plus cluster_add_workers in as few transactions as
//! fit, sent in parallel, until every one is confirmed) and `heartbeat_to_api_s` (an agent's first heartbeat → judged and attested by two oracles → the
//! lease's proven time visible in the indexer API). Needs `DATABASE_URL` and the `timelock-localnet` binary
//! (`make bench` provides both).

use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use solana_signer::Signer;
use timelock::state::{ClusterPurpose, WorkerSpec};
use timelock_sdk::{batch, catalog, ix, pda};
use timelock_tests::localnet::{
    demo_params, oracle_config, start_indexer, start_oracle, write_telemetry, SimulatedAgent, Stack, JOB,
};
use timelock_tests::postgres::fresh_database;
use timelock_tools::{report, Row};

fn main() -> std::io::Result<()> {
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let dir = std::env::temp_dir().join(format!("timelock-bench-localnet-{}", std::process::id()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let stack = Stack::start(&dir, port, demo_params);

    // 64 single-H100 workers of one supplier, each with a device key, booked by a renter.
    let (devices, workers, listed) = register_workers(&stack, "supplier", 64, 1);
    let (renter, cluster64) = book(&stack, "renter", &workers, listed);
    // Heartbeat → attestation → indexer API, with two oracles (the threshold) and the indexer.
    let cluster = pda::cluster(&renter, 1).0;
    let lease = pda::lease(&cluster, &workers[0].worker).0;
    let mut story_dir = dir.clone();
    story_dir.push("agent");
    std::fs::create_dir_all(&story_dir)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let backend = std::sync::Arc::new(timelock_sdk::rpc::RpcBackend::new(&stack.validator.rpc_url));
    let (oracles, indexer) = runtime.block_on(async {
        let mut oracles = Vec::new();
        for (i, key) in stack.oracles.iter().take(2).enumerate() {
            let url = fresh_database(&database_url, &format!("timelock_bench_oracle{i}")).await;
            let config = oracle_config(&stack.validator.rpc_url, url, 2);
            oracles.push(start_oracle(config, backend.clone(), key).await);
        }
        let url = fresh_database(&database_url, "timelock_bench_indexer_e2e").await;
        (oracles, start_indexer(&stack.validator.rpc_url, url, Vec::new()).await)
    });
    let telemetry = story_dir.join("gpus.json");
    write_telemetry(&telemetry, &workers[0].worker, 1, &[Some(JOB)]);
    let identity = timelock_agent::Identity { worker: workers[0].worker.to_bytes(), lease: lease.to_bytes() };
    let urls = oracles.iter().map(|o| format!("http://{}", o.addr)).collect();
    let sent = Instant::now();
    let agent = SimulatedAgent::start(identity, devices[0].clone(), telemetry, urls, Duration::from_secs(1));
    let api = format!("http://{}/v1/leases/{lease}", indexer.addr);
    let heartbeat_to_api = loop {
        let row: serde_json::Value = reqwest::blocking::get(&api).and_then(|r| r.json()).unwrap_or_default();
        if row["proven_secs"].as_u64().unwrap_or(0) > 0 {
            break sent.elapsed().as_secs_f64();
        }
        assert!(sent.elapsed() < Duration::from_secs(120), "no attestation reached the API");
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(agent);
    runtime.block_on(async {
        for oracle in oracles {
            oracle.stop().await;
        }
        indexer.stop().await;
    });
    drop(runtime);
    drop(backend);

    // A 1,024-GPU cluster: 128 eight-GPU hosts of another supplier, booked by another renter.
    let (_, big, listed) = register_workers(&stack, "supplier-1024", 128, 8);
    let (_, cluster1024) = book(&stack, "renter-1024", &big, listed);
    let path = report(
        "localnet",
        &[
            Row { name: "cluster64_confirm_s".into(), value: (cluster64 * 100.0).round() / 100.0, unit: "s" },
            Row { name: "heartbeat_to_api_s".into(), value: (heartbeat_to_api * 100.0).round() / 100.0, unit: "s" },
            Row { name: "cluster1024_confirm_s".into(), value: (cluster1024 * 100.0).round() / 100.0, unit: "s" },
        ],
    )?;
    eprintln!("wrote {}", path.display());
    drop(stack);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `count` H100 workers of `gpu_count` GPUs of a new supplier `name`, each with a device key, registered in
/// parallel: their device keys, references and the terms they are listed on.
fn register_workers(
    stack: &Stack,
    name: &str,
    count: u32,
    gpu_count: u16,
) -> (Vec<ed25519_dalek::SigningKey>, Vec<ix::WorkerRef>, timelock::BookingTerms) {
    let (supplier, _) = stack.actor(name);
    stack.mint_to(&stack.stake_mint, &supplier.pubkey(), 10_000_000 * 1_000_000_000);
    stack.ata(&supplier.pubkey(), &stack.payment_mint);
    let signer: [&(dyn Signer + Sync); 1] = [&supplier];
    stack
        .client
        .send(&[ix::supplier_register(supplier.pubkey(), stack.payment_mint, timelock_sdk::TOKEN_PROGRAM_ID)], &signer)
        .unwrap();
    let stake_accounts = ix::StakeAccounts {
        authority: supplier.pubkey(),
        stake_mint: stack.stake_mint,
        supplier_tokens: stack.ata(&supplier.pubkey(), &stack.stake_mint),
        token_program: timelock_sdk::TOKEN_PROGRAM_ID,
    };
    stack.client.send(&[ix::stake_deposit(stake_accounts, 9_000_000 * 1_000_000_000)], &signer).unwrap();
    let listed = timelock::BookingTerms {
        max_price_per_gpu_hour: 2_000_000,
        gpu_model: catalog::gpu_model_code("H100-SXM").unwrap(),
        gpu_count,
        vram_gib: 80,
        region: catalog::region_code("US-EAST").unwrap(),
        compliance: 0,
    };
    let supplier_pda = pda::supplier(&supplier.pubkey()).0;
    let devices: Vec<ed25519_dalek::SigningKey> =
        (0..count).map(|i| ed25519_dalek::SigningKey::from_bytes(&device_seed(name, i))).collect();
    let registrations: Vec<Vec<_>> = devices
        .iter()
        .zip(1..)
        .map(|(device, index)| {
            let spec = WorkerSpec {
                gpu_model: listed.gpu_model,
                gpu_count,
                vram_gib: listed.vram_gib,
                cpu_cores: 16,
                ram_gib: 128,
                region: listed.region,
                connectivity_tier: 4,
                compliance: 0,
                green_energy: true,
                price_per_gpu_hour: listed.max_price_per_gpu_hour,
                device_key: Pubkey::new_from_array(device.verifying_key().to_bytes()),
                max_lease_hours: 720,
            };
            let worker = pda::worker(&supplier_pda, index).0;
            let gpus = timelock_tests::gpu_hashes(&worker, gpu_count);
            // One transaction for up to eight GPUs.
            batch::worker_register(supplier.pubkey(), index, spec, &gpus).concat()
        })
        .collect();
    let registered = stack.client.send_batches(&registrations, &signer);
    assert!(registered.is_success(), "{:?}", registered.failures);
    let workers =
        (1..=count).map(|i| ix::WorkerRef { worker: pda::worker(&supplier_pda, i).0, supplier: supplier_pda });
    (devices, workers.collect(), listed)
}

/// A device key seed of the `index`-th worker of supplier `name`: distinct across suppliers.
fn device_seed(name: &str, index: u32) -> [u8; 32] {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&index.to_le_bytes());
    for (i, byte) in name.bytes().enumerate().take(28) {
        seed[4 + i] = byte;
    }
    seed
}

/// A new renter `name` books `workers` (listed on `terms`) for an hour: cluster_create, then cluster_add_workers
/// in as few transactions as fit, sent in parallel. The renter and the seconds until every one was confirmed.
fn book(stack: &Stack, name: &str, workers: &[ix::WorkerRef], terms: timelock::BookingTerms) -> (Pubkey, f64) {
    let (renter, _) = stack.actor(name);
    stack.mint_to(&stack.payment_mint, &renter.pubkey(), 100_000 * 1_000_000);
    let payment = ix::RenterPayment {
        renter: renter.pubkey(),
        cluster_id: 1,
        payment_mint: stack.payment_mint,
        renter_tokens: stack.ata(&renter.pubkey(), &stack.payment_mint),
        token_program: timelock_sdk::TOKEN_PROGRAM_ID,
    };
    let bookings: Vec<ix::Booking> = workers.iter().map(|w| ix::Booking { worker: *w, terms }).collect();
    let signer: [&(dyn Signer + Sync); 1] = [&renter];
    let started = Instant::now();
    stack.client.send(&[ix::cluster_create(payment, 1, ClusterPurpose::Ray)], &signer).unwrap();
    let booked = stack.client.send_batches(&batch::cluster_add_workers(payment, &bookings), &signer);
    let confirmed = started.elapsed().as_secs_f64();
    assert!(booked.is_success(), "{:?}", booked.failures);
    let gpus = workers.len() * usize::from(terms.gpu_count);
    eprintln!(
        "{gpus}-GPU cluster booked in {} transactions, confirmed in {confirmed:.2} s",
        booked.signatures.len() + 1
    );
    (renter.pubkey(), confirmed)
}
