//! `timelock-agave-localnet`: a real validator (Agave's in-process test validator) with the program from
//! `target/deploy/timelock.so` at its declared id, upgradeable by `--upgrade-authority` (config_init demands the
//! upgrade authority), and SPL Token, Token-2022 and the associated-token program at genesis. When ready it
//! prints `{"rpc_url", "ws_url", "payer"}` on one line (`payer`: a keypair file holding 500 million SOL for
//! the caller to fund accounts with), then runs until Ctrl-C or SIGTERM.

use clap::Parser;
use solana_pubkey::Pubkey;
use solana_rpc::rpc::JsonRpcConfig;
use solana_signer::Signer;
use solana_test_validator::{TestValidatorGenesis, UpgradeableProgramInfo};
use timelock_localnet::NodeArgs;

#[derive(Parser, Debug)]
#[command(name = "timelock-agave-localnet", about = "Agave's test validator with the timelock program")]
struct Cli {
    #[command(flatten)]
    node: NodeArgs,
}

fn main() {
    let args = Cli::parse().node;
    let authority = args.upgrade_authority;
    let ledger = args.ledger.clone().expect("Agave's validator needs --ledger DIR");
    assert!(args.program.exists(), "{} is missing: run `make build`", args.program.display());
    let loader = solana_sdk_ids::bpf_loader_upgradeable::ID;
    let mut genesis = TestValidatorGenesis::default();
    genesis
        .ledger_path(&ledger)
        .rpc_port(args.rpc_port)
        // Gossip on any free port of the range rather than always 8000, so that a second validator (another
        // checkout's tests, a demo) or one still releasing its sockets does not stop this one from starting.
        .gossip_port(0)
        // The indexer reads events from getTransaction's inner instructions: the transaction history must be
        // kept, and with it the "extended" metadata (logs, inner instructions), which Agave otherwise drops.
        .rpc_config(JsonRpcConfig {
            enable_rpc_transaction_history: true,
            enable_extended_tx_metadata_storage: true,
            ..JsonRpcConfig::default_for_test()
        })
        .add_upgradeable_programs_with_path(&[UpgradeableProgramInfo {
            program_id: Pubkey::new_from_array(timelock::ID.to_bytes()),
            loader,
            upgrade_authority: authority,
            program_path: args.program.clone(),
        }]);
    let (validator, payer) = genesis.start();
    std::fs::write(&args.payer_out, serde_json::to_string(&payer.to_bytes().to_vec()).unwrap())
        .expect("write the payer keypair");
    let ws_url = validator.rpc_pubsub_url();
    println!(
        "{}",
        timelock_localnet::ready_line(&validator.rpc_url(), Some(ws_url.as_str()), &args.payer_out, &payer.pubkey())
    );
    timelock_localnet::wait_for_termination();
    drop(validator);
}
