//! `timelock-localnet`: Solana's JSON-RPC over LiteSVM with the program from `target/deploy/timelock.so` at its
//! declared id, upgradeable by `--upgrade-authority` (config_init demands the upgrade authority), and SPL Token,
//! Token-2022 and the associated-token program. When ready it prints `{"rpc_url", "ws_url", "payer"}` on one
//! line (`payer`: a keypair file holding 500 million SOL for the caller to fund accounts with; `ws_url` is null:
//! no subscriptions are served), then runs until Ctrl-C or SIGTERM. State lives in memory.

use std::sync::{Arc, Mutex};

use clap::Parser;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use timelock_localnet::chain::Chain;
use timelock_localnet::rpc::SharedChain;
use timelock_localnet::NodeArgs;

#[derive(Parser, Debug)]
#[command(name = "timelock-localnet", about = "A local Solana JSON-RPC node (LiteSVM) with the timelock program")]
struct Cli {
    #[command(flatten)]
    node: NodeArgs,
}

const PAYER_SOL: u64 = 500_000_000;

fn main() {
    let args = Cli::parse().node;
    let authority = args.upgrade_authority;
    let program =
        std::fs::read(&args.program).unwrap_or_else(|e| panic!("{}: {e} (run `make build`)", args.program.display()));
    let payer = Keypair::new();
    std::fs::write(&args.payer_out, serde_json::to_string(&payer.to_bytes().to_vec()).unwrap())
        .expect("write the payer keypair");
    let payer_pubkey = payer.pubkey();
    let chain = Chain::new(payer, PAYER_SOL, |svm| {
        timelock_localnet::deploy_upgradeable(
            svm,
            Pubkey::new_from_array(timelock::ID.to_bytes()),
            &program,
            &authority,
        )
    });
    let chain: SharedChain = Arc::new(Mutex::new(chain));

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.rpc_port))
            .await
            .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{}: {e}", args.rpc_port));
        let address = listener.local_addr().unwrap();
        println!(
            "{}",
            timelock_localnet::ready_line(&format!("http://{address}"), None, &args.payer_out, &payer_pubkey)
        );
        timelock_localnet::rpc::serve(listener, chain, shutdown()).await.expect("serve");
    });
}

async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
