//! A chain over LiteSVM that behaves, seen through JSON-RPC, like a single-validator cluster: slots advance with
//! wall time (400 ms), every slot has its own blockhash and a blockhash stays valid for 150 slots, the clock's
//! Unix timestamp follows the slot, transactions are kept with their metadata (logs, inner instructions,
//! balances) and found again by signature and by address, and a slot is finalized 32 slots after it was
//! produced. There are no forks: what a transaction wrote is final state at once; only the *reported*
//! commitment of a transaction lags, so that clients exercise their confirmed-versus-finalized paths.

use std::collections::{HashMap, VecDeque};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use litesvm::types::TransactionMetadata;
use litesvm::LiteSVM;
use solana_account::Account;
use solana_clock::Clock;
use solana_commitment_config::CommitmentConfig;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_message::{v0::LoadedAddresses, VersionedMessage};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_slot_hashes::SlotHashes;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

pub const SLOT_MS: u64 = 400;
/// Agave's `MAX_PROCESSING_AGE`: how many slots a blockhash is accepted for.
pub const BLOCKHASH_VALID_SLOTS: u64 = 150;
/// How far the finalized (rooted) slot trails the newest one on a healthy cluster.
pub const FINALITY_SLOTS: u64 = 32;
pub const SLOTS_PER_EPOCH: u64 = 432_000;
/// Slot 0 is genesis, rooted from the start; transactions land from slot 1 on.
const FIRST_SLOT: u64 = 1;
const LAMPORTS_PER_SOL: u64 = 1_000_000_000;
/// LiteSVM's (and mainnet's) base fee.
const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

/// A transaction that landed in a slot, as `getTransaction` reports it.
pub struct Landed {
    pub slot: u64,
    pub index: u32,
    pub transaction: VersionedTransaction,
    pub status: Result<(), TransactionError>,
    pub meta: TransactionMetadata,
    pub loaded: LoadedAddresses,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
}

/// Why a transaction was not accepted. `Preflight` carries the simulation that refused it.
#[derive(Debug)]
pub enum Refusal {
    SignatureFailure,
    Sanitize(String),
    Preflight { error: TransactionError, meta: Box<TransactionMetadata> },
}

pub struct Chain {
    svm: LiteSVM,
    started: Instant,
    genesis_unix_ms: u64,
    slot: u64,
    /// Blockhashes of recent slots, oldest first, each with the slot that produced it.
    blockhashes: VecDeque<(u64, Hash)>,
    transactions: HashMap<Signature, Landed>,
    /// Signatures touching each address, oldest first (how `getSignaturesForAddress` pages).
    by_address: HashMap<Pubkey, Vec<Signature>>,
    transactions_in_slot: u32,
    transaction_count: u64,
    faucet: Keypair,
}

/// Adds `slot` to the SlotHashes sysvar, as a validator does for every slot: lookup tables are created for a slot
/// it still lists.
pub fn record_slot_hash(svm: &mut LiteSVM, slot: u64, hash: Hash) {
    let mut recent: Vec<_> = svm.get_sysvar::<SlotHashes>().iter().copied().collect();
    recent.insert(0, (slot, hash));
    recent.truncate(solana_slot_hashes::MAX_ENTRIES);
    svm.set_sysvar(&SlotHashes::new(&recent));
}

impl Chain {
    /// A chain with the SPL programs, `faucet` holding `faucet_sol`, then `setup` (programs, accounts) applied.
    pub fn new(faucet: Keypair, faucet_sol: u64, setup: impl FnOnce(&mut LiteSVM)) -> Chain {
        // Signatures, blockhash age and duplicates are checked here, with the RPC's own rules and errors
        // (a blockhash is valid for 150 slots, not only the newest one as in LiteSVM's own check).
        let mut svm = LiteSVM::new().with_sigverify(false).with_blockhash_check(false).with_transaction_history(0);
        svm.set_account(
            faucet.pubkey(),
            Account {
                lamports: faucet_sol * LAMPORTS_PER_SOL,
                data: Vec::new(),
                owner: solana_system_interface::program::ID,
                executable: false,
                rent_epoch: 0,
            },
        )
        .expect("faucet account");
        setup(&mut svm);
        let genesis_unix_ms =
            SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as u64;
        let mut chain = Chain {
            svm,
            started: Instant::now(),
            genesis_unix_ms,
            slot: 0,
            blockhashes: VecDeque::new(),
            transactions: HashMap::new(),
            by_address: HashMap::new(),
            transactions_in_slot: 0,
            transaction_count: 0,
            faucet,
        };
        chain.enter_slot(FIRST_SLOT);
        chain
    }

    pub fn faucet(&self) -> &Keypair {
        &self.faucet
    }

