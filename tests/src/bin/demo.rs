//! The protocol's story against the real .so in LiteSVM: a supplier stakes and registers GPUs, a renter books a
//! cluster, oracles attest (one worker runs a foreign process), settlement pays, slashes and refunds.

use timelock::events::LeaseSettled;
use timelock_sdk::{catalog, ix};
use timelock_tests::*;

fn usdc(units: u64) -> String {
    format!("{}.{:06}", units / ONE_USDC, units % ONE_USDC)
}

fn stake(units: u64) -> String {
    format!("{}.{:09}", units / ONE_STAKE, units % ONE_STAKE)
}

fn main() {
    let mut f = TestFixture::new();
    println!("program {} deployed; config initialised by the upgrade authority (2-of-3 oracles)", timelock::ID);

    let (supplier, workers) = f.supplier_with_workers(3);
    let account = f.supplier_account(&supplier);
    println!(
        "supplier {} staked {} tokens and registered 3 workers of 8 x {} (bond {} tokens)",
        supplier.key(),
        account.staked / ONE_STAKE,
        catalog::gpu_model_name(f.h100_spec().gpu_model).unwrap_or("?"),
        account.reserved / ONE_STAKE
    );

    let renter = f.renter(10_000 * ONE_USDC);
    f.create_cluster(&renter, 1, 2).expect("cluster_create");
    f.add_workers(&renter, 1, &workers).expect("cluster_add_workers");
    let cluster = f.cluster(&renter, 1);
    println!("renter {} booked 24 GPUs for 2 h: {} USDC in escrow", renter.key(), usdc(cluster.deposited));

    // Two hours of heartbeats: worker 0 honest, worker 1 offline for 30 minutes, worker 2 ran a foreign process.
    let verdicts = [(7_200u32, 0u16), (5_400, 0), (6_600, 3)];
    f.warp(2 * 3_600);
    let now = f.now();
    let reports: Vec<_> = workers
        .iter()
        .zip(verdicts)
        .map(|(w, (secs, faults))| (f.lease_address(&renter, 1, w), secs, faults))
        .collect();
    f.attest_quorum(2, now, &reports);
    println!(
        "oracles 1 and 2 attested: proven seconds {:?}, faults {:?}",
        verdicts.map(|v| v.0),
        verdicts.map(|v| v.1)
    );

    f.warp(300 + 600);
    println!("\n| worker | proven s | paid to supplier | fee | refund | slashed (stake) | jailed |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    for (i, worker) in workers.iter().enumerate() {
        let settled: LeaseSettled = f.settle(&renter, 1, worker).expect("settle").event();
        println!(
            "| {i} | {} | {} | {} | {} | {} | {} |",
            settled.final_secs,
            usdc(settled.paid_to_supplier),
            usdc(settled.fee),
            usdc(settled.refund),
            stake(settled.slashed),
            settled.jailed_until != 0
        );
    }
    let cluster = f.cluster(&renter, 1);
    println!(
        "\nescrow {} = paid {} + fees {} + refunds {} (exact)",
        usdc(cluster.deposited),
        usdc(cluster.paid_to_suppliers),
        usdc(cluster.fees),
        usdc(cluster.refunded)
    );
    let claim =
        ix::rewards_claim(supplier.key(), f.payment_mint, supplier.payment_tokens, timelock_sdk::TOKEN_PROGRAM_ID);
    f.exec(claim, &[&supplier.authority]);
    f.exec(ix::cluster_close(f.payment(&renter, 1)), &[&renter.authority]);
    println!("supplier claimed {} USDC; renter closed the cluster", usdc(f.token_balance(&supplier.payment_tokens)));
}
