//! Encoding answers: accounts, transaction statuses, simulations, landed transactions and refusals, in the RPC
//! crates' own types.

use base64::Engine;
use serde_json::json;
use solana_account::Account;
use solana_account_decoder_client_types::{UiAccount, UiAccountData, UiAccountEncoding};
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcTransactionConfig};
use solana_rpc_client_api::custom_error::{
    JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
    JSON_RPC_SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
    JSON_RPC_SERVER_ERROR_UNSUPPORTED_TRANSACTION_VERSION,
};
use solana_rpc_client_api::filter::RpcFilterType;
use solana_rpc_client_api::response::RpcSimulateTransactionResult;
use solana_transaction::versioned::TransactionVersion;
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, EncodedTransaction, EncodedTransactionWithStatusMeta, InnerInstruction,
    InnerInstructions, TransactionBinaryEncoding, TransactionConfirmationStatus, TransactionStatus,
    TransactionStatusMeta, UiCompiledInstruction, UiInnerInstructions, UiInstruction, UiMessage, UiRawMessage,
    UiTransaction, UiTransactionEncoding, UiTransactionReturnData, UiTransactionStatusMeta,
};

use super::RpcError;
use crate::chain::{Chain, Landed, Refusal};

pub(super) fn refused(refusal: Refusal) -> RpcError {
    match refusal {
        Refusal::SignatureFailure => RpcError::new(
            JSON_RPC_SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
            "Transaction signature verification failure",
        ),
        Refusal::Sanitize(reason) => RpcError::params(format!("invalid transaction: {reason}")),
        Refusal::Preflight { error, meta } => {
            let result = simulation_result(Some(error.clone()), &meta);
            RpcError {
                code: JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
                message: format!("Transaction simulation failed: {error}"),
                data: Some(json!(result)),
            }
        }
    }
}

/// What a simulation says, as `simulateTransaction` and a refused preflight report it (the caller adds what
/// only its method reports).
pub(super) fn simulation_result(
    error: Option<solana_transaction_error::TransactionError>,
    meta: &litesvm::types::TransactionMetadata,
) -> RpcSimulateTransactionResult {
    RpcSimulateTransactionResult {
        err: error.map(Into::into),
        logs: Some(meta.logs.clone()),
        accounts: None,
        units_consumed: Some(meta.compute_units_consumed),
        loaded_accounts_data_size: None,
        return_data: return_data(meta),
        inner_instructions: None,
        replacement_blockhash: None,
        fee: None,
        pre_balances: None,
        post_balances: None,
        pre_token_balances: None,
        post_token_balances: None,
        loaded_addresses: None,
    }
}

pub(super) fn passes(filter: &RpcFilterType, account: &Account) -> bool {
    match filter {
        RpcFilterType::DataSize(size) => account.data.len() as u64 == *size,
        RpcFilterType::Memcmp(compare) => compare.bytes_match(&account.data),
        // An initialised SPL token account: 165 bytes with its state byte (offset 108) set.
        RpcFilterType::TokenAccountState => account.data.len() >= 165 && account.data[108] != 0,
    }
}

pub(super) fn ui_account(account: &Account, config: &RpcAccountInfoConfig) -> UiAccount {
    let data = match config.data_slice {
        Some(slice) => {
            let start = slice.offset.min(account.data.len());
            &account.data[start..start.saturating_add(slice.length).min(account.data.len())]
        }
        None => &account.data[..],
    };
    let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let data = match config.encoding.unwrap_or(UiAccountEncoding::Binary) {
        UiAccountEncoding::Binary => UiAccountData::LegacyBinary(bs58::encode(data).into_string()),
        UiAccountEncoding::Base58 => UiAccountData::Binary(bs58::encode(data).into_string(), UiAccountEncoding::Base58),
        UiAccountEncoding::Base64Zstd => match zstd::encode_all(data, 0) {
            Ok(compressed) => UiAccountData::Binary(base64(&compressed), UiAccountEncoding::Base64Zstd),
            Err(_) => UiAccountData::Binary(base64(data), UiAccountEncoding::Base64),
        },
        // jsonParsed needs Agave's account parsers; like a node that cannot parse an account, answer base64.
        UiAccountEncoding::Base64 | UiAccountEncoding::JsonParsed => {
            UiAccountData::Binary(base64(data), UiAccountEncoding::Base64)
        }
    };
    UiAccount {
        lamports: account.lamports,
        data,
        owner: account.owner.to_string(),
        executable: account.executable,
        rent_epoch: account.rent_epoch,
        space: Some(account.data.len() as u64),
    }
}

pub(super) fn confirmation(chain: &Chain, landed: &Landed) -> TransactionConfirmationStatus {
    if landed.slot <= chain.finalized_slot() {
        TransactionConfirmationStatus::Finalized
    } else {
        TransactionConfirmationStatus::Confirmed
    }
}

