//! Reading a call's parameters: positional values, addresses, signatures, configs and encoded transactions.

use std::str::FromStr;

use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::Value;
use solana_commitment_config::CommitmentConfig;
use solana_pubkey::Pubkey;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_status_client_types::{TransactionBinaryEncoding, UiTransactionEncoding};

use super::RpcError;

pub(super) fn commitment(config: Option<CommitmentConfig>) -> CommitmentConfig {
    config.unwrap_or_else(CommitmentConfig::finalized)
}

pub(super) fn required<T: DeserializeOwned>(params: &[Value], index: usize) -> Result<T, RpcError> {
    let value = params.get(index).ok_or_else(|| RpcError::params(format!("missing parameter {index}")))?;
    serde_json::from_value(value.clone()).map_err(|e| RpcError::params(format!("invalid parameter {index}: {e}")))
}

pub(super) fn optional<T: DeserializeOwned>(params: &[Value], index: usize) -> Result<Option<T>, RpcError> {
    match params.get(index) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => required(params, index).map(Some),
    }
}

pub(super) fn parse_pubkey(text: &str) -> Result<Pubkey, RpcError> {
    Pubkey::from_str(text).map_err(|e| RpcError::params(format!("Invalid param: {e}")))
}

pub(super) fn pubkey(params: &[Value], index: usize) -> Result<Pubkey, RpcError> {
    parse_pubkey(&required::<String>(params, index)?)
}

pub(super) fn parse_signature(text: &str) -> Result<Signature, RpcError> {
    Signature::from_str(text).map_err(|e| RpcError::params(format!("Invalid param: {e}")))
}

/// `getTransaction`'s second parameter: a config object, or (older clients) the encoding alone.
pub(super) fn transaction_config(param: Option<&Value>) -> Result<RpcTransactionConfig, RpcError> {
    match param {
        None | Some(Value::Null) => Ok(RpcTransactionConfig::default()),
        Some(Value::String(_)) => Ok(RpcTransactionConfig {
            encoding: serde_json::from_value(param.cloned().unwrap()).map_err(|e| RpcError::params(e.to_string()))?,
            ..RpcTransactionConfig::default()
        }),
        Some(value) => serde_json::from_value(value.clone()).map_err(|e| RpcError::params(e.to_string())),
    }
}

pub(super) fn decode_transaction(
    encoded: &str,
    encoding: UiTransactionEncoding,
) -> Result<VersionedTransaction, RpcError> {
    let bytes = match encoding.into_binary_encoding() {
        Some(TransactionBinaryEncoding::Base58) => bs58::decode(encoded).into_vec().map_err(|e| e.to_string()),
        Some(TransactionBinaryEncoding::Base64) => {
            base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|e| e.to_string())
        }
        None => {
            return Err(RpcError::params(format!(
                "unsupported encoding: {encoding}. Supported encodings: base58, base64"
            )))
        }
    }
    .map_err(|e| RpcError::params(format!("invalid transaction: {e}")))?;
    bincode::deserialize(&bytes).map_err(|e| RpcError::params(format!("failed to deserialize transaction: {e}")))
}
