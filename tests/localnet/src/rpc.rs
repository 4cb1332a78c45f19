//! Solana's JSON-RPC over a [`Chain`]: the methods a client, the SDK, the services and `anchor`/`solana` tools
//! use, with the request and response types of the RPC crates themselves (so the shapes cannot drift from what
//! `solana-rpc-client` parses), and the same error codes and texts as Agave where a client reads them.

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use solana_account::Account;
use solana_account_decoder_client_types::{UiAccount, UiAccountData, UiAccountEncoding};
use solana_commitment_config::CommitmentConfig;
use solana_hash::Hash;
use solana_message::VersionedMessage;
use solana_pubkey::Pubkey;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcContextConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
    RpcSignatureStatusConfig, RpcSignaturesForAddressConfig, RpcSimulateTransactionConfig, RpcTransactionConfig,
};
use solana_rpc_client_api::custom_error::{
    JSON_RPC_SERVER_ERROR_BLOCK_NOT_AVAILABLE, JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
    JSON_RPC_SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
    JSON_RPC_SERVER_ERROR_UNSUPPORTED_TRANSACTION_VERSION,
};
use solana_rpc_client_api::filter::RpcFilterType;
use solana_rpc_client_api::response::{
    RpcBlockhash, RpcConfirmedTransactionStatusWithSignature, RpcKeyedAccount, RpcSimulateTransactionResult,
};
use solana_signature::Signature;
use solana_transaction::versioned::{TransactionVersion, VersionedTransaction};
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, EncodedTransaction, EncodedTransactionWithStatusMeta, InnerInstruction,
    InnerInstructions, TransactionBinaryEncoding, TransactionConfirmationStatus, TransactionStatus,
    TransactionStatusMeta, UiCompiledInstruction, UiInnerInstructions, UiInstruction, UiMessage, UiRawMessage,
    UiTransaction, UiTransactionEncoding, UiTransactionReturnData, UiTransactionStatusMeta,
};

use crate::chain::{Chain, Landed, Refusal, SLOTS_PER_EPOCH};

/// What the node reports as its version: the Agave release whose RPC types it speaks.
pub const SOLANA_CORE_VERSION: &str = "4.2.2";

const INVALID_PARAMS: i64 = -32602;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_REQUEST: i64 = -32600;
const PARSE_ERROR: i64 = -32700;

#[derive(Debug)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError { code, message: message.into(), data: None }
    }

    fn params(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_PARAMS, message)
    }
}

type RpcResult = Result<Value, RpcError>;

pub type SharedChain = Arc<Mutex<Chain>>;

/// Serves JSON-RPC (`POST /`) on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    chain: SharedChain,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new().route("/", axum::routing::post(rpc)).with_state(chain);
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

async fn rpc(
    axum::extract::State(chain): axum::extract::State<SharedChain>,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    // Execution holds the chain's lock for milliseconds: off the async workers.
    let response = tokio::task::spawn_blocking(move || handle_body(&chain, &body)).await.expect("RPC handler");
    axum::Json(response)
}

/// One JSON-RPC request body (a single call or a batch) → the response body.
pub fn handle_body(chain: &SharedChain, body: &[u8]) -> Value {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(calls)) if !calls.is_empty() => {
            Value::Array(calls.iter().map(|c| handle_call(chain, c)).collect())
        }
        Ok(call @ Value::Object(_)) => handle_call(chain, &call),
        Ok(_) => envelope(&Value::Null, Err(RpcError::new(INVALID_REQUEST, "Invalid request"))),
        Err(e) => envelope(&Value::Null, Err(RpcError::new(PARSE_ERROR, format!("Parse error: {e}")))),
    }
}

fn handle_call(chain: &SharedChain, call: &Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = call.get("method").and_then(Value::as_str) else {
        return envelope(&id, Err(RpcError::new(INVALID_REQUEST, "Invalid request: no method")));
    };
    let params = match call.get("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(params)) => params.clone(),
        Some(_) => return envelope(&id, Err(RpcError::params("params must be an array"))),
    };
    let mut chain = chain.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    chain.tick();
    envelope(&id, dispatch(&mut chain, method, &params))
}

