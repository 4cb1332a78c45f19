//! Where batches come from. [`RpcSource`] reads a cluster over JSON-RPC: a snapshot of every program account
//! and a backfill of the program's transaction history on first start, then, every poll, the signatures newer
//! than the checkpoint (oldest first, in pages) with their transactions' events and the program accounts they
//! touched. The checkpoint only moves with a committed batch, so a dropped connection or a crash leaves no gap:
//! the next poll starts from the last transaction applied. Websocket subscriptions (`logsSubscribe`) would only
//! lower latency below the poll interval; Yellowstone gRPC is the next step for mainnet scale.

use std::collections::BTreeSet;
use std::future::Future;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcTransactionConfig};
use solana_signature::Signature;
use solana_transaction_status_client_types::option_serializer::OptionSerializer;
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, EncodedTransaction, UiInstruction, UiMessage, UiTransactionEncoding,
};

use crate::decode::{events_of, AccountRecord, InnerInstruction, TransactionRecord};
use crate::store::Batch;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("RPC: {0}")]
    Rpc(String),
    #[error("unexpected data from the node: {0}")]
    Data(String),
}

fn rpc(e: impl std::fmt::Display) -> SourceError {
    SourceError::Rpc(e.to_string())
}

/// A stream of batches. `checkpoint` is the store's (slot, newest applied signature) for this source.
pub trait Source: Send {
    fn name(&self) -> &str;
    fn next_batch(
        &mut self,
        checkpoint: Option<(u64, Option<String>)>,
    ) -> impl Future<Output = Result<Option<Batch>, SourceError>> + Send;

    /// Which of these signatures, applied at a commitment below finalized, the cluster no longer has (its fork
    /// was abandoned). Sources of final data have none.
    fn dropped(&mut self, _signatures: Vec<String>) -> impl Future<Output = Result<Vec<String>, SourceError>> + Send {
        async { Ok(Vec::new()) }
    }

    /// Every program account as of now, to correct what a rolled-back transaction wrote.
    fn resnapshot(&mut self) -> impl Future<Output = Result<Batch, SourceError>> + Send {
        async { Ok(Batch::default()) }
    }
}

pub struct RpcSource {
    name: String,
    rpc: RpcClient,
    program: Pubkey,
    commitment: CommitmentConfig,
    /// Most transactions per batch.
    pub max_transactions: usize,
}

impl RpcSource {
    pub fn new(url: &str, program: Pubkey, commitment: CommitmentConfig) -> Self {
        RpcSource {
            name: format!("rpc:{program}"),
            rpc: RpcClient::new_with_commitment(url.to_string(), commitment),
            program,
            commitment,
            max_transactions: 500,
        }
    }

    /// Signatures after `until` (exclusive), oldest first.
    async fn signatures_after(&self, until: Option<Signature>) -> Result<Vec<(Signature, u64, bool)>, SourceError> {
        let mut newest_first = Vec::new();
        let mut before = None;
        loop {
            let config = GetConfirmedSignaturesForAddress2Config {
                before,
                until,
                limit: Some(1_000),
                commitment: Some(self.commitment),
            };
            let page = self.rpc.get_signatures_for_address_with_config(&self.program, config).await.map_err(rpc)?;
            let Some(last) = page.last() else { break };
            before = Some(Signature::from_str(&last.signature).map_err(|e| SourceError::Data(e.to_string()))?);
            for status in &page {
                let signature = Signature::from_str(&status.signature).map_err(|e| SourceError::Data(e.to_string()))?;
                newest_first.push((signature, status.slot, status.err.is_none()));
            }
            if page.len() < 1_000 {
                break;
            }
        }
        newest_first.reverse();
        Ok(newest_first)
    }

    async fn transaction(&self, signature: &Signature) -> Result<(TransactionRecord, Vec<Pubkey>), SourceError> {
        let config = RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Json),
            commitment: Some(self.commitment),
            max_supported_transaction_version: Some(0),
        };
        let found = self.rpc.get_transaction_with_config(signature, config).await.map_err(rpc)?;
        record_of(signature, found)
    }

    async fn snapshot(&self, slot: u64) -> Result<Vec<AccountRecord>, SourceError> {
        let config = RpcProgramAccountsConfig {
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(self.commitment),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let accounts = self.rpc.get_program_ui_accounts_with_config(&self.program, config).await.map_err(rpc)?;
        accounts
            .into_iter()
            .map(|(address, ui)| {
                let data = ui.data.decode().ok_or_else(|| SourceError::Data(format!("account {address}")))?;
                Ok(AccountRecord { address, slot, data: Some(data) })
            })
            .collect()
    }

    /// The current state of `addresses`: program accounts with their data, anything else as closed.
    async fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<AccountRecord>, SourceError> {
        let mut records = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(100) {
            let response = self.rpc.get_multiple_accounts_with_commitment(chunk, self.commitment).await.map_err(rpc)?;
            let slot = response.context.slot;
            for (address, account) in chunk.iter().zip(response.value) {
                let data = account.filter(|a| a.owner == self.program && a.lamports > 0).map(|a| a.data);
                records.push(AccountRecord { address: *address, slot, data });
            }
        }
        Ok(records)
    }
}

