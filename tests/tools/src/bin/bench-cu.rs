//! Compute units of every instruction, measured by running the real .so in LiteSVM.

use timelock_sdk::{batch, ix};
use timelock_tests::*;
use timelock_tools::{report, Row};

fn main() -> std::io::Result<()> {
    let mut rows = Vec::new();
    let mut record = |name: &str, value: u64| {
        let unit = if name.contains("_per_tx") { "leases" } else { "CU" };
        rows.push(Row { name: name.to_string(), value: value as f64, unit });
    };

    let mut f = TestFixture::deployed();
    record("config_init", f.init_config().expect("config_init").compute_units);
    let admin = f.admin.insecure_clone();
    let params = f.config().params;
    record("config_update", f.exec(ix::config_update(admin.pubkey(), params), &[&admin]));
    let successor = f.actor();
    record("admin_transfer", f.exec(ix::admin_transfer(admin.pubkey(), successor.pubkey()), &[&admin]));
    record("admin_accept", f.exec(ix::admin_accept(successor.pubkey()), &[&successor]));
    record("pause", f.exec(ix::pause(successor.pubkey()), &[&successor]));
    record("unpause", f.exec(ix::unpause(successor.pubkey()), &[&successor]));

    let authority = f.actor();
    let stake_tokens = f.token_account(f.stake_mint, &authority.pubkey());
    f.mint_to(f.stake_mint, stake_tokens, 20_000 * ONE_STAKE);
    let payment_tokens = f.token_account(f.payment_mint, &authority.pubkey());
    let register = ix::supplier_register(authority.pubkey(), f.payment_mint, timelock_sdk::TOKEN_PROGRAM_ID);
    record("supplier_register", f.exec(register, &[&authority]));
    let supplier = SupplierActor { authority, stake_tokens, payment_tokens };
    let stake = f.stake_accounts(&supplier);
    record("stake_deposit", f.exec(ix::stake_deposit(stake, 20_000 * ONE_STAKE), &[&supplier.authority]));
    record("stake_unbond", f.exec(ix::stake_unbond(supplier.key(), ONE_STAKE), &[&supplier.authority]));
    f.warp(7 * 86_400);
    record("stake_withdraw", f.exec(ix::stake_withdraw(stake), &[&supplier.authority]));

    let spec = f.h100_spec();
    let index = f.next_worker_index();
    let [register, bind_four, bind_four_more] =
        <[_; 3]>::try_from(f.register_worker_ix(&supplier, index, spec.clone())).unwrap();
    record("worker_register", f.exec(register, &[&supplier.authority]));
    record("worker_bind_gpus", f.exec(bind_four, &[&supplier.authority]));
    f.exec(bind_four_more, &[&supplier.authority]);
    let device_key = spec.device_key;
    let update = timelock::state::WorkerSpec { price_per_gpu_hour: 1, ..spec };
    let ix = ix::worker_update(supplier.key(), index, device_key, update);
    record("worker_update", f.exec(ix, &[&supplier.authority]));
    record(
        "worker_set_available",
        f.exec(ix::worker_set_available(supplier.key(), index, false), &[&supplier.authority]),
    );
    let deregister = f.deregister_worker_ix(&supplier, index);
    record("worker_deregister", f.exec(deregister, &[&supplier.authority]));

    rentals(&mut record);
    incentives(&mut record);

    let so_size = std::fs::metadata(program_so_path())?.len();
    println!("\nprogram size: {so_size} bytes");
    let path = report("cu", &rows)?;
    println!("\nwrote {}", path.display());
    Ok(())
}

