//! [`Stack`]: the program deployed and configured on a validator, with helpers to fund actors, make token
//! accounts and run the `timelock` CLI against it.

use std::path::{Path, PathBuf};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
use clap::Parser;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer;
use timelock::state::ConfigParams;
use timelock_cli::{self as cli, Cli, Context};
use timelock_sdk::client::Client;
use timelock_sdk::rpc::RpcBackend;
use timelock_sdk::{catalog, ix, tokens, TOKEN_PROGRAM_ID};

use super::{Validator, PAYMENT_DECIMALS, STAKE_DECIMALS};

/// The program deployed and configured on a validator, with its mints and treasury.
pub struct Stack {
    pub validator: Validator,
    pub client: Client<RpcBackend>,
    pub admin: Keypair,
    pub treasury: Keypair,
    pub oracles: Vec<Keypair>,
    pub stake_mint: Pubkey,
    pub payment_mint: Pubkey,
    pub dir: PathBuf,
}

impl Stack {
    /// A validator on `rpc_port` with the program configured by `params` (3 oracles, threshold 2 by default).
    pub fn start(dir: &Path, rpc_port: u16, tune: impl FnOnce(&mut ConfigParams)) -> Stack {
        std::fs::create_dir_all(dir).expect("stack directory");
        let admin = Keypair::new();
        let validator = Validator::start(dir, &admin.pubkey(), rpc_port);
        let client = Client::new(RpcBackend::new(&validator.rpc_url));
        let mut stack = Stack {
            client,
            admin,
            treasury: Keypair::new(),
            oracles: (0..3).map(|_| Keypair::new()).collect(),
            stake_mint: Pubkey::default(),
            payment_mint: Pubkey::default(),
            dir: dir.to_path_buf(),
            validator,
        };
        stack.fund(&stack.admin.pubkey(), 100_000_000_000);
        for oracle in &stack.oracles {
            stack.fund(&oracle.pubkey(), 10_000_000_000);
        }
        stack.stake_mint = stack.create_mint(STAKE_DECIMALS);
        stack.payment_mint = stack.create_mint(PAYMENT_DECIMALS);
        let treasury = stack.treasury.pubkey();
        stack.ata(&treasury, &stack.stake_mint);
        stack.ata(&treasury, &stack.payment_mint);
        let oracles = stack.oracles.iter().map(|o| o.pubkey()).collect();
        let mut params = catalog::default_config_params(treasury, oracles, 2);
        tune(&mut params);
        let init =
            ix::config_init(stack.admin.pubkey(), stack.stake_mint, stack.payment_mint, TOKEN_PROGRAM_ID, params);
        stack.send(&[init], &[&stack.admin]);
        stack
    }

    pub fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) {
        let signers: Vec<&(dyn Signer + Sync)> = signers.iter().map(|k| *k as &(dyn Signer + Sync)).collect();
        if let Err(error) = self.client.send(instructions, &signers) {
            let programs: Vec<String> = instructions.iter().map(|i| i.program_id.to_string()).collect();
            panic!("transaction of {programs:?} paid by {} failed: {error}", signers[0].pubkey());
        }
    }

    /// SOL from the validator's payer.
    pub fn fund(&self, to: &Pubkey, lamports: u64) {
        let payer = &self.validator.payer;
        self.send(&[system_instruction::transfer(&payer.pubkey(), to, lamports)], &[payer]);
    }

    fn create_mint(&self, decimals: u8) -> Pubkey {
        let mint = Keypair::new();
        let rent = self.client.backend.rpc.get_minimum_balance_for_rent_exemption(tokens::MINT_LEN).expect("rent");
        let admin = self.admin.pubkey();
        self.send(
            &tokens::create_mint(&admin, &mint.pubkey(), &admin, &TOKEN_PROGRAM_ID, decimals, rent),
            &[&self.admin, &mint],
        );
        mint.pubkey()
    }

    /// `owner`'s associated token account of `mint` (created when missing).
    pub fn ata(&self, owner: &Pubkey, mint: &Pubkey) -> Pubkey {
        let admin = self.admin.pubkey();
        self.send(
            &[create_associated_token_account_idempotent(&admin, owner, mint, &TOKEN_PROGRAM_ID)],
            &[&self.admin],
        );
        get_associated_token_address_with_program_id(owner, mint, &TOKEN_PROGRAM_ID)
    }

    pub fn mint_to(&self, mint: &Pubkey, owner: &Pubkey, amount: u64) {
        let account = self.ata(owner, mint);
        self.send(&[tokens::mint_to(&TOKEN_PROGRAM_ID, mint, &account, &self.admin.pubkey(), amount)], &[&self.admin]);
    }

    pub fn balance(&self, owner: &Pubkey, mint: &Pubkey) -> u64 {
        let account = get_associated_token_address_with_program_id(owner, mint, &TOKEN_PROGRAM_ID);
        self.client.account_raw(&account).ok().and_then(|a| tokens::balance(&a.data)).unwrap_or(0)
    }

    /// A funded keypair, saved as `<name>.json` in the stack's directory (for the CLI and agents).
    pub fn actor(&self, name: &str) -> (Keypair, PathBuf) {
        let keypair = Keypair::new();
        self.fund(&keypair.pubkey(), 20_000_000_000);
        let path = self.save_keypair(name, &keypair);
        (keypair, path)
    }

    pub fn save_keypair(&self, name: &str, keypair: &Keypair) -> PathBuf {
        let path = self.dir.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string(&keypair.to_bytes().to_vec()).unwrap()).expect("keypair file");
        path
    }

    /// Runs a `timelock` CLI command (the binary's code, in process) as `keypair`; the JSON it would print.
    pub fn cli(&self, keypair: &Keypair, args: &[&str]) -> Result<Value, String> {
        let mut argv = vec!["timelock", "--url", &self.validator.rpc_url, "--output", "json"];
        argv.extend_from_slice(args);
        let parsed = Cli::try_parse_from(&argv).map_err(|e| e.to_string())?;
        let client = Client::new(RpcBackend::new(&self.validator.rpc_url));
        cli::run(&parsed.command, &Context { client: &client, signer: keypair }).map_err(|e| e.to_string())
    }
}
