//! The client: typed account reads, transaction building with compute budgets, send-and-confirm with retries,
//! parallel batches, and unsigned transactions for external (wallet) signing. It talks to a [`Backend`]: the
//! JSON-RPC one here, or any other (the tests drive the same code against LiteSVM).

use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountDeserialize, Discriminator};
use base64::Engine;
use solana_account::Account;
use solana_address_lookup_table_interface::state::AddressLookupTable;
use solana_hash::Hash;
use solana_message::{v0, AddressLookupTableAccount, Message, VersionedMessage};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;

use crate::batch::MAX_COMPUTE_UNITS;
use crate::ix;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("RPC error: {0} (is the cluster URL right and the node up?)")]
    Rpc(String),
    #[error("account {0} not found (wrong cluster, or not created yet)")]
    AccountNotFound(Pubkey),
    #[error("account {0} is not a {1}: {2}")]
    Decode(Pubkey, &'static str, String),
    #[error("transaction failed: {error}\n{}", logs.join("\n"))]
    Transaction { error: String, logs: Vec<String> },
    #[error("invalid transaction: {0}")]
    InvalidTransaction(String),
    #[error("blockhash expired {0} times; the cluster may be congested: retry with --priority-fee")]
    Expired(u32),
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// Filter for program-account searches: bytes at an offset of the account data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Memcmp {
    pub offset: usize,
    pub bytes: Vec<u8>,
}

/// Outcome of simulating a transaction.
#[derive(Clone, Debug, Default)]
pub struct Simulation {
    pub units_consumed: u64,
    pub error: Option<String>,
    pub logs: Vec<String>,
}

/// What the client needs from a cluster. Implementations must be usable from several threads for parallel
/// batches.
pub trait Backend: Sync {
    fn get_multiple_accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>>;
    fn get_program_accounts(&self, program: &Pubkey, filters: &[Memcmp]) -> Result<Vec<(Pubkey, Account)>>;
    fn latest_blockhash(&self) -> Result<Hash>;
    fn simulate(&self, transaction: &VersionedTransaction) -> Result<Simulation>;
    /// Sends and waits for confirmation. `Err(ClientError::Expired)` means the blockhash expired first.
    fn send_and_confirm(&self, transaction: &VersionedTransaction) -> Result<Signature>;
    fn unix_timestamp(&self) -> Result<i64>;
    /// The newest confirmed slot (lookup tables are created for a recent one and extended ones are usable after).
    fn slot(&self) -> Result<u64>;
}

/// Services share one backend between request handlers and background tasks.
impl<T: Backend + Send + ?Sized> Backend for std::sync::Arc<T> {
    fn get_multiple_accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>> {
        (**self).get_multiple_accounts(addresses)
    }
    fn get_program_accounts(&self, program: &Pubkey, filters: &[Memcmp]) -> Result<Vec<(Pubkey, Account)>> {
        (**self).get_program_accounts(program, filters)
    }
    fn latest_blockhash(&self) -> Result<Hash> {
        (**self).latest_blockhash()
    }
    fn simulate(&self, transaction: &VersionedTransaction) -> Result<Simulation> {
        (**self).simulate(transaction)
    }
    fn send_and_confirm(&self, transaction: &VersionedTransaction) -> Result<Signature> {
        (**self).send_and_confirm(transaction)
    }
    fn unix_timestamp(&self) -> Result<i64> {
        (**self).unix_timestamp()
    }
    fn slot(&self) -> Result<u64> {
        (**self).slot()
    }
}

/// How transactions are priced.
#[derive(Clone, Copy, Debug)]
pub struct SendOptions {
    /// Micro-lamports per compute unit; 0 for none.
    pub priority_fee: u64,
    /// Attempts with a fresh blockhash before giving up.
    pub max_attempts: u32,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions { priority_fee: 0, max_attempts: 5 }
    }
}

pub struct Client<B: Backend> {
    pub backend: B,
    pub options: SendOptions,
}

/// The result of sending many transactions as one operation.
#[derive(Debug, Default)]
pub struct BatchReport {
    pub signatures: Vec<Signature>,
    pub failures: Vec<(usize, String)>,
}

impl BatchReport {
    pub fn is_success(&self) -> bool {
        self.failures.is_empty()
    }
}

impl<B: Backend> Client<B> {
    pub fn new(backend: B) -> Self {
        Client { backend, options: SendOptions::default() }
    }

    pub fn account_raw(&self, address: &Pubkey) -> Result<Account> {
        self.backend.get_multiple_accounts(&[*address])?.pop().flatten().ok_or(ClientError::AccountNotFound(*address))
    }

    /// Fetches and decodes a program account with the program's own type (discriminator checked).
    pub fn account<T: AccountDeserialize>(&self, address: &Pubkey) -> Result<T> {
        decode(address, &self.account_raw(address)?)
    }