    /// Brings the chain up to wall time: called before every request.
    pub fn tick(&mut self) {
        let slot = FIRST_SLOT + self.started.elapsed().as_millis() as u64 / SLOT_MS;
        if slot > self.slot {
            self.enter_slot(slot);
        }
    }

    /// Jumps to `slot` at once (tests of blockhash expiry and finality); wall time then catches up from there.
    pub fn warp_to_slot(&mut self, slot: u64) {
        if slot > self.slot {
            self.enter_slot(slot);
        }
    }

    fn enter_slot(&mut self, slot: u64) {
        self.slot = slot;
        self.transactions_in_slot = 0;
        let unix_timestamp = self.block_time(slot);
        let epoch = slot / SLOTS_PER_EPOCH;
        self.svm.set_sysvar(&Clock {
            slot,
            epoch_start_timestamp: self.block_time(epoch * SLOTS_PER_EPOCH),
            epoch,
            leader_schedule_epoch: epoch + 1,
            unix_timestamp,
        });
        self.svm.expire_blockhash();
        self.blockhashes.push_back((slot, self.svm.latest_blockhash()));
        let hash = self.svm.latest_blockhash();
        record_slot_hash(&mut self.svm, slot, hash);
        while self.blockhashes.front().is_some_and(|(s, _)| s + BLOCKHASH_VALID_SLOTS < slot) {
            self.blockhashes.pop_front();
        }
    }

    pub fn slot(&self) -> u64 {
        self.slot
    }

    pub fn finalized_slot(&self) -> u64 {
        self.slot.saturating_sub(FINALITY_SLOTS)
    }

    /// The newest slot at `commitment` (processed and confirmed are the same on one validator).
    pub fn slot_at(&self, commitment: CommitmentConfig) -> u64 {
        if commitment.is_finalized() {
            self.finalized_slot()
        } else {
            self.slot
        }
    }

    pub fn block_time(&self, slot: u64) -> i64 {
        ((self.genesis_unix_ms + slot * SLOT_MS) / 1000) as i64
    }

    pub fn transaction_count(&self) -> u64 {
        self.transaction_count
    }

    pub fn latest_blockhash(&self) -> (Hash, u64) {
        let (slot, hash) = *self.blockhashes.back().expect("a blockhash per slot");
        (hash, slot + BLOCKHASH_VALID_SLOTS)
    }

    pub fn blockhash_is_valid(&self, hash: &Hash) -> bool {
        self.blockhashes.iter().any(|(_, h)| h == hash)
    }

    pub fn account(&self, address: &Pubkey) -> Option<Account> {
        self.svm.get_account(address).filter(|a| a.lamports > 0)
    }

    pub fn program_accounts(&self, program: &Pubkey) -> Vec<(Pubkey, Account)> {
        self.svm.get_program_accounts(program).into_iter().filter(|(_, a)| a.lamports > 0).collect()
    }

    pub fn minimum_balance_for_rent_exemption(&self, len: usize) -> u64 {
        self.svm.minimum_balance_for_rent_exemption(len)
    }

    pub fn fee_for(&self, message: &VersionedMessage) -> u64 {
        u64::from(message.header().num_required_signatures) * LAMPORTS_PER_SIGNATURE
    }

    /// Runs `transaction` without committing it. `verify_signatures` off is `sigVerify: false`.
    pub fn simulate(
        &self,
        transaction: &VersionedTransaction,
        verify_signatures: bool,
    ) -> Result<(Result<(), TransactionError>, TransactionMetadata), Refusal> {
        check_shape(transaction)?;
        if verify_signatures {
            check_signatures(transaction)?;
        }
        Ok(self.execute_readonly(transaction))
    }

    fn execute_readonly(
        &self,
        transaction: &VersionedTransaction,
    ) -> (Result<(), TransactionError>, TransactionMetadata) {
        match self.svm.simulate_transaction(transaction.clone()) {
            Ok(info) => (Ok(()), info.meta),
            Err(failed) => (Err(failed.err), failed.meta),
        }
    }

