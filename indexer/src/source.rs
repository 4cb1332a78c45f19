//! Where batches come from. [`RpcSource`] reads a cluster over JSON-RPC: a snapshot of every program account
//! and a backfill of the program's transaction history on first start, then the signatures newer than the
//! checkpoint, listed once (newest first down to it) and read oldest first in batches with their transactions'
//! events and the program accounts they touched. The checkpoint only moves with a committed batch, so a dropped
//! connection or a crash leaves no gap: the next poll starts from the last transaction applied.
//!
//! A node that does not know the checkpoint's transaction is never trusted blindly: a node on another ledger
//! (reset, another cluster: its genesis differs) or one that has not reached the checkpoint's slot stalls the
//! source, and one that no longer has the history stalls it too; nothing is applied or deleted until it
//! catches up. A node on the same ledger, past the slot, with the history, has dropped the transaction with
//! its fork: reading resumes by slot from the checkpoint's. Finality deletes only what a finalized block
//! proves absent. Websocket subscriptions (`logsSubscribe`) would only
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
use crate::store::{Batch, Checkpoint};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("RPC: {0}")]
    Rpc(String),
    #[error("unexpected data from the node: {0}")]
    Data(String),
    #[error("cannot go on from the checkpoint: {0}")]
    Stalled(Stall),
}

/// Why a source cannot go on from the stored checkpoint. While one holds, nothing is applied or deleted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Stall {
    #[error("the node's ledger ({node}) is not the checkpoint's ({checkpoint}): reset, or another cluster")]
    LedgerReset { checkpoint: String, node: String },
    #[error("the node is at slot {node_slot}, behind the checkpoint's slot {checkpoint_slot}")]
    NodeBehind { checkpoint_slot: u64, node_slot: u64 },
    #[error("the node's history starts at slot {first_available}, after the checkpoint's slot {checkpoint_slot}")]
    HistoryPruned { checkpoint_slot: u64, first_available: u64 },
}

impl Stall {
    pub const REASONS: [&'static str; 3] = ["ledger_reset", "node_behind", "history_pruned"];

    /// The metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Stall::LedgerReset { .. } => Self::REASONS[0],
            Stall::NodeBehind { .. } => Self::REASONS[1],
            Stall::HistoryPruned { .. } => Self::REASONS[2],
        }
    }
}

/// What the finality pass learnt of transactions applied below finality.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Finality {
    /// Proven gone: a finalized block at their slot does not hold them (their fork was abandoned).
    pub dropped: Vec<String>,
    /// Neither found nor proven gone (a node behind, a block it cannot serve): kept, and asked again later.
    pub undecided: Vec<String>,
}

fn rpc(e: impl std::fmt::Display) -> SourceError {
    SourceError::Rpc(e.to_string())
}

/// A stream of batches. `checkpoint` is the store's (slot, newest applied signature) for this source.
pub trait Source: Send {
    fn name(&self) -> &str;
    fn next_batch(
        &mut self,
        checkpoint: Option<Checkpoint>,
    ) -> impl Future<Output = Result<Option<Batch>, SourceError>> + Send;

    /// What became of these transactions `(signature, slot)`, applied at a commitment below finalized and now
    /// below the finalized slot. Sources of final data drop none.
    fn finality(
        &mut self,
        _transactions: Vec<(String, u64)>,
    ) -> impl Future<Output = Result<Finality, SourceError>> + Send {
        async { Ok(Finality::default()) }
    }

    /// How many slots the reading is behind the chain's head, when the source can tell (0 when caught up).
    fn lag_slots(&self) -> Option<u64> {
        None
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
    /// The checkpoint last found unknown to the node (said once, not at every poll).
    unknown_checkpoint: Option<Signature>,
    /// Signatures listed but not yet read, oldest first, and the checkpoint signature they follow: a backlog
    /// is listed once and read in batches, so catching up is linear in its length (listing it again for
    /// every batch, newest first down to the checkpoint, would be quadratic).
    backlog: std::collections::VecDeque<(Signature, u64, bool)>,
    backlog_follows: Option<String>,
    /// The node's slot when the backlog was listed.
    head_slot: u64,
    /// Where the next finality pass starts among the slots it cannot decide at once.
    finality_turn: usize,
}

/// Blocks read per finality pass to prove transactions absent (the rest wait for the next pass).
const MAX_BLOCKS_PER_PASS: usize = 16;

fn data(e: impl std::fmt::Display) -> SourceError {
    SourceError::Data(e.to_string())
}

impl RpcSource {
    pub fn new(url: &str, program: Pubkey, commitment: CommitmentConfig) -> Self {
        RpcSource {
            name: format!("rpc:{program}"),
            rpc: RpcClient::new_with_commitment(url.to_string(), commitment),
            program,
            commitment,
            max_transactions: 500,
            unknown_checkpoint: None,
            backlog: std::collections::VecDeque::new(),
            backlog_follows: None,
            head_slot: 0,
            finality_turn: 0,
        }
    }