/// Rentals: booking, attestation (one lease and a full batch), settlement, disputes, claims, jail.
fn rentals(record: &mut impl FnMut(&str, u64)) {
    let mut f = TestFixture::new();
    let (supplier, mut workers) = f.supplier_with_workers(3);
    // Enough leases for the fullest attestation transaction.
    for _ in 0..7 {
        workers.extend(f.supplier_with_workers(10).1);
    }
    let renter = f.renter(1_000_000 * ONE_USDC);
    let payment = f.payment(&renter, 1);
    record("cluster_create", f.create_cluster(&renter, 1, 2).expect("cluster_create").compute_units);
    let images = ["ghcr.io/renter/train:v3", "ghcr.io/renter/sidecar:v1"];
    let declared = f.set_workload(&renter, 1, &images).expect("cluster_set_workload");
    record("cluster_set_workload", declared.compute_units);
    record("cluster_add_workers", f.add_workers(&renter, 1, &workers[..1]).expect("book 1").compute_units);
    let batch = &workers[1..11];
    let landed = f.add_workers(&renter, 1, batch).expect("book 10");
    record("cluster_add_workers_per_worker", landed.compute_units / batch.len() as u64);
    for rest in workers[11..].chunks(20) {
        f.add_workers(&renter, 1, rest).expect("book the rest");
    }
    record("cluster_extend", f.exec(ix::cluster_extend(payment, 1), &[&renter.authority]));

    f.warp(1_800);
    let window = f.now();
    let leases: Vec<_> = workers.iter().map(|w| f.lease_address(&renter, 1, w)).collect();
    let report = timelock::LeaseReport { proven_secs: 1_700, faults: 0, resolution: 0 };
    record("lease_attest", f.attest(0, window, &[(leases[0], 1_700, 0)]).expect("attest one").compute_units);
    // The largest batch that fits one transaction, from the SDK's packer.
    let oracle = f.oracles[1].insecure_clone();
    let reports: Vec<_> = leases.iter().map(|l| (*l, report)).collect();
    // Through the oracle's lookup table, as the oracle service sends them; the packet alone bounds a batch without.
    let legacy = batch::lease_attest(oracle.pubkey(), window, &reports, &[], false, |_| [7; 32]);
    record("attest_leases_per_tx_without_table", (legacy[0][1].accounts.len() - 4) as u64);
    let table = f.lookup_table(&oracle, &leases);
    let tables = std::slice::from_ref(&table);
    let batches = batch::lease_attest(oracle.pubkey(), window, &reports, tables, false, |_| [7; 32]);
    let first = &batches[0];
    let per_tx = first[0].accounts.len() - 4;
    let cu = f.send_v0(first, &[&oracle], tables).expect("attest batch").compute_units;
    record("attest_leases_per_tx", per_tx as u64);
    record("attest_per_lease", cu / per_tx as u64);
    for rest in &batches[1..] {
        f.send_v0(rest, &[&oracle], tables).expect("attest batch");
    }

    let first_worker = workers[0];
    f.warp(600);
    let landed = f.settle(&renter, 1, &first_worker).expect("settle");
    record("lease_settle", landed.compute_units);

    // The supplier of the first three workers: claim, and fault a worker into jail for unjail.
    let claim =
        ix::earnings_claim(supplier.key(), f.payment_mint, supplier.payment_tokens, timelock_sdk::TOKEN_PROGRAM_ID);
    record("earnings_claim", f.exec(claim, &[&supplier.authority]));

    let second = workers[1];
    let disputer = ix::lease_dispute(renter.key(), renter.payment_tokens, payment, second.worker, second.supplier);
    record("lease_dispute", f.exec(disputer, &[&renter.authority]));
    let admin = f.admin.insecure_clone();
    let resolve = ix::lease_dispute_resolve(
        admin.pubkey(),
        payment,
        second.worker,
        renter.payment_tokens,
        f.treasury_payment_tokens,
        1_700,
        0,
        f.now(),
        true,
    );
    record("lease_dispute_resolve", f.exec(resolve, &[&admin]));

    // The same decision by the oracle quorum's re-judgments: a verdict, then the one that completes the quorum and
    // pays the bond (the parties' token accounts exist, so only the verdict itself is measured).
    let fourth = workers[3];
    let disputer = ix::lease_dispute(renter.key(), renter.payment_tokens, payment, fourth.worker, fourth.supplier);
    f.exec(disputer, &[&renter.authority]);
    let treasury = f.config().params.treasury;
    let payment_mint = f.payment_mint;
    f.funded_ata(&renter.key(), payment_mint, 0);
    f.funded_ata(&treasury, payment_mint, 0);
    for (oracle, row) in [(0, "lease_dispute_verdict"), (1, "lease_dispute_verdict_decides")] {
        let signer = f.oracles[oracle].insecure_clone();
        let opened = f.account::<timelock::state::Lease>(&f.lease_address(&renter, 1, &fourth)).dispute_opened_at;
        let ixs = ix::lease_dispute_verdict(
            signer.pubkey(),
            payment,
            fourth.worker,
            renter.key(),
            treasury,
            opened,
            1_700,
            0,
            [7; 32],
        );
        record(row, f.exec(ixs[2].clone(), &[&signer]));
    }

    let third = workers[2];
    let window = f.now();
    let third_lease = f.lease_address(&renter, 1, &third);
    f.attest_quorum(2, window, &[(third_lease, 1_750, 3)]);
    // Faults are slashed once past the dispute window, like seconds are paid.
    f.warp(f.config().params.dispute_window_secs);
    let landed = f.settle(&renter, 1, &third).expect("settle with slash");
    assert!(landed.event::<timelock::events::LeaseSettled>().slashed > 0);
    record(
        "cluster_remove_worker",
        f.exec(ix::cluster_remove_worker(renter.key(), 1, third.worker), &[&renter.authority]),
    );
    record("lease_settle_slash", landed.compute_units);

    record("cluster_end", f.exec(ix::cluster_end(renter.key(), 1), &[&renter.authority]));
    f.warp(86_400);
    let index = f.account::<timelock::state::Worker>(&third.worker).worker_index;
    record("worker_unjail", f.exec(ix::worker_unjail(supplier.key(), index), &[&supplier.authority]));
    let mut close_cu = 0;
    for worker in &workers {
        let landed = f.settle(&renter, 1, worker).expect("final settle");
        let settled = landed.event::<timelock::events::LeaseSettled>();
        assert!(settled.closed, "every lease closes: final {} faults {}", settled.final_secs, settled.faults);
        close_cu = close_cu.max(landed.compute_units);
    }
    record("lease_settle_close", close_cu);
    record("cluster_close", f.exec(ix::cluster_close(payment), &[&renter.authority]));
}