    /// Sends `transaction` like `sendTransaction`: signatures, then (with `preflight`) a simulation that must
    /// succeed, then execution in the current slot. A transaction that fails on chain is kept, like a
    /// validator keeps it, with its error.
    pub fn send(&mut self, transaction: VersionedTransaction, preflight: bool) -> Result<Signature, Refusal> {
        check_shape(&transaction)?;
        check_signatures(&transaction)?;
        let signature = transaction.signatures[0];
        let age_or_duplicate = if self.transactions.contains_key(&signature) {
            Some(TransactionError::AlreadyProcessed)
        } else if !self.blockhash_is_valid(transaction.message.recent_blockhash()) {
            Some(TransactionError::BlockhashNotFound)
        } else {
            None
        };
        if let Some(error) = age_or_duplicate {
            // Without preflight a validator answers with the signature and silently drops the transaction;
            // the client then finds no status. Refusing at once says the same, sooner.
            return Err(Refusal::Preflight { error, meta: Box::default() });
        }
        if preflight {
            if let (Err(error), meta) = self.execute_readonly(&transaction) {
                return Err(Refusal::Preflight { error, meta: Box::new(meta) });
            }
        }
        let loaded = self.loaded_addresses(&transaction.message);
        let keys: Vec<Pubkey> = transaction
            .message
            .static_account_keys()
            .iter()
            .chain(&loaded.writable)
            .chain(&loaded.readonly)
            .copied()
            .collect();
        let balances = |chain: &Chain| keys.iter().map(|k| chain.svm.get_balance(k).unwrap_or(0)).collect::<Vec<_>>();
        let pre_balances = balances(self);
        let (status, meta) = match self.svm.send_transaction(transaction.clone()) {
            Ok(meta) => (Ok(()), meta),
            Err(failed) => (Err(failed.err), failed.meta),
        };
        let post_balances = balances(self);
        for key in &keys {
            let signatures = self.by_address.entry(*key).or_default();
            if signatures.last() != Some(&signature) {
                signatures.push(signature);
            }
        }
        let index = self.transactions_in_slot;
        self.transactions_in_slot += 1;
        self.transaction_count += 1;
        self.transactions.insert(
            signature,
            Landed { slot: self.slot, index, transaction, status, meta, loaded, pre_balances, post_balances },
        );
        Ok(signature)
    }

    /// `lamports` from the faucet (`requestAirdrop`), as an ordinary transfer that lands like any other.
    pub fn airdrop(&mut self, to: &Pubkey, lamports: u64) -> Result<Signature, Refusal> {
        let transfer = solana_system_interface::instruction::transfer(&self.faucet.pubkey(), to, lamports);
        let (blockhash, _) = self.latest_blockhash();
        let transaction =
            Transaction::new_signed_with_payer(&[transfer], Some(&self.faucet.pubkey()), &[&self.faucet], blockhash);
        self.send(transaction.into(), true)
    }

    pub fn transaction(&self, signature: &Signature) -> Option<&Landed> {
        self.transactions.get(signature)
    }

    /// Signatures touching `address`, newest first, strictly older than `before` and newer than `until`, at
    /// most `limit`, none newer than `max_slot`.
    pub fn signatures_for(
        &self,
        address: &Pubkey,
        before: Option<&Signature>,
        until: Option<&Signature>,
        limit: usize,
        max_slot: u64,
    ) -> Vec<(Signature, &Landed)> {
        let Some(all) = self.by_address.get(address) else { return Vec::new() };
        let end = before.and_then(|b| all.iter().position(|s| s == b)).unwrap_or(all.len());
        let start = until.and_then(|u| all[..end].iter().position(|s| s == u)).map_or(0, |i| i + 1);
        all[start..end]
            .iter()
            .rev()
            .map(|s| (*s, &self.transactions[s]))
            .filter(|(_, landed)| landed.slot <= max_slot)
            .take(limit)
            .collect()
    }

    /// The addresses a v0 message loads from lookup tables, as they are now.
    fn loaded_addresses(&self, message: &VersionedMessage) -> LoadedAddresses {
        let mut loaded = LoadedAddresses::default();
        for lookup in message.address_table_lookups().unwrap_or_default() {
            let Some(table) = self.svm.get_account(&lookup.account_key) else { continue };
            let Ok(table) = solana_address_lookup_table_interface::state::AddressLookupTable::deserialize(&table.data)
            else {
                continue;
            };
            let pick = |indexes: &[u8]| -> Vec<Pubkey> {
                indexes.iter().filter_map(|i| table.addresses.get(usize::from(*i)).copied()).collect()
            };
            loaded.writable.extend(pick(&lookup.writable_indexes));
            loaded.readonly.extend(pick(&lookup.readonly_indexes));
        }
        loaded
    }
}

fn check_signatures(transaction: &VersionedTransaction) -> Result<(), Refusal> {
    if transaction.verify_with_results().into_iter().all(|ok| ok) {
        Ok(())
    } else {
        Err(Refusal::SignatureFailure)
    }
}

fn check_shape(transaction: &VersionedTransaction) -> Result<(), Refusal> {
    transaction.sanitize().map_err(|e| Refusal::Sanitize(e.to_string()))?;
    if transaction.signatures.is_empty() {
        return Err(Refusal::Sanitize("a transaction needs at least one signature".into()));
    }
    Ok(())
}
