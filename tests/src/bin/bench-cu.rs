//! Compute units of every instruction, measured by running the real .so in LiteSVM.

use timelock_sdk::ix;
use timelock_tests::bench::{report, Row};
use timelock_tests::*;

fn main() -> std::io::Result<()> {
    let mut rows = Vec::new();
    let mut record = |name: &str, cu: u64| rows.push(Row { name: name.to_string(), value: cu as f64, unit: "CU" });

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
    record("worker_register", f.exec(ix::worker_register(supplier.key(), index, spec.clone()), &[&supplier.authority]));
    let update = timelock::state::WorkerSpec { price_per_gpu_hour: 1, ..spec };
    record("worker_update", f.exec(ix::worker_update(supplier.key(), index, update), &[&supplier.authority]));
    record(
        "worker_set_available",
        f.exec(ix::worker_set_available(supplier.key(), index, false), &[&supplier.authority]),
    );
    record("worker_deregister", f.exec(ix::worker_deregister(supplier.key(), index), &[&supplier.authority]));

    let so_size = std::fs::metadata(program_so_path())?.len();
    println!("\nprogram size: {so_size} bytes");
    let path = report("cu", &rows)?;
    println!("\nwrote {}", path.display());
    Ok(())
}
