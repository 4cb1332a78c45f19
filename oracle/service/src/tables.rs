//! The oracle's address lookup tables. Every lease it attests goes into one of its tables, so an attestation
//! transaction names a lease by a one-byte index instead of 32 bytes: 60 leases per transaction (the account-lock
//! limit) instead of 22 (the packet), and fewer fees and signatures per lease. Tables are created and extended
//! after a round for the leases no table holds yet (used from the next round), deactivated once every lease in
//! them has closed, and closed, returning their rent, once the chain lets them go. Table work never fails a
//! round: what fails is tried again in the next one.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_address_lookup_table_interface::instruction as lookup_table;
use solana_address_lookup_table_interface::state::LOOKUP_TABLE_MAX_ADDRESSES;
use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use solana_signer::Signer;

use crate::attest::AttestError;
use crate::chain::Chain;
use crate::store::Store;

/// Addresses one extension adds, so that its transaction stays within the packet.
const EXTEND_BY: usize = 20;

/// Rounds sent without tables after a round whose transactions through them failed: a node that refuses or
/// mishandles v0 transactions slows attestation down to legacy batches instead of stopping it.
const FALLBACK_ROUNDS: u32 = 10;

pub struct LookupTables {
    pub chain: Arc<Chain>,
    pub store: Store,
    pub signer: Arc<Keypair>,
    /// Rounds still to send without tables.
    pub fallback: std::sync::atomic::AtomicU32,
}

impl LookupTables {
    /// After a round in which a transaction through the tables failed: the next rounds send without.
    pub fn failed(&self) {
        self.fallback.store(FALLBACK_ROUNDS, Ordering::SeqCst);
        tracing::warn!(rounds = FALLBACK_ROUNDS, "a transaction through the lookup tables failed: sending without");
    }

    /// The oracle's live tables as a transaction can use them now; none when they cannot be read, or while
    /// falling back after a failure.
    pub async fn usable(&self) -> Vec<AddressLookupTableAccount> {
        let falling_back = self.fallback.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if falling_back.is_ok() {
            return Vec::new();
        }
        match self.live().await {
            Ok(tables) => tables,
            Err(error) => {
                tracing::warn!(%error, "lookup tables unread: this round sends without");
                Vec::new()
            }
        }
    }

    async fn live(&self) -> Result<Vec<AddressLookupTableAccount>, AttestError> {
        let live: Vec<Pubkey> =
            self.tables().await?.into_iter().filter(|(_, deactivated)| !deactivated).map(|(key, _)| key).collect();
        if live.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.chain.read(move |client| client.lookup_tables(&live)).await?.into_iter().flatten().collect())
    }

    /// After a round that judged `judged`: puts the leases no table holds into the newest table with room (a new
    /// one when none has), deactivates tables whose every lease has closed and closes those the chain lets go.
    pub async fn maintain(&self, judged: &[Pubkey]) {
        if let Err(error) = self.try_maintain(judged).await {
            tracing::warn!(%error, "lookup tables: tried again next round");
        }
    }

    async fn tables(&self) -> Result<Vec<(Pubkey, bool)>, AttestError> {
        let rows = self.store.lookup_tables(&self.signer.pubkey().to_bytes()).await?;
        Ok(rows.into_iter().map(|(address, deactivated)| (Pubkey::new_from_array(address), deactivated)).collect())
    }

    async fn try_maintain(&self, judged: &[Pubkey]) -> Result<(), AttestError> {
        let me = self.signer.pubkey();
        let rows = self.tables().await?;
        let keys: Vec<Pubkey> = rows.iter().map(|(key, _)| *key).collect();
        let states = self.chain.read(move |client| client.lookup_tables(&keys)).await?;
        let mut live = Vec::new();
        for ((key, deactivated), state) in rows.into_iter().zip(states) {
            match (state, deactivated) {
                (None, _) => self.store.forget_lookup_table(&me.to_bytes(), &key.to_bytes()).await?,
                (Some(_), true) => self.close(key).await?,
                (Some(table), false) => live.push(table),
            }
        }

        let held: HashSet<Pubkey> = live.iter().flat_map(|t| t.addresses.iter().copied()).collect();
        let mut missing: Vec<Pubkey> = judged.iter().filter(|lease| !held.contains(lease)).copied().collect();
        while !missing.is_empty() {
            let table = match live.last().filter(|t| t.addresses.len() < LOOKUP_TABLE_MAX_ADDRESSES) {
                Some(table) => table.key,
                None => {
                    let key = self.create().await?;
                    live.push(AddressLookupTableAccount { key, addresses: Vec::new() });
                    key
                }
            };
            let newest = live.last_mut().expect("a table with room");
            let room = LOOKUP_TABLE_MAX_ADDRESSES - newest.addresses.len();
            let added: Vec<Pubkey> = missing.drain(..room.min(EXTEND_BY).min(missing.len())).collect();
            let extend = lookup_table::extend_lookup_table(table, me, Some(me), added.clone());
            self.send(vec![extend]).await?;
            newest.addresses.extend(added);
        }

        // A table none of whose leases was judged may hold only closed leases; the newest keeps taking new ones.
        let judged: HashSet<&Pubkey> = judged.iter().collect();
        for table in live.iter().rev().skip(1) {
            if table.addresses.iter().any(|lease| judged.contains(lease)) {
                continue;
            }
            let leases = table.addresses.clone();
            let accounts = self.chain.read(move |client| client.backend.get_multiple_accounts(&leases)).await?;
            if accounts.iter().all(Option::is_none) {
                self.send(vec![lookup_table::deactivate_lookup_table(table.key, me)]).await?;
                self.store.lookup_table_deactivated(&me.to_bytes(), &table.key.to_bytes()).await?;
            }
        }
        Ok(())
    }

    async fn create(&self) -> Result<Pubkey, AttestError> {
        let me = self.signer.pubkey();
        let slot = self.chain.read(|client| client.backend.slot()).await?;
        let (create, key) = lookup_table::create_lookup_table(me, me, slot);
        self.send(vec![create]).await?;
        self.store.record_lookup_table(&me.to_bytes(), &key.to_bytes()).await?;
        tracing::info!(table = %key, "lookup table created");
        Ok(key)
    }

    /// Closes a deactivated table, its rent back to the oracle; until the chain lets it go (about 512 slots after
    /// the deactivation) the attempt fails in simulation, costing nothing, and is made again next round.
    async fn close(&self, key: Pubkey) -> Result<(), AttestError> {
        let me = self.signer.pubkey();
        if self.send(vec![lookup_table::close_lookup_table(key, me, me)]).await.is_ok() {
            self.store.forget_lookup_table(&me.to_bytes(), &key.to_bytes()).await?;
            tracing::info!(table = %key, "lookup table closed");
        }
        Ok(())
    }

    async fn send(
        &self,
        instructions: Vec<anchor_lang::solana_program::instruction::Instruction>,
    ) -> Result<(), AttestError> {
        let signer = self.signer.clone();
        self.chain
            .read(move |client| {
                let signers: [&(dyn Signer + Sync); 1] = [signer.as_ref()];
                client.send(&instructions, &signers)
            })
            .await?;
        Ok(())
    }
}
