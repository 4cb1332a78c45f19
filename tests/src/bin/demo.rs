//! The protocol's story against the real .so in LiteSVM: config, a supplier stakes and registers GPUs.

use timelock_sdk::{catalog, ix, pda};
use timelock_tests::*;

fn main() {
    let mut f = TestFixture::new();
    println!("program {} deployed, config initialised by the upgrade authority", timelock::ID);
    let supplier = f.staked_supplier(20_000 * ONE_STAKE);
    println!("supplier {} staked 20,000 tokens", supplier.key());
    for model in ["H100-SXM", "A100-80G"] {
        let spec = timelock::state::WorkerSpec {
            gpu_model: catalog::gpu_model_code(model).expect("catalog model"),
            ..f.h100_spec()
        };
        let index = f.register_worker(&supplier, spec).expect("register worker");
        let worker = f.worker_of(&supplier, index);
        println!(
            "worker {} registered: 8 x {model}, bond {} tokens",
            pda::worker(&supplier.supplier(), index).0,
            worker.bonded_stake / ONE_STAKE
        );
    }
    let account = f.supplier_account(&supplier);
    println!(
        "supplier: staked {}, reserved {}, free {}",
        account.staked / ONE_STAKE,
        account.reserved / ONE_STAKE,
        account.free_stake().unwrap() / ONE_STAKE
    );
    f.exec(ix::stake_unbond(supplier.key(), account.free_stake().unwrap()), &[&supplier.authority]);
    f.warp(7 * 86_400);
    f.exec(ix::stake_withdraw(f.stake_accounts(&supplier)), &[&supplier.authority]);
    println!(
        "free stake unbonded and withdrawn after 7 days: {} tokens back",
        f.token_balance(&supplier.stake_tokens) / ONE_STAKE
    );
}