impl Source for RpcSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn dropped(&mut self, signatures: Vec<String>) -> Result<Vec<String>, SourceError> {
        let mut dropped = Vec::new();
        for chunk in signatures.chunks(256) {
            let parsed: Vec<Signature> = chunk
                .iter()
                .map(|s| Signature::from_str(s).map_err(|e| SourceError::Data(e.to_string())))
                .collect::<Result<_, _>>()?;
            let statuses = self.rpc.get_signature_statuses_with_history(&parsed).await.map_err(rpc)?.value;
            dropped.extend(chunk.iter().zip(statuses).filter(|(_, status)| status.is_none()).map(|(s, _)| s.clone()));
        }
        Ok(dropped)
    }

    async fn resnapshot(&mut self) -> Result<Batch, SourceError> {
        let slot = self.rpc.get_slot_with_commitment(self.commitment).await.map_err(rpc)?;
        Ok(Batch { accounts: self.snapshot(slot).await?, ..Batch::default() })
    }

    async fn next_batch(&mut self, checkpoint: Option<(u64, Option<String>)>) -> Result<Option<Batch>, SourceError> {
        let until = match checkpoint.as_ref().and_then(|(_, s)| s.as_deref()) {
            Some(text) => Some(Signature::from_str(text).map_err(|e| SourceError::Data(e.to_string()))?),
            None => None,
        };
        let first_start = checkpoint.is_none();
        let mut signatures = self.signatures_after(until).await?;
        let finalized_slot = self.rpc.get_slot_with_commitment(CommitmentConfig::finalized()).await.map_err(rpc)?;
        let mut batch = Batch { finalized_slot: Some(finalized_slot), ..Batch::default() };
        if first_start {
            // Accounts as of now; the history then only contributes events.
            let slot = self.rpc.get_slot_with_commitment(self.commitment).await.map_err(rpc)?;
            batch.accounts = self.snapshot(slot).await?;
            batch.checkpoint = Some((slot, None));
        }
        if signatures.is_empty() {
            return Ok((first_start).then_some(batch));
        }
        signatures.truncate(self.max_transactions);
        let mut touched = BTreeSet::new();
        for (signature, slot, succeeded) in &signatures {
            if *succeeded {
                let (record, keys) = self.transaction(signature).await?;
                batch.events.extend(events_of(&record, &self.program));
                touched.extend(keys);
            }
            batch.checkpoint = Some((*slot, Some(signature.to_string())));
        }
        if !first_start {
            let touched: Vec<Pubkey> = touched.into_iter().collect();
            batch.accounts = self.accounts(&touched).await?;
        }
        Ok(Some(batch))
    }
}

/// A transaction as the node returned it (JSON encoding) → its record and every account it referenced.
fn record_of(
    signature: &Signature,
    found: EncodedConfirmedTransactionWithStatusMeta,
) -> Result<(TransactionRecord, Vec<Pubkey>), SourceError> {
    let EncodedTransaction::Json(transaction) = found.transaction.transaction else {
        return Err(SourceError::Data(format!("transaction {signature} not in JSON encoding")));
    };
    let UiMessage::Raw(message) = transaction.message else {
        return Err(SourceError::Data(format!("transaction {signature} has a parsed message")));
    };
    let meta = found.transaction.meta.ok_or_else(|| SourceError::Data(format!("{signature} has no meta")))?;
    let mut keys = message.account_keys.clone();
    if let OptionSerializer::Some(loaded) = &meta.loaded_addresses {
        keys.extend(loaded.writable.iter().cloned());
        keys.extend(loaded.readonly.iter().cloned());
    }
    let keys: Vec<Pubkey> = keys
        .iter()
        .map(|k| Pubkey::from_str(k).map_err(|e| SourceError::Data(e.to_string())))
        .collect::<Result<_, _>>()?;
    let mut inner_instructions = Vec::new();
    if let OptionSerializer::Some(groups) = meta.inner_instructions {
        for group in groups {
            for instruction in group.instructions {
                let UiInstruction::Compiled(compiled) = instruction else { continue };
                let Some(program_id) = keys.get(usize::from(compiled.program_id_index)) else { continue };
                let data = bs58::decode(&compiled.data).into_vec().map_err(|e| SourceError::Data(e.to_string()))?;
                inner_instructions.push(InnerInstruction {
                    outer_index: u16::from(group.index),
                    program_id: *program_id,
                    data,
                });
            }
        }
    }
    let record = TransactionRecord {
        signature: signature.to_string(),
        slot: found.slot,
        block_time: found.block_time,
        inner_instructions,
    };
    Ok((record, keys))
}