/// The incentive pool: set-up, a settlement that credits GPU-seconds (creating the epoch records), a claim.
fn incentives(record: &mut impl FnMut(&str, u64)) {
    let mut f = TestFixture::new();
    let admin = f.admin.insecure_clone();
    let (mint, program) = (f.stake_mint, f.stake_token_program);
    record(
        "incentives_init",
        f.exec(ix::incentives_init(admin.pubkey(), mint, program, 1_000 * ONE_STAKE, 3_600), &[&admin]),
    );
    let admin_tokens = f.token_account(mint, &admin.pubkey());
    f.mint_to(mint, admin_tokens, 1_000 * ONE_STAKE);
    record(
        "incentives_fund",
        f.exec(ix::incentives_fund(admin.pubkey(), mint, admin_tokens, program, 1_000 * ONE_STAKE), &[&admin]),
    );
    let (supplier, workers) = f.supplier_with_workers(1);
    let renter = f.renter(1_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 1).expect("cluster_create");
    f.add_workers(&renter, 1, &workers).expect("book");
    f.warp(1_800);
    let now = f.now();
    let lease = f.lease_address(&renter, 1, &workers[0]);
    f.attest_quorum(2, now, &[(lease, 1_800, 0)]);
    f.warp(600);
    record("lease_settle_incentives", f.settle(&renter, 1, &workers[0]).expect("settle").compute_units);
    let pool: timelock::state::IncentivePool = f.account(&timelock_sdk::pda::incentive_pool().0);
    let epoch = pool.epoch_at(f.now());
    let record_address = timelock_sdk::pda::supplier_incentive(&supplier.supplier(), epoch).0;
    let payer = f.account::<timelock::state::SupplierIncentive>(&record_address).rent_payer;
    f.set_time(pool.epoch_end(epoch));
    let claim = ix::incentives_claim(supplier.key(), epoch, payer, mint, supplier.stake_tokens, program);
    record("incentives_claim", f.exec(claim, &[&supplier.authority]));
}
