//! The `timelock` command line run in-process against the fixture's chain, as a user would type it.

use clap::Parser;
use serde_json::Value;
use timelock_cli::{Cli, Context};
use timelock_sdk::client::Client;

use crate::svm_backend::SvmBackend;
use crate::{Keypair, TestFixture};

impl TestFixture {
    /// Runs `timelock <args>` as `signer` and returns its JSON output (what `-o json` prints).
    pub fn timelock(&mut self, signer: &Keypair, args: &str) -> Result<Value, String> {
        let argv = std::iter::once("timelock").chain(args.split_whitespace());
        let parsed = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let client = Client::new(SvmBackend::new(&mut self.svm));
        timelock_cli::run(&parsed.command, &Context { client: &client, signer }).map_err(|e| e.to_string())
    }
}