    /// Signatures after `until` (exclusive), or from slot `from_slot` on when given, oldest first.
    async fn signatures_after(
        &self,
        until: Option<Signature>,
        from_slot: Option<u64>,
    ) -> Result<Vec<(Signature, u64, bool)>, SourceError> {
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
            before = Some(Signature::from_str(&last.signature).map_err(data)?);
            let mut reached_floor = false;
            for status in &page {
                if from_slot.is_some_and(|floor| status.slot < floor) {
                    reached_floor = true;
                    break;
                }
                let signature = Signature::from_str(&status.signature).map_err(data)?;
                newest_first.push((signature, status.slot, status.err.is_none()));
            }
            if page.len() < 1_000 || reached_floor {
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

    fn lag_slots(&self) -> Option<u64> {
        Some(self.backlog.front().map_or(0, |(_, slot, _)| self.head_slot.saturating_sub(*slot)))
    }

    async fn finality(&mut self, transactions: Vec<(String, u64)>) -> Result<Finality, SourceError> {
        let mut unknown = Vec::new();
        for chunk in transactions.chunks(256) {
            let parsed: Vec<Signature> =
                chunk.iter().map(|(s, _)| Signature::from_str(s).map_err(data)).collect::<Result<_, _>>()?;
            let statuses = self.rpc.get_signature_statuses_with_history(&parsed).await.map_err(rpc)?.value;
            unknown.extend(chunk.iter().zip(statuses).filter(|(_, status)| status.is_none()).map(|(t, _)| t.clone()));
        }
        // A node that does not know a transaction has not proven it gone (it may lag, or be another node behind
        // a load balancer): only the finalized chain does, by a block at its slot that does not hold it, or by
        // having no block at that slot at all (the fork that had one was abandoned).
        let mut finality = Finality::default();
        let slots: Vec<u64> = unknown.iter().map(|(_, slot)| *slot).collect::<BTreeSet<_>>().into_iter().collect();
        // Each pass asks about a different share of the slots, so that some that cannot be decided never keep
        // the rest from being asked.
        let start = self.finality_turn % slots.len().max(1);
        self.finality_turn = self.finality_turn.wrapping_add(MAX_BLOCKS_PER_PASS);
        let asked: Vec<u64> =
            slots.iter().cycle().skip(start).take(slots.len().min(MAX_BLOCKS_PER_PASS)).copied().collect();
        // A node's list of finalized blocks is proof only where its history reaches.
        let first_available = self.rpc.get_first_available_block().await.map_err(rpc)?;
        let finalized_blocks = match (asked.iter().min(), asked.iter().max()) {
            (Some(&low), Some(&high)) if low >= first_available => self
                .rpc
                .get_blocks_with_commitment(low, Some(high), CommitmentConfig::finalized())
                .await
                .ok()
                .map(|blocks| blocks.into_iter().collect::<BTreeSet<u64>>()),
            _ => None,
        };
        let mut blocks = std::collections::BTreeMap::new();
        for slot in asked {
            let skipped = finalized_blocks.as_ref().is_some_and(|b| !b.contains(&slot));
            if skipped {
                blocks.insert(slot, Vec::new());
                continue;
            }
            let config = solana_rpc_client_api::config::RpcBlockConfig {
                encoding: None,
                transaction_details: Some(solana_transaction_status_client_types::TransactionDetails::Signatures),
                rewards: Some(false),
                commitment: Some(CommitmentConfig::finalized()),
                max_supported_transaction_version: Some(0),
            };
            if let Ok(block) = self.rpc.get_block_with_config(slot, config).await {
                blocks.insert(slot, block.signatures.unwrap_or_default());
            }
        }
        for (signature, slot) in unknown {
            match blocks.get(&slot) {
                Some(held) if !held.contains(&signature) => finality.dropped.push(signature),
                Some(_) => {}
                None => finality.undecided.push(signature),
            }
        }
        Ok(finality)
    }

    async fn resnapshot(&mut self) -> Result<Batch, SourceError> {
        let slot = self.rpc.get_slot_with_commitment(self.commitment).await.map_err(rpc)?;
        Ok(Batch { accounts: self.snapshot(slot).await?, ..Batch::default() })
    }

    async fn next_batch(&mut self, checkpoint: Option<Checkpoint>) -> Result<Option<Batch>, SourceError> {
        let first_start = checkpoint.is_none();
        let follows = checkpoint.as_ref().and_then(|c| c.signature.clone());
        let mut ledger = None;
        if self.backlog.is_empty() || first_start || self.backlog_follows != follows {
            let node_ledger = self.rpc.get_genesis_hash().await.map_err(rpc)?.to_string();
            let until = follows.as_deref().map(Signature::from_str).transpose().map_err(data)?;
            let mut from_slot = None;
            if let Some(stored) = checkpoint.as_ref().and_then(|c| c.ledger.as_deref()).filter(|l| *l != node_ledger) {
                let stall = Stall::LedgerReset { checkpoint: stored.to_string(), node: node_ledger };
                return Err(SourceError::Stalled(stall));
            }
            if let (Some(checkpoint), Some(until)) = (&checkpoint, until) {
                from_slot = self.resume_slot(checkpoint, &until).await?;
            }
            // Past a checkpoint the node no longer has, by slot; otherwise after the checkpoint's transaction.
            self.head_slot = self.rpc.get_slot_with_commitment(self.commitment).await.map_err(rpc)?;
            self.backlog = self.signatures_after(until.filter(|_| from_slot.is_none()), from_slot).await?.into();
            self.backlog_follows = follows;
            ledger = Some(node_ledger);
        }
        let finalized_slot = self.rpc.get_slot_with_commitment(CommitmentConfig::finalized()).await.map_err(rpc)?;
        let mut batch = Batch { finalized_slot: Some(finalized_slot), ledger, ..Batch::default() };
        if first_start {
            // Accounts as of now; the history then only contributes events.
            let slot = self.rpc.get_slot_with_commitment(self.commitment).await.map_err(rpc)?;
            batch.accounts = self.snapshot(slot).await?;
            batch.checkpoint = Some((slot, None));
        }
        if self.backlog.is_empty() {
            return Ok((first_start).then_some(batch));
        }
        let take = self.backlog.len().min(self.max_transactions);
        let signatures: Vec<(Signature, u64, bool)> = self.backlog.iter().take(take).copied().collect();
        let mut touched = BTreeSet::new();
        for (signature, slot, succeeded) in &signatures {
            if *succeeded {
                // A node that cannot serve a listed transaction may have changed under the backlog (a reset):
                // the next step lists afresh, with every check.
                let (record, keys) = self.transaction(signature).await.inspect_err(|_| self.backlog.clear())?;
                batch.events.extend(events_of(&record, &self.program));
                touched.extend(keys);
            }
            batch.checkpoint = Some((*slot, Some(signature.to_string())));
        }
        if !first_start {
            let touched: Vec<Pubkey> = touched.into_iter().collect();
            batch.accounts = self.accounts(&touched).await.inspect_err(|_| self.backlog.clear())?;
        }
        // The rest follows this batch's last transaction, once the store has it as the checkpoint.
        self.backlog.drain(..take);
        self.backlog_follows = batch.checkpoint.as_ref().and_then(|(_, s)| s.clone());
        Ok(Some(batch))
    }
}

impl RpcSource {
    /// Checks that the node can go on from `checkpoint`: `None` when it knows its transaction; the slot to
    /// resume from when the transaction is gone with its fork; a stall otherwise.
    async fn resume_slot(&mut self, checkpoint: &Checkpoint, until: &Signature) -> Result<Option<u64>, SourceError> {
        let status = self.rpc.get_signature_statuses_with_history(&[*until]).await.map_err(rpc)?.value;
        if status.first().is_some_and(Option::is_some) {
            return Ok(None);
        }
        let node_slot = self.rpc.get_slot_with_commitment(self.commitment).await.map_err(rpc)?;
        if node_slot < checkpoint.slot {
            return Err(SourceError::Stalled(Stall::NodeBehind { checkpoint_slot: checkpoint.slot, node_slot }));
        }
        let first_available = self.rpc.get_first_available_block().await.map_err(rpc)?;
        if first_available > checkpoint.slot {
            let stall = Stall::HistoryPruned { checkpoint_slot: checkpoint.slot, first_available };
            return Err(SourceError::Stalled(stall));
        }
        // The surviving fork may hold transactions below the checkpoint's slot that were never read: from the
        // finalized slot on, everything is read again (applying a transaction twice changes nothing).
        let finalized = self.rpc.get_slot_with_commitment(CommitmentConfig::finalized()).await.map_err(rpc)?;
        let from = checkpoint.slot.min(finalized);
        if self.unknown_checkpoint != Some(*until) {
            tracing::warn!(slot = from, signature = %until, "checkpoint unknown to the node; reading on by slot");
            self.unknown_checkpoint = Some(*until);
        }
        Ok(Some(from))
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
