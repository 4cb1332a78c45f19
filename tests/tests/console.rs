//! The web console (`web/`): its TypeScript client is generated from the checked-in IDL and never drifts from it,
//! and the console works in a real browser against the real local stack.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use timelock::state::{Supplier, Worker};
use timelock_agent::Identity;
use timelock_sdk::rpc::RpcBackend;
use timelock_sdk::{batch, catalog, ix, pda};
use timelock_tests::localnet::{
    demo_params, oracle_config, start_indexer, start_oracle, write_gpus, SimulatedAgent, Stack, GPUS_PER_HOST,
    HEARTBEAT_SECS, JOB, PAYMENT_DECIMALS, PRICE, STAKE_DECIMALS,
};

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web")
}

/// The client under `web/src/client/generated` is what Codama renders from `app-sdk/idl/timelock.json` now: a
/// program change that reaches the IDL (`make idl`) must reach the client too (`make client`).
#[test]
fn generated_typescript_client_matches_the_idl() {
    let web = web_dir();
    assert!(web.join("node_modules/codama").exists(), "run `make test` (it installs web/ with npm ci)");
    let output = Command::new("node")
        .args(["scripts/generate-client.mjs", "--check"])
        .current_dir(&web)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The console's hand-written helpers and its generated builders produce what the Rust SDK does: every PDA,
/// the instructions whose remaining accounts the IDL does not describe (booking triples, a settlement's
/// incentive accounts), and the self-CPI events read back from their instruction data.
#[test]
fn typescript_client_helpers_agree_with_the_rust_sdk() {
    let web = web_dir();
    assert!(web.join("node_modules/vite").exists(), "run `make test` (it installs web/ with npm ci)");
    let (renter, authority, device_key) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
    let (payment_mint, stake_mint, payer) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
    let (cluster_id, worker_index, epoch) = (1_796_125_481_373u64, 7u32, 42u64);
    let supplier = pda::supplier(&authority).0;
    let worker = pda::worker(&supplier, worker_index).0;
    let cluster = pda::cluster(&renter, cluster_id).0;
    let gpu_hash = timelock::state::Gpu::uuid_hash("GPU-console-check-0");
    let payment = ix::RenterPayment {
        renter,
        cluster_id,
        payment_mint,
        renter_tokens: Pubkey::new_unique(),
        token_program: timelock_sdk::TOKEN_PROGRAM_ID,
    };
    let booking = |i: u16| ix::Booking {
        worker: ix::WorkerRef { worker: Pubkey::new_unique(), supplier: Pubkey::new_unique() },
        terms: timelock::BookingTerms {
            max_price_per_gpu_hour: 2_000_000 + u64::from(i),
            gpu_model: catalog::gpu_model_code("H100-SXM").unwrap(),
            gpu_count: 8 - i % 8,
            vram_gib: 80,
            region: catalog::region_code("US-EAST").unwrap(),
            compliance: 5,
        },
    };
    let bookings: Vec<ix::Booking> = (0..2).map(booking).collect();
    // Enough for several transactions: the packet holds a handful of booking triples.
    let many: Vec<ix::Booking> = (0..40).map(booking).collect();
    let booking_json = |b: &ix::Booking| {
        json!({
            "worker": b.worker.worker.to_string(),
            "supplier": b.worker.supplier.to_string(),
            "max_price": b.terms.max_price_per_gpu_hour.to_string(),
            "gpu_model": b.terms.gpu_model,
            "gpu_count": b.terms.gpu_count,
            "vram_gib": b.terms.vram_gib,
            "region": hex(&b.terms.region),
            "compliance": b.terms.compliance,
        })
    };
    let settle = ix::SettleAccounts {
        renter,
        cluster_id,
        worker,
        supplier,
        treasury_payment_tokens: Pubkey::new_unique(),
        renter_payment_tokens: Pubkey::new_unique(),
        renter_stake_tokens: Pubkey::new_unique(),
        treasury_stake_tokens: Pubkey::new_unique(),
        payment_mint,
        stake_mint,
        payment_token_program: timelock_sdk::TOKEN_PROGRAM_ID,
        stake_token_program: timelock_sdk::TOKEN_PROGRAM_ID,
        incentives: Some(ix::IncentiveCredit { epoch, payer }),
    };
    let created = timelock::events::ClusterCreated {
        cluster,
        renter,
        cluster_id,
        purpose: timelock::state::ClusterPurpose::Containers,
        start_ts: 1_700_000_000,
        end_ts: 1_700_003_600,
        hours: 1,
        timestamp: 1_700_000_000,
    };
    let booked = timelock::events::LeasesBooked {
        cluster,
        start_ts: 1_700_000_000,
        end_ts: 1_700_003_600,
        deposit: 32_000_000,
        hourly_rate_total: 32_000_000,
        leases: vec![timelock::events::LeaseBooked {
            lease: pda::lease(&cluster, &worker).0,
            worker,
            supplier,
            price_per_gpu_hour: 2_000_000,
            gpu_count: 8,
            collateral: u64::MAX,
            supplier_locked: 123,
        }],
        timestamp: 1_700_000_001,
    };
    let event_ix = |data: Vec<u8>| hex(&[anchor_lang::event::EVENT_IX_TAG_LE, &data].concat());
    let s = |k: &Pubkey| k.to_string();
    let fixture = json!({
        "renter": s(&renter),
        "authority": s(&authority),
        "cluster_id": cluster_id.to_string(),
        "worker_index": worker_index,
        "device_key": s(&device_key),
        "gpu_hash": hex(&gpu_hash),
        "epoch": epoch.to_string(),
        "payment_mint": s(&payment_mint),
        "renter_tokens": s(&payment.renter_tokens),
        "token_program": s(&payment.token_program),
        "bookings": bookings.iter().map(booking_json).collect::<Vec<_>>(),
        "many_bookings": many.iter().map(booking_json).collect::<Vec<_>>(),
        "settle": {
            "renter": s(&renter), "worker": s(&worker), "supplier": s(&supplier), "payer": s(&payer),
            "treasury_payment_tokens": s(&settle.treasury_payment_tokens),
            "renter_payment_tokens": s(&settle.renter_payment_tokens),
            "renter_stake_tokens": s(&settle.renter_stake_tokens),
            "treasury_stake_tokens": s(&settle.treasury_stake_tokens),
            "payment_mint": s(&payment_mint), "stake_mint": s(&stake_mint),
            "payment_token_program": s(&settle.payment_token_program),
            "stake_token_program": s(&settle.stake_token_program),
        },
        "events": [
            event_ix(anchor_lang::Event::data(&created)),
            event_ix(anchor_lang::Event::data(&booked)),
        ],
    });
    let dir = tempfile::tempdir().unwrap();
    let fixture_path = dir.path().join("fixture.json");
    std::fs::write(&fixture_path, fixture.to_string()).unwrap();
    let output = Command::new("node")
        .args(["test/run-ts.mjs", "test/client-check.ts"])
        .arg(&fixture_path)
        .current_dir(&web)
        .output()
        .expect("node runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let ts: Value = serde_json::from_slice(&output.stdout).expect("the TypeScript client's answer");

    let expected_pdas = json!({
        "config": s(&pda::config().0),
        "stake_vault": s(&pda::stake_vault().0),
        "event_authority": s(&pda::event_authority().0),
        "supplier": s(&supplier),
        "worker": s(&worker),
        "earnings_vault": s(&pda::earnings_vault(&supplier).0),
        "cluster": s(&cluster),
        "escrow": s(&pda::escrow(&cluster).0),
        "lease": s(&pda::lease(&cluster, &worker).0),
        "device": s(&pda::device(&device_key).0),
        "gpu": s(&pda::gpu(&gpu_hash).0),
        "workload": s(&pda::workload(&cluster).0),
        "incentive_pool": s(&pda::incentive_pool().0),
        "incentive_vault": s(&pda::incentive_vault().0),
        "incentive_epoch": s(&pda::incentive_epoch(epoch).0),
        "supplier_incentive": s(&pda::supplier_incentive(&supplier, epoch).0),
    });
    assert_eq!(ts["pdas"], expected_pdas);
    let instruction = |ix: &Instruction| {
        let keys: Vec<Value> = ix
            .accounts
            .iter()
            .map(|m| json!({ "pubkey": s(&m.pubkey), "is_signer": m.is_signer, "is_writable": m.is_writable }))
            .collect();
        json!({ "keys": keys, "data": hex(&ix.data) })
    };
    assert_eq!(ts["cluster_add_workers"], instruction(&ix::cluster_add_workers(payment, &bookings)));
    assert_eq!(ts["lease_settle"], instruction(&ix::lease_settle(settle)));

    // A booking of 40 workers: cluster_create in the first transaction, then as many workers per transaction as
    // fit the packet (one more would not), each transaction with the compute-unit limit of the SDK's batches.
    let unhex = |v: &Value| -> Vec<u8> {
        let text = v.as_str().unwrap();
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    };
    let key = |v: &Value| v.as_str().unwrap().parse::<Pubkey>().unwrap();
    let transactions: Vec<Vec<Instruction>> = ts["booking_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tx| {
            let ixs = tx.as_array().unwrap().iter().map(|ix| Instruction {
                program_id: key(&ix["program"]),
                accounts: ix["keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| AccountMeta {
                        pubkey: key(&k["pubkey"]),
                        is_signer: k["is_signer"].as_bool().unwrap(),
                        is_writable: k["is_writable"].as_bool().unwrap(),
                    })
                    .collect(),
                data: unhex(&ix["data"]),
            });
            ixs.collect()
        })
        .collect();
    let size = |ixs: &[Instruction]| 1 + 64 + solana_message::Message::new(ixs, Some(&renter)).serialize().len();
    let declared = ix::cluster_add_workers(payment, &[]).accounts.len();
    let mut offset = 0;
    for (i, tx) in transactions.iter().enumerate() {
        assert!(size(tx) <= batch::PACKET_DATA_SIZE, "transaction {i} fits");
        let add = tx.last().unwrap();
        let count = (add.accounts.len() - declared) / 3;
        assert_eq!(*add, ix::cluster_add_workers(payment, &many[offset..offset + count]), "transaction {i}");
        let items = count as u32 + u32::from(i == 0);
        assert_eq!(tx[0], ix::compute_unit_limit(40_000 + batch::BOOKING_CU_PER_WORKER * items));
        if i == 0 {
            assert_eq!(tx[1], ix::cluster_create(payment, 3, timelock::state::ClusterPurpose::Containers));
        }
        if offset + count < many.len() {
            let mut more = tx.clone();
            *more.last_mut().unwrap() = ix::cluster_add_workers(payment, &many[offset..offset + count + 1]);
            assert!(size(&more) > batch::PACKET_DATA_SIZE, "transaction {i} could hold one more booking");
        }
        offset += count;
    }
    assert_eq!(offset, many.len());
    assert!(transactions.len() > 2);

    let (created_ts, booked_ts) = (&ts["events"][0], &ts["events"][1]);
    assert_eq!(created_ts["name"], "clusterCreated");
    assert_eq!(created_ts["data"]["cluster"], json!(s(&cluster)));
    assert_eq!(created_ts["data"]["clusterId"], json!(cluster_id.to_string()));
    assert_eq!(created_ts["data"]["purpose"], json!(timelock::state::ClusterPurpose::Containers as u8));
    assert_eq!(created_ts["data"]["endTs"], json!("1700003600"));
    assert_eq!(booked_ts["name"], "leasesBooked");
    assert_eq!(booked_ts["data"]["deposit"], json!("32000000"));
    assert_eq!(booked_ts["data"]["leases"][0]["worker"], json!(s(&worker)));
    assert_eq!(booked_ts["data"]["leases"][0]["collateral"], json!(u64::MAX.to_string()));
    assert_eq!(booked_ts["data"]["leases"][0]["supplierLocked"], json!("123"));
    assert_eq!(booked_ts["data"]["timestamp"], json!("1700000001"));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The console in Debian's Chromium against the whole local stack (validator, Postgres, three oracles, the
/// indexer serving the console, agents): `web/test/browser.mjs` checks the explorer against `/v1/stats`, books
/// GPUs from the marketplace with a Wallet Standard wallet backed by the renter's keypair, watches proven
/// seconds rise under My clusters, extends the cluster and settles; on the supplier's page claims the earnings,
/// takes the idle worker off the market, stakes and unbonds; then disputes a lease until the oracles decide,
/// removes a worker, ends the cluster early, settles its leases until they close and closes it. The chain, the API and the balances are checked here. Screenshots of every page at 1280 and 390 px go to `target/console/`.
#[test]
fn the_console_books_settles_and_claims_in_a_real_browser() {
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL (make test provides one)");
    let web = web_dir();
    assert!(web.join("dist/index.html").exists(), "the console is not built: run `make console` (make test does)");
    assert!(web.join("node_modules/playwright-core").exists(), "run `make test` (it installs web/ with npm ci)");
    assert!(std::path::Path::new(CHROMIUM).exists(), "{CHROMIUM} is missing: run `make chromium` (make test does)");
    let dir = tempfile::tempdir().unwrap();
    let stack = Stack::start(dir.path(), timelock_tests::free_port(), demo_params);
    let (supplier, _) = stack.actor("supplier");
    let (renter, _) = stack.actor("renter");
    stack.mint_to(&stack.stake_mint, &supplier.pubkey(), 1_000_000 * 10u64.pow(u32::from(STAKE_DECIMALS)));
    stack.mint_to(&stack.payment_mint, &renter.pubkey(), RENTER_FUNDS);
    stack.cli(&supplier, &["supplier", "register"]).expect("supplier register");
    let stake = (100_000 * 10u64.pow(u32::from(STAKE_DECIMALS))).to_string();
    stack.cli(&supplier, &["supplier", "stake", &stake]).expect("supplier stake");
    // Three hosts; the dearest is left out when the renter picks the cheapest 16 GPUs.
    let supplier_account = pda::supplier(&supplier.pubkey()).0;
    let hosts: Vec<(Pubkey, ed25519_dalek::SigningKey, u64)> = [PRICE, PRICE, PRICE * 2]
        .into_iter()
        .enumerate()
        .map(|(i, price)| {
            let index = (i + 1) as u32;
            let device = ed25519_dalek::SigningKey::from_bytes(&rand::random());
            let worker = pda::worker(&supplier_account, index).0;
            let device_key = Pubkey::new_from_array(device.verifying_key().to_bytes()).to_string();
            let (index_text, gpus, price_text) = (index.to_string(), GPUS_PER_HOST.to_string(), price.to_string());
            let uuids = timelock_tests::gpu_uuids(&worker, GPUS_PER_HOST);
            let fixed = "--gpu-model H100-SXM --vram-gib 80 --cpu-cores 96 --ram-gib 1024 --region US-EAST --tier 4";
            let mut args = vec!["worker", "register", "--index", &index_text, "--gpu-count", &gpus, "--green"];
            args.extend(["--price", &price_text, "--device-key", &device_key]);
            args.extend(fixed.split(' '));
            args.extend(uuids.iter().flat_map(|uuid| ["--gpu", uuid.as_str()]));
            stack.cli(&supplier, &args).expect("worker register");
            (worker, device, price)
        })
        .collect();

    // Three oracles and the indexer, which serves the console (its default console_dir is web/dist).
    let backend = Arc::new(RpcBackend::new(&stack.validator.rpc_url));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (oracles, indexer) = runtime.block_on(async {
        let mut oracles = Vec::new();
        for (i, key) in stack.oracles.iter().enumerate() {
            let db =
                timelock_tests::postgres::fresh_database(&database_url, &format!("timelock_console_oracle{i}")).await;
            let config = oracle_config(&stack.validator.rpc_url, db, HEARTBEAT_SECS as i64);
            oracles.push(start_oracle(config, backend.clone(), key).await);
        }
        let urls = oracles.iter().map(|o| format!("http://{}", o.addr)).collect();
        let db = timelock_tests::postgres::fresh_database(&database_url, "timelock_console_indexer").await;
        (oracles, start_indexer(&stack.validator.rpc_url, db, urls).await)
    });
    let oracle_urls: Vec<String> = oracles.iter().map(|o| format!("http://{}", o.addr)).collect();
    let url = format!("http://{}", indexer.addr);

    let screenshots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/console");
    let keypair = |k: &Keypair| json!({ "address": k.pubkey().to_string(), "secret": k.to_bytes().to_vec() });
    let plan = json!({
        "url": url,
        "chromium": CHROMIUM,
        "renter": keypair(&renter),
        "supplier": keypair(&supplier),
        "gpus": 2 * GPUS_PER_HOST,
        "workers": 2,
        "hours": 1,
        "expected_escrow": "32.00",
        "screenshots": screenshots,
    });
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let mut browser = Command::new("node")
        .arg("test/browser.mjs")
        .arg(&plan_path)
        .current_dir(&web)
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");

    // The hosts' agents start reporting once the browser's booking holds their workers.
    let mut agents = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(480);
    let status = loop {
        if let Some(status) = browser.try_wait().expect("browser test") {
            break status;
        }
        assert!(Instant::now() < deadline, "the browser test ran past 8 minutes");
        for (worker, device, _) in &hosts {
            let leased = stack.client.account::<Worker>(worker).ok().map(|w| w.active_lease);
            match leased {
                Some(lease) if lease != Pubkey::default() && !agents.iter().any(|(w, _)| w == worker) => {
                    let telemetry = dir.path().join(format!("{worker}-gpus.json"));
                    write_gpus(&telemetry, &timelock_tests::simulated_gpus(worker, GPUS_PER_HOST, &[Some(JOB)]));
                    let identity = Identity { worker: worker.to_bytes(), lease: lease.to_bytes() };
                    let interval = Duration::from_secs(HEARTBEAT_SECS);
                    let agent =
                        SimulatedAgent::start(identity, device.clone(), telemetry, oracle_urls.clone(), interval);
                    agents.push((*worker, agent));
                }
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(browser.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    assert!(status.success(), "the browser test failed (its log is above)");
    let results: Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or("")).expect("results JSON");
    println!("browser: {results}");

    // The booking signed in the browser landed and ran its whole life from the page: booked for an hour and
    // extended by one, the two cheapest workers leased and their proven time paid, then ended early, every lease
    // settled and closed, and the cluster closed. The events (payouts) say what moved; the balances agree to the
    // unit: the renter paid exactly what was settled to the supplier and the treasury, and the rest came back.
    let cluster_id: u64 = results["cluster_id"].as_str().unwrap().parse().unwrap();
    let cluster_address = pda::cluster(&renter.pubkey(), cluster_id).0;
    let api = |path: &str| -> Value { reqwest::blocking::get(format!("{url}{path}")).unwrap().json().unwrap() };
    let gone = |address: &Pubkey| stack.client.account_raw(address).is_err();
    assert!(gone(&cluster_address) && gone(&pda::escrow(&cluster_address).0), "the cluster was closed in the page");
    for (worker, _, price) in &hosts {
        assert!(gone(&pda::lease(&cluster_address, worker).0), "every lease settled and closed");
        if *price != PRICE {
            assert!(!stack.client.account::<Worker>(worker).unwrap().available, "taken off the market in the page");
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let (clusters, leases, settlements) = loop {
        let clusters = api(&format!("/v1/clusters?renter={}", renter.pubkey()));
        let leases = api(&format!("/v1/leases?cluster={cluster_address}"));
        let payouts = api(&format!("/v1/payouts?supplier={supplier_account}&limit=500"));
        let settlements: Vec<Value> = payouts["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["kind"] == "settlement" && p["cluster"] == json!(cluster_address.to_string()))
            .cloned()
            .collect();
        let closing =
            |l: &Value| settlements.iter().any(|p| p["lease"] == l["address"] && p["refund"].as_u64() > Some(0));
        if leases["items"].as_array().is_some_and(|ls| ls.len() == 2 && ls.iter().all(closing)) {
            break (clusters, leases, settlements);
        }
        assert!(Instant::now() < deadline, "the API does not have the browser's cluster: {leases} {payouts}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(clusters["items"].as_array().unwrap().len(), 1, "{clusters}");
    assert_eq!(clusters["items"][0]["cluster_id"], json!(cluster_id));
    assert_eq!(clusters["items"][0]["hours"], json!(2), "booked for an hour, extended by one");
    assert_eq!(clusters["items"][0]["deposited"], json!(PRICE * u64::from(2 * GPUS_PER_HOST) * 2));
    let cheapest: Vec<String> = hosts.iter().filter(|h| h.2 == PRICE).map(|h| h.0.to_string()).collect();
    for lease in leases["items"].as_array().unwrap() {
        assert!(cheapest.contains(&lease["worker"].as_str().unwrap().to_string()), "{lease}");
        assert!(lease["proven_secs"].as_u64() > Some(0), "{lease}");
    }
    let removed = leases["items"].as_array().unwrap().iter().filter(|l| l["removed_at"].as_i64() > Some(0)).count();
    assert_eq!(removed, 1, "one worker removed in the page: {leases}");
    let sum = |field: &str| settlements.iter().map(|p| p[field].as_u64().unwrap()).sum::<u64>();
    let (to_supplier, fees) = (sum("amount"), sum("fee"));
    assert!(to_supplier > 0);
    // The dispute's bond went back to the renter or to the treasury, as the oracles' decision said.
    let bond = stack.client.account::<timelock::state::Config>(&pda::config().0).unwrap().params.dispute_bond;
    let renter_balance = stack.balance(&renter.pubkey(), &stack.payment_mint);
    let treasury_balance = stack.balance(&stack.treasury.pubkey(), &stack.payment_mint);
    assert_eq!(renter_balance + treasury_balance, RENTER_FUNDS - to_supplier, "nothing lost, nothing made up");
    assert!([fees, fees + bond].contains(&treasury_balance), "the treasury has the fees and maybe the bond");
    assert_eq!(results["disputed"], json!(true));
    let supplier_state: Supplier = stack.client.account(&supplier_account).unwrap();
    assert!(supplier_state.earnings_claimed > 0, "claimed in the page");
    assert_eq!(supplier_state.earnings_claimed + supplier_state.earnings_unclaimed, to_supplier);
    assert_eq!(stack.balance(&supplier.pubkey(), &stack.payment_mint), supplier_state.earnings_claimed);
    // The explorer's day-by-day figures: the settlements' volume, and the price the two leases were booked at.
    let daily = api("/v1/stats/daily?days=2");
    let days = daily["days"].as_array().unwrap();
    let volume: u64 = days.iter().map(|d| d["volume_paid"].as_u64().unwrap()).sum();
    assert_eq!(volume, to_supplier + fees, "{daily}");
    let booked: Vec<&Value> = days.iter().flat_map(|d| d["prices"].as_array().unwrap()).collect();
    assert_eq!(booked.iter().map(|p| p["leases"].as_u64().unwrap()).sum::<u64>(), 2, "{daily}");
    assert!(booked
        .iter()
        .all(|p| p["gpu_model"] == "H100-SXM" && p["median_price_per_gpu_hour"] == json!(PRICE as f64)));
    let token = 10u64.pow(u32::from(STAKE_DECIMALS));
    assert_eq!(supplier_state.staked, 100_001 * token, "one more token staked in the page");
    assert_eq!(supplier_state.unbonding, token, "and one unbonding");
    for page in ["explorer", "marketplace", "clusters", "supplier"] {
        for width in [1280, 390] {
            assert!(screenshots.join(format!("{page}-{width}.png")).exists(), "{page} at {width} px");
        }
    }

    for (_, agent) in &mut agents {
        agent.stop();
    }
    runtime.block_on(async {
        for oracle in oracles {
            oracle.stop().await;
        }
        indexer.stop().await;
    });
    drop(runtime);
    drop(backend);
}

const CHROMIUM: &str = "/usr/bin/chromium";
const RENTER_FUNDS: u64 = 10_000 * 10u64.pow(PAYMENT_DECIMALS as u32);
