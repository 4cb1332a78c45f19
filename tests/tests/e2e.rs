//! End to end on a real validator (`timelock-localnet`), real Postgres, three oracle services, the indexer and
//! simulated agents: the indexer API equals the chain account for account, tokens are conserved, every cheater
//! (a miner, a swapped GPU, a missing GPU, a host too slow for its challenges, one gone offline) is slashed and
//! jailed with its reason told by the oracles through the CLI and the indexer, honest suppliers are paid to the
//! unit, the indexer catches up after a restart mid-run, and attestation goes on while one oracle is down and the
//! quorum holds.

use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use solana_signer::Signer;
use timelock::state::{Cluster, Lease, Supplier, Worker};
use timelock_tests::localnet::{Role, Story, DEMO_DISPUTE_WINDOW_SECS, GPUS_PER_HOST, PRICE};

fn api(story: &Story, path: &str) -> Value {
    let base = format!("http://{}", story.indexer.as_ref().expect("indexer running").addr);
    reqwest::blocking::get(format!("{base}{path}")).expect("indexer API").json().expect("JSON")
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Where the indexer's leases differ from the chain's, field by field.
fn lease_differences(story: &Story) -> Vec<String> {
    let mut differences = Vec::new();
    for (address, lease) in story.stack.client.search::<Lease>(&[]).unwrap() {
        let row = api(story, &format!("/v1/leases/{address}"));
        for (field, value) in [
            ("proven_secs", lease.proven_secs),
            ("final_secs", lease.final_secs),
            ("faults", lease.faults),
            ("gross_paid", lease.gross_paid),
            ("fees_paid", lease.fees_paid),
            ("slashed", lease.slashed),
        ] {
            if row[field].as_u64() != Some(value) {
                differences.push(format!("{address} {field}: chain {value}, API {}", row[field]));
            }
        }
    }
    differences
}

#[test]
fn the_whole_system_on_a_local_validator() {
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL (make test provides one)");
    let dir = tempfile::tempdir().unwrap();
    let mut story = Story::booked(dir.path(), timelock_tests::free_port(), "timelock_e2e");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(story.start_services(&database_url));
    story.start_agents();

    // Attestations flow with all three oracles (the slow prover fails its first challenge: it proves nothing).
    wait_until("first attestations", Duration::from_secs(90), || {
        story.hosts.iter().filter(|h| h.role.proves_time()).all(|h| story.lease(h).proven_secs > 0)
    });

    // One oracle crashes and the indexer is stopped: the remaining two still form the quorum.
    runtime.block_on(async {
        story.oracles[2].take().unwrap().stop().await;
        story.indexer.take().unwrap().stop().await;
    });
    let honest = story.lease(&story.hosts[0]).proven_secs;
    story.cheat();
    std::thread::sleep(Duration::from_secs(3));
    story.go_offline();
    wait_until("attestation without the third oracle", Duration::from_secs(90), || {
        story.lease(&story.hosts[0]).proven_secs > honest + 10 && story.every_cheater_faulted()
    });

    // Why each cheater went unpaid, as an oracle tells it through the CLI.
    let oracle = story.oracle_urls[0].clone();
    let renter = story.renter.pubkey().to_string();
    for host in story.hosts.iter().filter(|h| h.role != Role::Honest) {
        let reason = host.role.reason().unwrap();
        let worker = host.worker.to_string();
        let shown = story
            .stack
            .cli(
                &story.supplier,
                &["lease", "show", "--id", "1", "--worker", &worker, "--renter", &renter, "--oracle", &oracle],
            )
            .expect("lease show --oracle");
        let unpaid = shown["unpaid_intervals"].as_array().expect("unpaid intervals");
        let told = unpaid.iter().find(|i| i["reason"] == reason).unwrap_or_else(|| panic!("{}: {shown}", host.name));
        assert_reason_detail(host.role, told);
    }

    // The indexer comes back and catches up from its checkpoint.
    runtime.block_on(async {
        story.start_oracle(2, false).await;
        story.start_indexer(false).await;
    });

    // The indexer asks every oracle why each cheater went unpaid: all three answer, and oracle 0 (up all along)
    // gives each cheater's reason, as through the CLI.
    for host in story.hosts.iter().filter(|h| h.role != Role::Honest) {
        let body = api(&story, &format!("/v1/leases/{}/intervals?limit=500", host.lease));
        let oracles = body["oracles"].as_array().unwrap_or_else(|| panic!("{}: {body}", host.name));
        let urls: Vec<&str> = oracles.iter().map(|o| o["url"].as_str().unwrap()).collect();
        assert_eq!(urls, story.oracle_urls, "{}: every oracle, in order", host.name);
        assert!(oracles.iter().all(|o| o.get("error").is_none()), "{}: {body}", host.name);
        let reason = host.role.reason().unwrap();
        let intervals = oracles[0]["intervals"].as_array().unwrap();
        let told = intervals.iter().find(|i| i["reason"] == reason).unwrap_or_else(|| panic!("{}: {body}", host.name));
        assert_reason_detail(host.role, told);
    }
    let honest_host = &story.hosts[0];
    let body = api(&story, &format!("/v1/leases/{}/intervals?limit=500", honest_host.lease));
    let judged = body["oracles"][0]["intervals"].as_array().unwrap();
    assert!(judged.iter().any(|i| i["reason"] == "proven"), "{body}");
    assert!(judged.iter().all(|i| ["proven", "missed", "excused"].contains(&i["reason"].as_str().unwrap())), "{body}");

    wait_until("final seconds", Duration::from_secs(60), || {
        story.hosts.iter().filter(|h| h.role.proves_time()).all(|h| story.lease(h).final_secs > 0)
    });
    // Faults wait out the dispute window like seconds do (the settlement below matures them).
    let rpc = &story.stack.client.backend.rpc;
    let faults_due = story.hosts.iter().map(|h| story.lease(h).faults_at).max().unwrap() + DEMO_DISPUTE_WINDOW_SECS;
    wait_until("faults past the dispute window", Duration::from_secs(30), || {
        rpc.get_block_time(rpc.get_slot().unwrap()).unwrap() > faults_due
    });
    story.settle_all();
    let now =
        story.stack.client.backend.rpc.get_block_time(story.stack.client.backend.rpc.get_slot().unwrap()).unwrap();

    // The cheater and the flaky host are slashed and jailed; the honest ones are paid to the unit.
    for host in &story.hosts {
        let lease = story.lease(host);
        let worker = story.worker(host);
        let rate = PRICE * u64::from(GPUS_PER_HOST);
        assert_eq!(lease.hourly_rate, rate);
        assert_eq!(lease.gross_paid, (u128::from(lease.final_secs) * u128::from(rate) / 3_600) as u64, "{}", host.name);
        assert_eq!(lease.fees_paid, lease.gross_paid * 500 / 10_000, "{}", host.name);
        match host.role {
            Role::Honest => assert_eq!((lease.faults, lease.slashed, worker.jailed_until), (0, 0, 0), "{}", host.name),
            _ => {
                assert!(lease.faults >= 1 && lease.slashed > 0, "{}: {lease:?}", host.name);
                assert!(worker.jailed_until > now, "{} is jailed", host.name);
            }
        }
    }

    // Token conservation: the escrow holds exactly what was deposited less what it paid out.
    let cluster_address = timelock_sdk::pda::cluster(&story.renter.pubkey(), 1).0;
    let cluster: Cluster = story.stack.client.account(&cluster_address).unwrap();
    let escrow = story.stack.client.account_raw(&cluster.escrow).unwrap();
    let escrow_balance = timelock_sdk::tokens::balance(&escrow.data).unwrap();
    assert_eq!(cluster.deposited, escrow_balance + cluster.paid_to_suppliers + cluster.fees + cluster.refunded);
    let leases: Vec<Lease> = story.hosts.iter().map(|h| story.lease(h)).collect();
    // The leases are still open: their fees wait in escrow for their close.
    assert_eq!(cluster.paid_to_suppliers, leases.iter().map(|l| l.gross_paid - l.fees_paid).sum::<u64>());
    let treasury = story.stack.treasury.pubkey();
    assert_eq!(story.stack.balance(&treasury, &story.stack.payment_mint), cluster.fees);
    let supplier: Supplier =
        story.stack.client.account(&timelock_sdk::pda::supplier(&story.supplier.pubkey()).0).unwrap();
    let slashed: u64 = leases.iter().map(|l| l.slashed).sum();
    assert_eq!(supplier.slashed_total, slashed);
    let renter_stake = story.stack.balance(&story.renter.pubkey(), &story.stack.stake_mint);
    let treasury_stake = story.stack.balance(&treasury, &story.stack.stake_mint);
    assert_eq!(renter_stake + treasury_stake, slashed, "every slashed unit went to the renter or the treasury");

    // The indexer API equals the chain, account for account.
    wait_until("the indexer to catch up", Duration::from_secs(60), || {
        story.hosts.iter().all(|h| {
            let lease = api(&story, &format!("/v1/leases/{}", h.lease));
            lease["gross_paid"].as_u64() == Some(story.lease(h).gross_paid)
        })
    });
    for (address, account) in story.stack.client.search::<Worker>(&[]).unwrap() {
        let row = api(&story, &format!("/v1/workers/{address}"));
        assert_eq!(row["jailed_until"].as_i64(), Some(account.jailed_until));
        assert_eq!(row["available"].as_bool(), Some(account.available));
        assert_eq!(row["fault_count"].as_u64(), Some(account.fault_count));
        let active = (account.active_lease != Pubkey::default()).then(|| account.active_lease.to_string());
        assert_eq!(row["active_lease"].as_str().map(str::to_string), active);
    }
    // The oracles still attest while this compares, so a lease read from the chain may be a round ahead of the
    // mirror: wait for a moment when the mirror agrees on every lease (a mirror that never catches up fails).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let differences = lease_differences(&story);
        if differences.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the indexer never mirrored the leases: {differences:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    for (address, s) in story.stack.client.search::<Supplier>(&[]).unwrap() {
        let row = api(&story, &format!("/v1/suppliers/{address}"));
        assert_eq!(row["staked"].as_u64(), Some(s.staked));
        assert_eq!(row["slashed_total"].as_u64(), Some(s.slashed_total));
        assert_eq!(row["earnings_unclaimed"].as_u64(), Some(s.earnings_unclaimed));
        let totals = api(&story, &format!("/v1/suppliers/{address}/totals"));
        assert_eq!(totals["slashes_total"].as_u64(), Some(s.slashed_total), "slash events sum to the account's total");
    }
    let row = api(&story, &format!("/v1/clusters/{cluster_address}"));
    assert_eq!(row["paid_to_suppliers"].as_u64(), Some(cluster.paid_to_suppliers));
    assert_eq!(row["deposited"].as_u64(), Some(cluster.deposited));
    let payouts = api(&story, &format!("/v1/payouts?supplier={}", supplier_address(&story)));
    let paid: u64 = payouts["items"].as_array().unwrap().iter().map(|p| p["amount"].as_u64().unwrap()).sum();
    assert_eq!(paid, cluster.paid_to_suppliers, "payouts to the unit");

    runtime.block_on(story.stop_services());
    drop(runtime);
}

/// What an unpaid interval of a cheater says besides its reason.
#[track_caller]
fn assert_reason_detail(role: Role, interval: &Value) {
    match role {
        Role::Miner => assert_eq!(interval["image_name"], "crypto-miner", "{interval}"),
        Role::MissingGpu => {
            let counts = (interval["reported"].as_u64(), interval["expected"].as_u64());
            assert_eq!(counts, (Some(u64::from(GPUS_PER_HOST) - 1), Some(u64::from(GPUS_PER_HOST))), "{interval}");
            assert_eq!(interval["model"], "H100-SXM", "{interval}");
        }
        _ => {}
    }
    assert!(interval["end"].as_i64() > interval["start"].as_i64(), "{interval}");
}

fn supplier_address(story: &Story) -> Pubkey {
    timelock_sdk::pda::supplier(&story.supplier.pubkey()).0
}
