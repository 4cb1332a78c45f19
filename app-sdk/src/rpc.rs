//! The JSON-RPC [`Backend`], plus the Solana CLI's conventions: URL monikers and keypair files.

use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use solana_account::Account;
use solana_commitment_config::CommitmentConfig;
use solana_hash::Hash;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSimulateTransactionConfig};
use solana_rpc_client_api::filter::{Memcmp as RpcMemcmp, RpcFilterType};
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;

use crate::client::{Backend, ClientError, Memcmp, Result, Simulation};

/// `localhost`, `devnet`, `testnet`, `mainnet-beta` (and their one-letter forms) or a URL, like `solana -u`.
pub fn resolve_url(moniker: &str) -> String {
    match moniker {
        "localhost" | "l" => "http://127.0.0.1:8899".into(),
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        url => url.into(),
    }
}

/// The Solana CLI's default keypair: `~/.config/solana/id.json`.
pub fn default_keypair_path() -> PathBuf {
    dirs::home_dir().unwrap_or_default().join(".config/solana/id.json")
}

/// Reads a keypair file in the Solana CLI format (a JSON array of 64 bytes).
pub fn read_keypair(path: &std::path::Path) -> std::result::Result<solana_keypair::Keypair, String> {
    solana_keypair::read_keypair_file(path).map_err(|e| {
        format!(
            "cannot read keypair {}: {e} (create one with `solana-keygen new -o {}`)",
            path.display(),
            path.display()
        )
    })
}

pub struct RpcBackend {
    pub rpc: RpcClient,
}

impl RpcBackend {
    pub fn new(url: &str) -> Self {
        RpcBackend { rpc: RpcClient::new_with_commitment(resolve_url(url), CommitmentConfig::confirmed()) }
    }
}

fn rpc_error(e: impl std::fmt::Display) -> ClientError {
    ClientError::Rpc(e.to_string())
}

impl Backend for RpcBackend {
    fn get_multiple_accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>> {
        self.rpc.get_multiple_accounts(addresses).map_err(rpc_error)
    }

    fn get_program_accounts(&self, program: &Pubkey, filters: &[Memcmp]) -> Result<Vec<(Pubkey, Account)>> {
        let config = RpcProgramAccountsConfig {
            filters: Some(
                filters
                    .iter()
                    .map(|f| RpcFilterType::Memcmp(RpcMemcmp::new_raw_bytes(f.offset, f.bytes.clone())))
                    .collect(),
            ),
            account_config: RpcAccountInfoConfig {
                encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let accounts = self.rpc.get_program_ui_accounts_with_config(program, config).map_err(rpc_error)?;
        accounts
            .into_iter()
            .map(|(address, ui)| {
                let data = ui.data.decode().ok_or_else(|| rpc_error(format!("undecodable account {address}")))?;
                let owner = ui.owner.parse().map_err(rpc_error)?;
                Ok((
                    address,
                    Account {
                        lamports: ui.lamports,
                        data,
                        owner,
                        executable: ui.executable,
                        rent_epoch: ui.rent_epoch,
                    },
                ))
            })
            .collect()
    }

    fn latest_blockhash(&self) -> Result<Hash> {
        self.rpc.get_latest_blockhash().map_err(rpc_error)
    }

    fn simulate(&self, transaction: &VersionedTransaction) -> Result<Simulation> {
        // Without a commitment the node simulates at finalized, where what was just confirmed (a funding
        // transfer, a new account) does not exist yet.
        let config = RpcSimulateTransactionConfig {
            sig_verify: false,
            replace_recent_blockhash: true,
            commitment: Some(self.rpc.commitment()),
            ..Default::default()
        };
        let result = self.rpc.simulate_transaction_with_config(transaction, config).map_err(rpc_error)?.value;
        Ok(Simulation {
            units_consumed: result.units_consumed.unwrap_or(0),
            error: result.err.map(|e| e.to_string()),
            logs: result.logs.unwrap_or_default(),
        })
    }

    fn send_and_confirm(&self, transaction: &VersionedTransaction) -> Result<Signature> {
        self.rpc.send_and_confirm_transaction(transaction).map_err(|e| {
            let text = e.to_string();
            if text.contains("Blockhash not found") || text.contains("block height exceeded") {
                ClientError::Expired(1)
            } else {
                ClientError::Transaction { error: text, logs: Vec::new() }
            }
        })
    }

    fn slot(&self) -> Result<u64> {
        self.rpc.get_slot().map_err(rpc_error)
    }

    fn unix_timestamp(&self) -> Result<i64> {
        let slot = self.rpc.get_slot().map_err(rpc_error)?;
        self.rpc.get_block_time(slot).map_err(rpc_error)
    }
}