pub(super) fn status_of(chain: &Chain, landed: &Landed) -> TransactionStatus {
    let finalized = landed.slot <= chain.finalized_slot();
    TransactionStatus {
        slot: landed.slot,
        confirmations: (!finalized).then(|| (chain.slot() - landed.slot) as usize),
        status: landed.status.clone(),
        err: landed.status.clone().err(),
        confirmation_status: Some(confirmation(chain, landed)),
    }
}

fn return_data(meta: &litesvm::types::TransactionMetadata) -> Option<UiTransactionReturnData> {
    (!meta.return_data.data.is_empty()).then(|| meta.return_data.clone().into())
}

fn inner_instructions(meta: &litesvm::types::TransactionMetadata) -> Vec<InnerInstructions> {
    meta.inner_instructions
        .iter()
        .enumerate()
        .filter(|(_, list)| !list.is_empty())
        .map(|(index, list)| InnerInstructions {
            index: index as u8,
            instructions: list
                .iter()
                .map(|inner| InnerInstruction {
                    instruction: inner.instruction.clone(),
                    stack_height: Some(u32::from(inner.stack_height)),
                })
                .collect(),
        })
        .collect()
}

pub(super) fn ui_inner_instructions(meta: &litesvm::types::TransactionMetadata) -> Vec<UiInnerInstructions> {
    inner_instructions(meta)
        .into_iter()
        .map(|group| UiInnerInstructions {
            index: group.index,
            instructions: group
                .instructions
                .iter()
                .map(|i| UiInstruction::Compiled(UiCompiledInstruction::from(&i.instruction, i.stack_height)))
                .collect(),
        })
        .collect()
}

pub(super) fn encode_transaction(
    chain: &Chain,
    landed: &Landed,
    config: &RpcTransactionConfig,
) -> Result<EncodedConfirmedTransactionWithStatusMeta, RpcError> {
    let version = landed.transaction.version();
    if let TransactionVersion::Number(number) = version {
        if config.max_supported_transaction_version.is_none_or(|max| number > max) {
            return Err(RpcError::new(
                JSON_RPC_SERVER_ERROR_UNSUPPORTED_TRANSACTION_VERSION,
                format!(
                    "Transaction version ({number}) is not supported by the requesting client. Please try the \
                     request again with the following configuration parameter: \"maxSupportedTransactionVersion\": {number}"
                ),
            ));
        }
    }
    let encoding = config.encoding.unwrap_or(UiTransactionEncoding::Json);
    let transaction = match encoding {
        UiTransactionEncoding::Json | UiTransactionEncoding::JsonParsed => {
            let message = &landed.transaction.message;
            EncodedTransaction::Json(UiTransaction {
                signatures: landed.transaction.signatures.iter().map(ToString::to_string).collect(),
                message: UiMessage::Raw(UiRawMessage {
                    header: *message.header(),
                    account_keys: message.static_account_keys().iter().map(ToString::to_string).collect(),
                    recent_blockhash: message.recent_blockhash().to_string(),
                    instructions: message
                        .instructions()
                        .iter()
                        .map(|i| UiCompiledInstruction::from(i, Some(1)))
                        .collect(),
                    address_table_lookups: message
                        .address_table_lookups()
                        .map(|lookups| lookups.iter().map(Into::into).collect()),
                    transaction_config: None,
                }),
            })
        }
        binary => {
            let bytes = bincode::serialize(&landed.transaction).expect("a landed transaction serialises");
            match binary.into_binary_encoding() {
                Some(TransactionBinaryEncoding::Base64) => EncodedTransaction::Binary(
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                    TransactionBinaryEncoding::Base64,
                ),
                _ => EncodedTransaction::Binary(bs58::encode(bytes).into_string(), TransactionBinaryEncoding::Base58),
            }
        }
    };
    let meta = TransactionStatusMeta {
        status: landed.status.clone(),
        fee: landed.meta.fee,
        pre_balances: landed.pre_balances.clone(),
        post_balances: landed.post_balances.clone(),
        inner_instructions: Some(inner_instructions(&landed.meta)),
        log_messages: Some(landed.meta.logs.clone()),
        pre_token_balances: Some(Vec::new()),
        post_token_balances: Some(Vec::new()),
        rewards: Some(Vec::new()),
        loaded_addresses: landed.loaded.clone(),
        return_data: (!landed.meta.return_data.data.is_empty()).then(|| landed.meta.return_data.clone()),
        compute_units_consumed: Some(landed.meta.compute_units_consumed),
        cost_units: None,
    };
    Ok(EncodedConfirmedTransactionWithStatusMeta {
        slot: landed.slot,
        transaction: EncodedTransactionWithStatusMeta {
            transaction,
            meta: Some(UiTransactionStatusMeta::from(meta)),
            version: config.max_supported_transaction_version.map(|_| version),
        },
        block_time: Some(chain.block_time(landed.slot)),
        transaction_index: Some(landed.index),
    })
}
