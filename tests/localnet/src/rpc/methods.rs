//! The method table: each JSON-RPC method a client may call, answered from the [`Chain`].

use std::str::FromStr;

use base64::Engine;
use serde_json::{json, Value};
use solana_hash::Hash;
use solana_message::VersionedMessage;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcContextConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
    RpcSignatureStatusConfig, RpcSignaturesForAddressConfig, RpcSimulateTransactionConfig,
};
use solana_rpc_client_api::custom_error::JSON_RPC_SERVER_ERROR_BLOCK_NOT_AVAILABLE;
use solana_rpc_client_api::response::{
    RpcBlockhash, RpcConfirmedTransactionStatusWithSignature, RpcKeyedAccount, RpcSimulateTransactionResult,
};
use solana_transaction_status_client_types::UiTransactionEncoding;

use super::encode::{
    confirmation, encode_transaction, passes, refused, simulation_result, status_of, ui_account, ui_inner_instructions,
};
use super::params::{
    commitment, decode_transaction, optional, parse_pubkey, parse_signature, pubkey, required, transaction_config,
};
use super::{RpcError, RpcResult, METHOD_NOT_FOUND, SOLANA_CORE_VERSION};
use crate::chain::{Chain, SLOTS_PER_EPOCH};

pub(super) fn dispatch(chain: &mut Chain, method: &str, params: &[Value]) -> RpcResult {
    match method {
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({"solana-core": SOLANA_CORE_VERSION, "feature-set": 0})),
        // Each ledger its own genesis, as a validator started with a fresh ledger has: a node reset under an
        // indexer is told apart from the one it read.
        "getGenesisHash" => {
            Ok(json!(Hash::new_from_array(solana_signer::Signer::pubkey(chain.faucet()).to_bytes()).to_string()))
        }
        "getIdentity" => Ok(json!({"identity": solana_signer::Signer::pubkey(chain.faucet()).to_string()})),
        "getSlot" | "getBlockHeight" => {
            let config: Option<RpcContextConfig> = optional(params, 0)?;
            Ok(json!(chain.slot_at(commitment(config.and_then(|c| c.commitment)))))
        }
        "getEpochInfo" => {
            let slot = chain.slot();
            Ok(json!({
                "absoluteSlot": slot,
                "blockHeight": slot,
                "epoch": slot / SLOTS_PER_EPOCH,
                "slotIndex": slot % SLOTS_PER_EPOCH,
                "slotsInEpoch": SLOTS_PER_EPOCH,
                "transactionCount": chain.transaction_count(),
            }))
        }
        "getTransactionCount" => Ok(json!(chain.transaction_count())),
        "getFirstAvailableBlock" => Ok(json!(0)),
        "getRecentPrioritizationFees" => Ok(json!([])),
        "getLatestBlockhash" => {
            let (blockhash, last_valid_block_height) = chain.latest_blockhash();
            with_context(chain, RpcBlockhash { blockhash: blockhash.to_string(), last_valid_block_height })
        }
        "isBlockhashValid" => {
            let hash: String = required(params, 0)?;
            let hash = Hash::from_str(&hash).map_err(|e| RpcError::params(format!("Invalid blockhash: {e}")))?;
            with_context(chain, chain.blockhash_is_valid(&hash))
        }
        "getFeeForMessage" => {
            let encoded: String = required(params, 0)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| RpcError::params(format!("invalid base64 message: {e}")))?;
            let message: VersionedMessage =
                bincode::deserialize(&bytes).map_err(|e| RpcError::params(format!("invalid message: {e}")))?;
            let fee = chain.blockhash_is_valid(message.recent_blockhash()).then(|| chain.fee_for(&message));
            with_context(chain, fee)
        }
        "getMinimumBalanceForRentExemption" => {
            let len: usize = required(params, 0)?;
            Ok(json!(chain.minimum_balance_for_rent_exemption(len)))
        }
        "getBalance" => {
            let address = pubkey(params, 0)?;
            with_context(chain, chain.account(&address).map_or(0, |a| a.lamports))
        }
        "getAccountInfo" => {
            let address = pubkey(params, 0)?;
            let config: RpcAccountInfoConfig = optional(params, 1)?.unwrap_or_default();
            let account = chain.account(&address).map(|a| ui_account(&a, &config));
            with_context(chain, account)
        }
        "getMultipleAccounts" => {
            let addresses: Vec<String> = required(params, 0)?;
            let config: RpcAccountInfoConfig = optional(params, 1)?.unwrap_or_default();
            let accounts = addresses
                .iter()
                .map(|a| {
                    let address = parse_pubkey(a)?;
                    Ok(chain.account(&address).map(|account| ui_account(&account, &config)))
                })
                .collect::<Result<Vec<_>, RpcError>>()?;
            with_context(chain, accounts)
        }
        "getProgramAccounts" => {
            let program = pubkey(params, 0)?;
            let config: RpcProgramAccountsConfig = optional(params, 1)?.unwrap_or_default();
            let filters = config.filters.unwrap_or_default();
            for filter in &filters {
                filter.verify().map_err(|e| RpcError::params(e.to_string()))?;
            }
            let accounts: Vec<RpcKeyedAccount> = chain
                .program_accounts(&program)
                .into_iter()
                .filter(|(_, account)| filters.iter().all(|f| passes(f, account)))
                .map(|(address, account)| RpcKeyedAccount {
                    pubkey: address.to_string(),
                    account: ui_account(&account, &config.account_config),
                })
                .collect();
            if config.with_context.unwrap_or(false) {
                with_context(chain, accounts)
            } else {
                Ok(json!(accounts))
            }
        }
        "getBlockTime" => {
            let slot: u64 = required(params, 0)?;
            if slot > chain.slot() {
                return Err(RpcError::new(
                    JSON_RPC_SERVER_ERROR_BLOCK_NOT_AVAILABLE,
                    format!("Block not available for slot {slot}"),
                ));
            }
            Ok(json!(chain.block_time(slot)))
        }
        "getSignatureStatuses" => {
            let signatures: Vec<String> = required(params, 0)?;
            let _history: Option<RpcSignatureStatusConfig> = optional(params, 1)?;
            let statuses = signatures
                .iter()
                .map(|s| Ok(chain.transaction(&parse_signature(s)?).map(|landed| status_of(chain, landed))))
                .collect::<Result<Vec<_>, RpcError>>()?;
            with_context(chain, statuses)
        }
        "getSignaturesForAddress" => {
            let address = pubkey(params, 0)?;
            let config: RpcSignaturesForAddressConfig = optional(params, 1)?.unwrap_or_default();
            let before = config.before.as_deref().map(parse_signature).transpose()?;
            let until = config.until.as_deref().map(parse_signature).transpose()?;
            let limit = config.limit.unwrap_or(1_000);
            if !(1..=1_000).contains(&limit) {
                return Err(RpcError::params("Invalid limit; max 1000"));
            }
            let max_slot = chain.slot_at(commitment(config.commitment));
            let found: Vec<RpcConfirmedTransactionStatusWithSignature> = chain
                .signatures_for(&address, before.as_ref(), until.as_ref(), limit, max_slot)
                .into_iter()
                .map(|(signature, landed)| RpcConfirmedTransactionStatusWithSignature {
                    signature: signature.to_string(),
                    slot: landed.slot,
                    err: landed.status.clone().err().map(Into::into),
                    memo: None,
                    block_time: Some(chain.block_time(landed.slot)),
                    confirmation_status: Some(confirmation(chain, landed)),
                    transaction_index: Some(landed.index),
                })
                .collect();
            Ok(json!(found))
        }
        "getTransaction" => {
            let signature = parse_signature(&required::<String>(params, 0)?)?;
            let config = transaction_config(params.get(1))?;
            let max_slot = chain.slot_at(commitment(config.commitment));
            match chain.transaction(&signature).filter(|landed| landed.slot <= max_slot) {
                None => Ok(Value::Null),
                Some(landed) => Ok(json!(encode_transaction(chain, landed, &config)?)),
            }
        }
        "sendTransaction" => {
            let encoded: String = required(params, 0)?;
            let config: RpcSendTransactionConfig = optional(params, 1)?.unwrap_or_default();
            let transaction = decode_transaction(&encoded, config.encoding.unwrap_or(UiTransactionEncoding::Base58))?;
            let signature = chain.send(transaction, !config.skip_preflight).map_err(refused)?;
            Ok(json!(signature.to_string()))
        }
        "simulateTransaction" => {
            let encoded: String = required(params, 0)?;
            let config: RpcSimulateTransactionConfig = optional(params, 1)?.unwrap_or_default();
            let mut transaction =
                decode_transaction(&encoded, config.encoding.unwrap_or(UiTransactionEncoding::Base58))?;
            if config.sig_verify && config.replace_recent_blockhash {
                return Err(RpcError::params("sigVerify may not be used with replaceRecentBlockhash"));
            }
            let replacement = config.replace_recent_blockhash.then(|| {
                let (blockhash, last_valid_block_height) = chain.latest_blockhash();
                transaction.message.set_recent_blockhash(blockhash);
                RpcBlockhash { blockhash: blockhash.to_string(), last_valid_block_height }
            });
            let (status, meta) = chain.simulate(&transaction, config.sig_verify).map_err(refused)?;
            let accounts = config
                .accounts
                .map(|wanted| {
                    let encoding = RpcAccountInfoConfig { encoding: wanted.encoding, ..Default::default() };
                    wanted
                        .addresses
                        .iter()
                        .map(|a| {
                            let address = parse_pubkey(a)?;
                            Ok(chain.account(&address).map(|account| ui_account(&account, &encoding)))
                        })
                        .collect::<Result<Vec<_>, RpcError>>()
                })
                .transpose()?;
            let inner_instructions = config.inner_instructions.then(|| ui_inner_instructions(&meta));
            with_context(
                chain,
                RpcSimulateTransactionResult {
                    accounts,
                    inner_instructions,
                    replacement_blockhash: replacement,
                    fee: Some(meta.fee),
                    ..simulation_result(status.err(), &meta)
                },
            )
        }
        "requestAirdrop" => {
            let to = pubkey(params, 0)?;
            let lamports: u64 = required(params, 1)?;
            let signature = chain.airdrop(&to, lamports).map_err(refused)?;
            Ok(json!(signature.to_string()))
        }
        _ => Err(RpcError::new(METHOD_NOT_FOUND, format!("Method not found: {method}"))),
    }
}

fn with_context(chain: &Chain, value: impl serde::Serialize) -> RpcResult {
    Ok(json!({"context": {"slot": chain.slot(), "apiVersion": SOLANA_CORE_VERSION}, "value": value}))
}
