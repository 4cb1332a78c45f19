//! End-to-end figures on a real local validator: `cluster64_confirm_s` (a renter books 64 single-GPU workers:
//! cluster_create plus cluster_add_workers in as few transactions as fit, sent in parallel, until every one is
//! confirmed) and `heartbeat_to_api_s` (an agent's first heartbeat → judged and attested by two oracles → the
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

    // 64 single-H100 workers of one supplier, each with a device key.
    let (supplier, _) = stack.actor("supplier");
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
    stack.client.send(&[ix::stake_deposit(stake_accounts, 1_000_000 * 1_000_000_000)], &signer).unwrap();
    let devices: Vec<ed25519_dalek::SigningKey> =
        (0..64u8).map(|i| ed25519_dalek::SigningKey::from_bytes(&[i.wrapping_add(1); 32])).collect();
    let registrations: Vec<Vec<_>> = devices
        .iter()
        .enumerate()
        .map(|(i, device)| {
            let spec = WorkerSpec {
                gpu_model: catalog::gpu_model_code("H100-SXM").unwrap(),
                gpu_count: 1,
                vram_gib: 80,
                cpu_cores: 16,
                ram_gib: 128,
                region: catalog::region_code("US-EAST").unwrap(),
                connectivity_tier: 4,
                compliance: 0,
                green_energy: true,
                price_per_gpu_hour: 2_000_000,
                device_key: Pubkey::new_from_array(device.verifying_key().to_bytes()),
                max_lease_hours: 720,
            };
            let worker = pda::worker(&pda::supplier(&supplier.pubkey()).0, i as u32 + 1).0;
            vec![ix::worker_register(supplier.pubkey(), i as u32 + 1, spec, &timelock_tests::gpu_hashes(&worker, 1))]
        })
        .collect();
    let registered = stack.client.send_batches(&registrations, &signer);
    assert!(registered.is_success(), "{:?}", registered.failures);
    let supplier_pda = pda::supplier(&supplier.pubkey()).0;
    let workers: Vec<ix::WorkerRef> =
        (1..=64).map(|i| ix::WorkerRef { worker: pda::worker(&supplier_pda, i).0, supplier: supplier_pda }).collect();
    let listed = timelock::BookingTerms {
        max_price_per_gpu_hour: 2_000_000,
        gpu_model: catalog::gpu_model_code("H100-SXM").unwrap(),
        gpu_count: 1,
        vram_gib: 80,
        region: catalog::region_code("US-EAST").unwrap(),
        compliance: 0,
    };
    let bookings: Vec<ix::Booking> = workers.iter().map(|w| ix::Booking { worker: *w, terms: listed }).collect();

    // The renter books all 64.
    let (renter, _) = stack.actor("renter");
    stack.mint_to(&stack.payment_mint, &renter.pubkey(), 100_000 * 1_000_000);
    let payment = ix::RenterPayment {
        renter: renter.pubkey(),
        cluster_id: 1,
        payment_mint: stack.payment_mint,
        renter_tokens: stack.ata(&renter.pubkey(), &stack.payment_mint),
        token_program: timelock_sdk::TOKEN_PROGRAM_ID,
    };
    let renter_signer: [&(dyn Signer + Sync); 1] = [&renter];
    let started = Instant::now();
    stack.client.send(&[ix::cluster_create(payment, 1, ClusterPurpose::Ray)], &renter_signer).unwrap();
    let booked = stack.client.send_batches(&batch::cluster_add_workers(payment, &bookings), &renter_signer);
    let cluster64 = started.elapsed().as_secs_f64();
    assert!(booked.is_success(), "{:?}", booked.failures);
    eprintln!("64-GPU cluster booked in {} transactions, confirmed in {cluster64:.2} s", booked.signatures.len() + 1);

    // Heartbeat → attestation → indexer API, with two oracles (the threshold) and the indexer.
    let cluster = pda::cluster(&renter.pubkey(), 1).0;
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
    let path = report(
        "localnet",
        &[
            Row { name: "cluster64_confirm_s".into(), value: (cluster64 * 100.0).round() / 100.0, unit: "s" },
            Row { name: "heartbeat_to_api_s".into(), value: (heartbeat_to_api * 100.0).round() / 100.0, unit: "s" },
        ],
    )?;
    eprintln!("wrote {}", path.display());
    drop(stack);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
