//! `timelock`: the command line for suppliers, renters and admins. See `timelock --help`.

use clap::Parser;
use timelock_cli::{self as cli, Cli, CliError, Context};
use timelock_sdk::client::{Client, SendOptions};
use timelock_sdk::rpc::{self, RpcBackend};

fn main() {
    let args = Cli::parse();
    let path = args.keypair.clone().unwrap_or_else(rpc::default_keypair_path);
    let signer = match rpc::read_keypair(&path) {
        Ok(keypair) => keypair,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    let mut client = Client::new(RpcBackend::new(&args.url));
    client.options = SendOptions { priority_fee: args.priority_fee, ..SendOptions::default() };
    match cli::run(&args.command, &Context { client: &client, signer: &signer }) {
        Ok(value) => println!("{}", cli::render(&value, args.output)),
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(if matches!(error, CliError::Usage(_)) { 2 } else { 1 });
        }
    }
}
