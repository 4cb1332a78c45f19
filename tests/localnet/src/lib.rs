//! A local Solana cluster with the timelock program, for the demo, the end-to-end tests and anyone who wants a
//! chain on their machine: `timelock-localnet` serves Solana's JSON-RPC over LiteSVM (the same SVM the program
//! tests run), built from crates the tests already compile, so it costs seconds on a cold machine instead of
//! the ~50 minutes of Agave's validator. `timelock-agave-localnet` (feature `agave`) is Agave's own test
//! validator, kept as the fidelity check behind `make test-agave`. Both print the same ready line.

pub mod chain;
pub mod rpc;

use std::path::PathBuf;
use std::str::FromStr;

use litesvm::LiteSVM;
use solana_pubkey::Pubkey;

/// The flags both nodes take (the harness in `tests/src/localnet/` starts either with them).
#[derive(clap::Args, Debug)]
pub struct NodeArgs {
    /// Upgrade authority of the program, which must be the one to initialise its config.
    #[arg(long, value_parser = Pubkey::from_str)]
    pub upgrade_authority: Pubkey,
    #[arg(long, default_value = "target/deploy/timelock.so")]
    pub program: PathBuf,
    /// Where to write the funded payer's keypair.
    #[arg(long)]
    pub payer_out: PathBuf,
    #[arg(long, default_value_t = 8899)]
    pub rpc_port: u16,
    /// Ledger directory: Agave's validator creates or resumes it; the LiteSVM node keeps its state in memory and
    /// ignores it.
    #[arg(long)]
    pub ledger: Option<PathBuf>,
}

/// The upgradeable loader's ProgramData header is bincode: a u32 tag (3), the u64 deploy slot, then the upgrade
/// authority as `Option<Pubkey>` at byte 12. LiteSVM deploys with none; `config_init` demands one.
const AUTHORITY_OFFSET: usize = 12;

/// Deploys `program` (an SBF .so) at `program_id` under the upgradeable loader, upgradeable by `authority`.
pub fn deploy_upgradeable(svm: &mut LiteSVM, program_id: Pubkey, program: &[u8], authority: &Pubkey) {
    svm.add_program(program_id, program).expect("the program loads");
    let loader = solana_sdk_ids::bpf_loader_upgradeable::ID;
    let (program_data, _) = Pubkey::find_program_address(&[program_id.as_ref()], &loader);
    let mut account = svm.get_account(&program_data).expect("program data");
    account.data[AUTHORITY_OFFSET] = 1;
    account.data[AUTHORITY_OFFSET + 1..AUTHORITY_OFFSET + 33].copy_from_slice(authority.as_ref());
    svm.set_account(program_data, account).expect("set program data");
}

/// Blocks until SIGINT or SIGTERM.
pub fn wait_for_termination() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static STOP: AtomicBool = AtomicBool::new(false);
    extern "C" fn on_signal(_: i32) {
        STOP.store(true, Ordering::SeqCst);
    }
    unsafe {
        signal(2, on_signal);
        signal(15, on_signal);
    }
    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
}

/// The line both nodes print when ready (the harness and scripts read it).
pub fn ready_line(rpc_url: &str, ws_url: Option<&str>, payer_file: &std::path::Path, payer: &Pubkey) -> String {
    serde_json::json!({
        "rpc_url": rpc_url,
        "ws_url": ws_url,
        "payer": payer_file.display().to_string(),
        "payer_pubkey": payer.to_string(),
    })
    .to_string()
}