fn envelope(id: &Value, result: RpcResult) -> Value {
    match result {
        Ok(result) => json!({"jsonrpc": "2.0", "result": result, "id": id}),
        Err(RpcError { code, message, data }) => {
            let mut error = json!({"code": code, "message": message});
            if let Some(data) = data {
                error["data"] = data;
            }
            json!({"jsonrpc": "2.0", "error": error, "id": id})
        }
    }
}

fn dispatch(chain: &mut Chain, method: &str, params: &[Value]) -> RpcResult {
    match method {
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({"solana-core": SOLANA_CORE_VERSION, "feature-set": 0})),
        "getGenesisHash" => Ok(json!(Hash::new_from_array([7; 32]).to_string())),
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

fn commitment(config: Option<CommitmentConfig>) -> CommitmentConfig {
    config.unwrap_or_else(CommitmentConfig::finalized)
}

fn required<T: DeserializeOwned>(params: &[Value], index: usize) -> Result<T, RpcError> {
    let value = params.get(index).ok_or_else(|| RpcError::params(format!("missing parameter {index}")))?;
    serde_json::from_value(value.clone()).map_err(|e| RpcError::params(format!("invalid parameter {index}: {e}")))
}

fn optional<T: DeserializeOwned>(params: &[Value], index: usize) -> Result<Option<T>, RpcError> {
    match params.get(index) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => required(params, index).map(Some),
    }
}

fn parse_pubkey(text: &str) -> Result<Pubkey, RpcError> {
    Pubkey::from_str(text).map_err(|e| RpcError::params(format!("Invalid param: {e}")))
}

fn pubkey(params: &[Value], index: usize) -> Result<Pubkey, RpcError> {
    parse_pubkey(&required::<String>(params, index)?)
}

fn parse_signature(text: &str) -> Result<Signature, RpcError> {
    Signature::from_str(text).map_err(|e| RpcError::params(format!("Invalid param: {e}")))
}

/// `getTransaction`'s second parameter: a config object, or (older clients) the encoding alone.
fn transaction_config(param: Option<&Value>) -> Result<RpcTransactionConfig, RpcError> {
    match param {
        None | Some(Value::Null) => Ok(RpcTransactionConfig::default()),
        Some(Value::String(_)) => Ok(RpcTransactionConfig {
            encoding: serde_json::from_value(param.cloned().unwrap()).map_err(|e| RpcError::params(e.to_string()))?,
            ..RpcTransactionConfig::default()
        }),
        Some(value) => serde_json::from_value(value.clone()).map_err(|e| RpcError::params(e.to_string())),
    }
}

fn decode_transaction(encoded: &str, encoding: UiTransactionEncoding) -> Result<VersionedTransaction, RpcError> {
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

fn refused(refusal: Refusal) -> RpcError {
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
fn simulation_result(
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

fn passes(filter: &RpcFilterType, account: &Account) -> bool {
    match filter {
        RpcFilterType::DataSize(size) => account.data.len() as u64 == *size,
        RpcFilterType::Memcmp(compare) => compare.bytes_match(&account.data),
        // An initialised SPL token account: 165 bytes with its state byte (offset 108) set.
        RpcFilterType::TokenAccountState => account.data.len() >= 165 && account.data[108] != 0,
    }
}

fn ui_account(account: &Account, config: &RpcAccountInfoConfig) -> UiAccount {
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

fn confirmation(chain: &Chain, landed: &Landed) -> TransactionConfirmationStatus {
    if landed.slot <= chain.finalized_slot() {
        TransactionConfirmationStatus::Finalized
    } else {
        TransactionConfirmationStatus::Confirmed
    }
}

fn status_of(chain: &Chain, landed: &Landed) -> TransactionStatus {
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

fn ui_inner_instructions(meta: &litesvm::types::TransactionMetadata) -> Vec<UiInnerInstructions> {
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

fn encode_transaction(
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
