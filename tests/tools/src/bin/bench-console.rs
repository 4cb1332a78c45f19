//! The web console's basics: `bundle_kib` (the whole built console, `web/dist` uncompressed: every page's
//! chunks, of which the explorer loads about two thirds) and
//! `explorer_first_render_ms` (navigation to the explorer's totals on screen in headless Chromium, the median of
//! five loads with a warm HTTP cache, against the indexer on a local validator with a few workers listed).
//! Needs `DATABASE_URL`, the built console (`make console`) and Chromium (`make chromium`); `make bench`
//! provides them.

use std::path::{Path, PathBuf};
use std::process::Command;

use solana_signer::Signer;
use timelock_tests::localnet::{demo_params, start_indexer, Stack, GPUS_PER_HOST, PRICE, STAKE_DECIMALS};
use timelock_tests::postgres::fresh_database;
use timelock_tools::{report, Row};

fn size(path: &Path) -> u64 {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path).unwrap().map(|e| size(&e.unwrap().path())).sum(),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

fn main() -> std::io::Result<()> {
    let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web");
    let dist = web.join("dist");
    assert!(dist.join("index.html").exists(), "the console is not built: run `make console`");
    let bundle_kib = size(&dist) as f64 / 1024.0;

    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let dir = std::env::temp_dir().join(format!("timelock-bench-console-{}", std::process::id()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let stack = Stack::start(&dir, port, demo_params);
    let (supplier, _) = stack.actor("supplier");
    stack.mint_to(&stack.stake_mint, &supplier.pubkey(), 1_000_000 * 10u64.pow(u32::from(STAKE_DECIMALS)));
    stack.cli(&supplier, &["supplier", "register"]).expect("supplier register");
    let stake = (100_000 * 10u64.pow(u32::from(STAKE_DECIMALS))).to_string();
    stack.cli(&supplier, &["supplier", "stake", &stake]).expect("supplier stake");
    let supplier_account = timelock_sdk::pda::supplier(&supplier.pubkey()).0;
    for index in 1..=4u32 {
        let worker = timelock_sdk::pda::worker(&supplier_account, index).0;
        let device = ed25519_dalek::SigningKey::from_bytes(&[index as u8; 32]);
        let device_key = anchor_lang::prelude::Pubkey::new_from_array(device.verifying_key().to_bytes()).to_string();
        let (index, gpus, price) = (index.to_string(), GPUS_PER_HOST.to_string(), PRICE.to_string());
        let uuids = timelock_tests::gpu_uuids(&worker, GPUS_PER_HOST);
        let fixed = "--gpu-model H100-SXM --vram-gib 80 --cpu-cores 96 --ram-gib 1024 --region US-EAST --tier 4";
        let mut args = vec!["worker", "register", "--index", &index, "--gpu-count", &gpus, "--price", &price];
        args.extend(["--device-key", &device_key]);
        args.extend(fixed.split(' '));
        args.extend(uuids.iter().flat_map(|uuid| ["--gpu", uuid.as_str()]));
        stack.cli(&supplier, &args).expect("worker register");
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let indexer = runtime.block_on(async {
        let db = fresh_database(&database_url, "timelock_bench_console").await;
        start_indexer(&stack.validator.rpc_url, db, Vec::new()).await
    });
    let url = format!("http://{}", indexer.addr);
    // The workers are mirrored before the page is timed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while reqwest::blocking::get(format!("{url}/v1/stats"))
        .and_then(|r| r.json::<serde_json::Value>())
        .map_or(true, |s| s["gpus_total"].as_u64() != Some(4 * u64::from(GPUS_PER_HOST)))
    {
        assert!(std::time::Instant::now() < deadline, "the indexer did not mirror the workers");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let plan = dir.join("plan.json");
    std::fs::write(&plan, serde_json::json!({ "url": url, "screenshots": dir.join("shots") }).to_string())?;
    let output = Command::new("node").args(["test/browser.mjs", "--bench"]).arg(&plan).current_dir(&web).output()?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let measured: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the browser's figures");
    let first_render = measured["explorer_first_render_ms"].as_f64().expect("explorer_first_render_ms");

    runtime.block_on(indexer.stop());
    drop(runtime);
    let path = report(
        "console",
        &[
            Row { name: "bundle_kib".into(), value: bundle_kib.round(), unit: "KiB" },
            Row { name: "explorer_first_render_ms".into(), value: first_render.round(), unit: "ms" },
        ],
    )?;
    println!("wrote {}", path.display());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
