//! [`TestFixture`] itself: deployment, the config, sending transactions (and journaling them), actors, the
//! clock and reading program accounts.

use anchor_lang::prelude::{Clock, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::AccountDeserialize;
use litesvm::LiteSVM;
use solana_address_lookup_table_interface::instruction as lookup_table;
use solana_message::{v0, AddressLookupTableAccount, Message, VersionedMessage};
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;
use timelock::state::ConfigParams;
use timelock_sdk::{catalog, ix, pda, TOKEN_PROGRAM_ID};

use crate::{
    program_so_path, Failed, Keypair, Landed, Recorded, SendResult, Signer, GENESIS_TIME, PAYMENT_DECIMALS,
    STAKE_DECIMALS,
};

impl std::borrow::Borrow<LiteSVM> for TestFixture {
    fn borrow(&self) -> &LiteSVM {
        &self.svm
    }
}

impl std::borrow::BorrowMut<LiteSVM> for TestFixture {
    fn borrow_mut(&mut self) -> &mut LiteSVM {
        &mut self.svm
    }
}

pub struct TestFixture {
    pub svm: LiteSVM,
    /// Upgrade authority of the program and admin of the config.
    pub admin: Keypair,
    pub stake_mint: Pubkey,
    pub payment_mint: Pubkey,
    pub stake_token_program: Pubkey,
    /// Owner of the treasury's token accounts.
    pub treasury: Keypair,
    pub treasury_payment_tokens: Pubkey,
    pub treasury_stake_tokens: Pubkey,
    /// The config's oracle set (threshold 2 of 3 by default).
    pub oracles: Vec<Keypair>,
    pub(crate) next_worker_index: u32,
    actors_made: u64,
    /// When set, every successful transaction is recorded here (what an indexer would read from RPC).
    pub journal: Option<Vec<Recorded>>,
}

impl TestFixture {
    /// Program deployed, mints made, config not yet initialised. The stake mint is a classic SPL mint.
    pub fn deployed() -> Self {
        Self::deployed_with(TOKEN_PROGRAM_ID)
    }

    /// As [`TestFixture::deployed`], with the stake mint under `stake_token_program` (SPL Token or Token-2022).
    pub fn deployed_with(stake_token_program: Pubkey) -> Self {
        let mut svm = LiteSVM::new();
        let admin = Keypair::new();
        svm.airdrop(&admin.pubkey(), 1_000_000_000_000).unwrap();
        let so =
            std::fs::read(program_so_path()).expect("target/deploy/timelock.so is missing: run `make build` first");
        timelock_localnet::deploy_upgradeable(&mut svm, timelock::ID, &so, &admin.pubkey());
        let oracles: Vec<Keypair> = (1..=3u8).map(|i| Keypair::new_from_array([100 + i; 32])).collect();
        for oracle in &oracles {
            svm.airdrop(&oracle.pubkey(), 100_000_000_000).unwrap();
        }
        let mut fixture = TestFixture {
            svm,
            admin,
            stake_mint: Pubkey::default(),
            payment_mint: Pubkey::default(),
            stake_token_program,
            treasury: Keypair::new_from_array([3u8; 32]),
            treasury_payment_tokens: Pubkey::default(),
            treasury_stake_tokens: Pubkey::default(),
            oracles,
            next_worker_index: 0,
            actors_made: 0,
            journal: None,
        };
        fixture.stake_mint = fixture.create_mint(stake_token_program, STAKE_DECIMALS);
        fixture.payment_mint = fixture.create_mint(TOKEN_PROGRAM_ID, PAYMENT_DECIMALS);
        let treasury = fixture.treasury.pubkey();
        fixture.treasury_payment_tokens = fixture.token_account(fixture.payment_mint, &treasury);
        fixture.treasury_stake_tokens = fixture.token_account(fixture.stake_mint, &treasury);
        fixture.set_time(GENESIS_TIME);
        fixture
    }

    /// Deployed and initialised with [`TestFixture::default_params`].
    pub fn new() -> Self {
        let mut fixture = Self::deployed();
        fixture.init_config().expect("config_init");
        fixture
    }

    /// The SDK's deployment defaults (2 of 3 oracles) with a 10-minute dispute window to keep stories short.
    pub fn default_params(&self) -> ConfigParams {
        let oracles = self.oracles.iter().map(|o| o.pubkey()).collect();
        ConfigParams { dispute_window_secs: 600, ..catalog::default_config_params(self.treasury.pubkey(), oracles, 2) }
    }

    pub fn init_config(&mut self) -> SendResult {
        let params = self.default_params();
        let ix =
            ix::config_init(self.admin.pubkey(), self.stake_mint, self.payment_mint, self.stake_token_program, params);
        let admin = self.admin.insecure_clone();
        self.send(&[ix], &[&admin])
    }

    /// Sends `ixs` in one transaction paid by the first signer. Each call gets a fresh blockhash so that
    /// identical transactions in a story are not refused as duplicates.
    pub fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> SendResult {
        self.svm.expire_blockhash();
        let payer = signers.first().expect("at least one signer").pubkey();
        let message = Message::new(ixs, Some(&payer));
        let tx = Transaction::new(signers, message, self.svm.latest_blockhash());
        let keys = tx.message.account_keys.clone();
        match self.svm.send_transaction(tx) {
            Ok(meta) => {
                if std::env::var_os("TIMELOCK_CU_PROFILE").is_some() {
                    // One block per transaction on stderr, for scripts/profile-cu.py.
                    eprintln!("--- transaction: {} CU\n{}", meta.compute_units_consumed, meta.logs.join("\n"));
                }
                Ok(self.record(&keys, meta))
            }
            Err(failed) => Err(Failed { error: failed.err, logs: failed.meta.logs }),
        }
    }

    /// Sends `ixs` as one v0 transaction paid by the first signer, resolving accounts through `tables`.
    pub fn send_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> SendResult {
        self.svm.expire_blockhash();
        let payer = signers.first().expect("at least one signer").pubkey();
        let message = v0::Message::try_compile(&payer, ixs, tables, self.svm.latest_blockhash()).expect("compiles");
        let signers: Vec<&dyn solana_signer::Signer> =
            signers.iter().map(|s| *s as &dyn solana_signer::Signer).collect();
        let tx = VersionedTransaction::try_new(VersionedMessage::V0(message), &signers).expect("signs");
        let keys = tx.message.static_account_keys().to_vec();
        match self.svm.send_transaction(tx) {
            Ok(meta) => Ok(self.record(&keys, meta)),
            Err(failed) => Err(Failed { error: failed.err, logs: failed.meta.logs }),
        }
    }

    /// A lookup table of `authority` holding `addresses`, created and extended through the lookup-table program
    /// and usable from the slot it leaves the fixture in (the one after its last extension).
    pub fn lookup_table(&mut self, authority: &Keypair, addresses: &[Pubkey]) -> AddressLookupTableAccount {
        let slot = self.svm.get_sysvar::<Clock>().slot;
        self.record_slot_hash(slot);
        let (create, key) = lookup_table::create_lookup_table(authority.pubkey(), authority.pubkey(), slot);
        self.send(&[create], &[authority]).expect("create the lookup table");
        for chunk in addresses.chunks(20) {
            let extend =
                lookup_table::extend_lookup_table(key, authority.pubkey(), Some(authority.pubkey()), chunk.to_vec());
            self.send(&[extend], &[authority]).expect("extend the lookup table");
        }
        self.svm.warp_to_slot(slot + 1);
        AddressLookupTableAccount { key, addresses: addresses.to_vec() }
    }

    fn record(&mut self, keys: &[Pubkey], meta: litesvm::types::TransactionMetadata) -> Landed {
        if let Some(mut journal) = self.journal.take() {
            let clock = self.svm.get_sysvar::<Clock>();
            let inner = meta
                .inner_instructions
                .iter()
                .enumerate()
                .flat_map(|(outer, list)| {
                    list.iter().map(move |inner| {
                        let program = keys[usize::from(inner.instruction.program_id_index)];
                        (outer as u16, program, inner.instruction.data.clone())
                    })
                })
                .collect();
            let accounts = keys
                .iter()
                .map(|key| {
                    let live = self.svm.get_account(key).filter(|a| a.owner == timelock::ID && a.lamports > 0);
                    (*key, live.map(|a| a.data))
                })
                .collect();
            journal.push(Recorded {
                signature: meta.signature.to_string(),
                slot: clock.slot,
                unix_timestamp: clock.unix_timestamp,
                inner,
                accounts,
            });
            self.journal = Some(journal);
        }
        Landed {
            compute_units: meta.compute_units_consumed,
            logs: meta.logs,
            inner_instruction_data: meta
                .inner_instructions
                .into_iter()
                .flatten()
                .map(|inner| inner.instruction.data)
                .collect(),
        }
    }

    /// Sends one instruction and returns the compute units it used, panicking with logs if it failed.
    #[track_caller]
    pub fn exec(&mut self, ix: Instruction, signers: &[&Keypair]) -> u64 {
        match self.send(&[ix], signers) {
            Ok(landed) => landed.compute_units,
            Err(failed) => panic!("transaction failed: {:?}\n{:#?}", failed.error, failed.logs),
        }
    }

    /// A funded keypair. Actors are derived from a counter so that PDA bumps, and with them compute units,
    /// are the same on every run.
    pub fn actor(&mut self) -> Keypair {
        self.actors_made += 1;
        let mut seed = [7u8; 32];
        seed[..8].copy_from_slice(&self.actors_made.to_le_bytes());
        let actor = Keypair::new_from_array(seed);
        self.svm.airdrop(&actor.pubkey(), 100_000_000_000).unwrap();
        actor
    }

    pub fn now(&self) -> i64 {
        self.svm.get_sysvar::<Clock>().unix_timestamp
    }

    pub fn set_time(&mut self, unix_timestamp: i64) {
        let mut clock = self.svm.get_sysvar::<Clock>();
        clock.unix_timestamp = unix_timestamp;
        clock.slot += 1;
        self.svm.set_sysvar(&clock);
        self.record_slot_hash(clock.slot);
    }

    fn record_slot_hash(&mut self, slot: u64) {
        let hash = self.svm.latest_blockhash();
        timelock_localnet::chain::record_slot_hash(&mut self.svm, slot, hash);
    }

    pub fn warp(&mut self, secs: i64) {
        let now = self.now();
        self.set_time(now + secs);
    }

    /// Decodes a program account with the program's own type (discriminator checked).
    pub fn account<T: AccountDeserialize>(&self, address: &Pubkey) -> T {
        let data = self.svm.get_account(address).expect("account exists").data;
        T::try_deserialize(&mut data.as_slice()).expect("decodes")
    }

    pub fn exists(&self, address: &Pubkey) -> bool {
        self.svm.get_account(address).is_some_and(|a| a.lamports > 0)
    }

    pub fn config(&self) -> timelock::state::Config {
        self.account(&pda::config().0)
    }
}

impl Default for TestFixture {
    fn default() -> Self {
        Self::new()
    }
}