    /// Fetches many accounts in one round trip; missing ones are `None`.
    pub fn accounts<T: AccountDeserialize>(&self, addresses: &[Pubkey]) -> Result<Vec<Option<T>>> {
        let mut decoded = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(100) {
            for (address, account) in chunk.iter().zip(self.backend.get_multiple_accounts(chunk)?) {
                decoded.push(account.map(|a| decode(address, &a)).transpose()?);
            }
        }
        Ok(decoded)
    }

    /// All program accounts of type `T` matching `filters` (its discriminator is always added).
    pub fn search<T: AccountDeserialize + Discriminator>(&self, filters: &[Memcmp]) -> Result<Vec<(Pubkey, T)>> {
        let mut all = vec![Memcmp { offset: 0, bytes: T::DISCRIMINATOR.to_vec() }];
        all.extend_from_slice(filters);
        self.backend
            .get_program_accounts(&timelock::ID, &all)?
            .into_iter()
            .map(|(address, account)| Ok((address, decode(&address, &account)?)))
            .collect()
    }

    /// Builds a transaction with a compute-unit limit sized from simulation (+10 %) and the priority fee.
    pub fn prepare(&self, instructions: &[Instruction], payer: &Pubkey, blockhash: Hash) -> Result<Transaction> {
        match self.prepare_message(instructions, payer, blockhash, &[])? {
            VersionedMessage::Legacy(message) => Ok(Transaction::new_unsigned(message)),
            _ => unreachable!("without lookup tables the message is legacy"),
        }
    }

    /// The message of `instructions`: legacy without lookup tables, v0 resolving accounts through `tables`
    /// otherwise. The compute-unit limit is sized from simulation (+10 %) with the priority fee, except in a v0
    /// batch that carries no compute-budget instruction: its packer filled the account locks and sized it for the
    /// default limit (`batch::DEFAULT_COMPUTE_UNITS`), and the compute-budget program would be one account too many.
    pub fn prepare_message(
        &self,
        instructions: &[Instruction],
        payer: &Pubkey,
        blockhash: Hash,
        tables: &[AddressLookupTableAccount],
    ) -> Result<VersionedMessage> {
        let compile = |all: &[Instruction]| -> Result<VersionedMessage> {
            if tables.is_empty() {
                return Ok(VersionedMessage::Legacy(Message::new_with_blockhash(all, Some(payer), &blockhash)));
            }
            v0::Message::try_compile(payer, all, tables, blockhash)
                .map(VersionedMessage::V0)
                .map_err(|e| ClientError::InvalidTransaction(format!("cannot compile with the lookup tables: {e}")))
        };
        let budgeted = tables.is_empty() || instructions.iter().any(|i| i.program_id == COMPUTE_BUDGET_ID);
        if !budgeted {
            return compile(instructions);
        }
        let with_budget = |units: u32| {
            let mut all = vec![ix::compute_unit_limit(units)];
            if self.options.priority_fee > 0 {
                all.push(ix::compute_unit_price(self.options.priority_fee));
            }
            all.extend(instructions.iter().filter(|i| i.program_id != COMPUTE_BUDGET_ID).cloned());
            all
        };
        let probe = unsigned(compile(&with_budget(MAX_COMPUTE_UNITS))?);
        let simulation = self.backend.simulate(&probe)?;
        if let Some(error) = simulation.error {
            return Err(ClientError::Transaction { error, logs: simulation.logs });
        }
        let units = (simulation.units_consumed * 11 / 10 + 1_000).min(u64::from(MAX_COMPUTE_UNITS)) as u32;
        compile(&with_budget(units))
    }

    /// Sends `instructions` signed by `signers` (the first pays), refreshing the blockhash when it expires.
    pub fn send(&self, instructions: &[Instruction], signers: &[&(dyn Signer + Sync)]) -> Result<Signature> {
        self.send_with_tables(instructions, signers, &[])
    }

    /// As [`Client::send`], resolving accounts through `tables` (a v0 transaction) when any are given.
    pub fn send_with_tables(
        &self,
        instructions: &[Instruction],
        signers: &[&(dyn Signer + Sync)],
        tables: &[AddressLookupTableAccount],
    ) -> Result<Signature> {
        let payer = signers.first().ok_or_else(|| ClientError::InvalidTransaction("no signer".into()))?.pubkey();
        let signers: Vec<&dyn Signer> = signers.iter().map(|s| *s as &dyn Signer).collect();
        for _ in 0..self.options.max_attempts {
            let blockhash = self.backend.latest_blockhash()?;
            let message = self.prepare_message(instructions, &payer, blockhash, tables)?;
            let transaction = VersionedTransaction::try_new(message, &signers)
                .map_err(|e| ClientError::InvalidTransaction(e.to_string()))?;
            match self.backend.send_and_confirm(&transaction) {
                Err(ClientError::Expired(_)) => std::thread::sleep(Duration::from_millis(400)),
                other => return other,
            }
        }
        Err(ClientError::Expired(self.options.max_attempts))
    }

    /// The lookup tables at `addresses` as v0 messages can use them now: the addresses added in the current slot
    /// are left out (the runtime resolves them only from the next one). A missing table is `None`.
    pub fn lookup_tables(&self, addresses: &[Pubkey]) -> Result<Vec<Option<AddressLookupTableAccount>>> {
        let slot = self.backend.slot()?;
        let accounts = self.backend.get_multiple_accounts(addresses)?;
        addresses
            .iter()
            .zip(accounts)
            .map(|(key, account)| {
                let Some(account) = account else { return Ok(None) };
                let table = AddressLookupTable::deserialize(&account.data)
                    .map_err(|e| ClientError::Decode(*key, "AddressLookupTable", e.to_string()))?;
                let usable = if slot > table.meta.last_extended_slot {
                    table.addresses.len()
                } else {
                    usize::from(table.meta.last_extended_slot_start_index)
                };
                Ok(Some(AddressLookupTableAccount { key: *key, addresses: table.addresses[..usable].to_vec() }))
            })
            .collect()
    }

    /// Sends independent transactions in parallel and reports them as one result.
    pub fn send_batches(&self, batches: &[Vec<Instruction>], signers: &[&(dyn Signer + Sync)]) -> BatchReport {
        self.send_batches_with_progress(batches, signers, |_| {})
    }

    /// As [`Client::send_batches`], calling `progress` with the number confirmed so far as each one lands.
    pub fn send_batches_with_progress(
        &self,
        batches: &[Vec<Instruction>],
        signers: &[&(dyn Signer + Sync)],
        progress: impl Fn(usize) + Sync,
    ) -> BatchReport {
        self.send_batches_with_tables(batches, signers, &[], progress)
    }

    /// As [`Client::send_batches_with_progress`], each batch resolving accounts through `tables` when any are given.
    pub fn send_batches_with_tables(
        &self,
        batches: &[Vec<Instruction>],
        signers: &[&(dyn Signer + Sync)],
        tables: &[AddressLookupTableAccount],
        progress: impl Fn(usize) + Sync,
    ) -> BatchReport {
        let confirmed = std::sync::atomic::AtomicUsize::new(0);
        let (confirmed, progress) = (&confirmed, &progress);
        let results: Vec<Result<Signature>> = std::thread::scope(|scope| {
            let handles: Vec<_> = batches
                .iter()
                .map(|batch| {
                    scope.spawn(move || {
                        let result = self.send_with_tables(batch, signers, tables);
                        if result.is_ok() {
                            progress(confirmed.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1);
                        }
                        result
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(ClientError::Rpc("sender panicked".into()))))
                .collect()
        });
        let mut report = BatchReport::default();
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(signature) => report.signatures.push(signature),
                Err(error) => report.failures.push((i, error.to_string())),
            }
        }
        report
    }

    /// An unsigned transaction for a wallet to sign, base64 encoded (the wire format wallets accept).
    pub fn unsigned_base64(&self, instructions: &[Instruction], payer: &Pubkey) -> Result<String> {
        let transaction = self.prepare(instructions, payer, self.backend.latest_blockhash()?)?;
        Ok(encode_transaction(&transaction))
    }

    /// Accepts a transaction a wallet signed, checks every signature, and sends it.
    pub fn submit_signed_base64(&self, signed: &str) -> Result<Signature> {
        let transaction = decode_transaction(signed)?;
        transaction.verify().map_err(|e| ClientError::InvalidTransaction(format!("bad signature: {e}")))?;
        self.backend.send_and_confirm(&transaction.into())
    }
}

/// A message as the node simulates it: without signatures (`sigVerify: false`).
fn unsigned(message: VersionedMessage) -> VersionedTransaction {
    let signatures = vec![Signature::default(); usize::from(message.header().num_required_signatures)];
    VersionedTransaction { signatures, message }
}

const COMPUTE_BUDGET_ID: Pubkey = anchor_lang::pubkey!("ComputeBudget111111111111111111111111111111");

pub fn encode_transaction(transaction: &Transaction) -> String {
    base64::engine::general_purpose::STANDARD.encode(bincode::serialize(transaction).expect("transactions serialize"))
}

pub fn decode_transaction(encoded: &str) -> Result<Transaction> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| ClientError::InvalidTransaction(format!("not base64: {e}")))?;
    bincode::deserialize(&bytes).map_err(|e| ClientError::InvalidTransaction(format!("not a transaction: {e}")))
}

fn decode<T: AccountDeserialize>(address: &Pubkey, account: &Account) -> Result<T> {
    if account.owner != timelock::ID {
        return Err(ClientError::Decode(*address, std::any::type_name::<T>(), format!("owned by {}", account.owner)));
    }
    T::try_deserialize(&mut account.data.as_slice())
        .map_err(|e| ClientError::Decode(*address, std::any::type_name::<T>(), e.to_string()))
}
