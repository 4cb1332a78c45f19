//! The test harness (after marginfi v2's `TestFixture`): one object deploys `target/deploy/timelock.so` into
//! LiteSVM with a known upgrade authority, makes mints and funded actors, warps the clock, sends transactions
//! and reports compute units, so that tests read as stories.

pub mod bench;
pub mod localnet;
pub mod oracle_world;
pub mod postgres;
pub mod story;
pub mod svm_backend;

use std::path::PathBuf;

use anchor_lang::prelude::{Clock, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::AccountDeserialize;
use litesvm::LiteSVM;
use solana_instruction_error::InstructionError;
use solana_message::Message;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use timelock::state::{ConfigParams, WorkerSpec};
use timelock_sdk::{catalog, ix, pda, tokens, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};

pub use solana_keypair::Keypair;
pub use solana_signer::Signer;
pub use timelock::errors::TimelockError;

pub const STAKE_DECIMALS: u8 = 9;
pub const PAYMENT_DECIMALS: u8 = 6;
pub const ONE_STAKE: u64 = 1_000_000_000;
pub const ONE_USDC: u64 = 1_000_000;
/// Start of every fixture's clock, so that timestamps in assertions are readable.
pub const GENESIS_TIME: i64 = 1_800_000_000;

pub fn program_so_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/timelock.so")
}

/// A transaction that landed: its compute units, logs and inner instructions' data.
#[derive(Debug)]
pub struct Landed {
    pub compute_units: u64,
    pub logs: Vec<String>,
    pub inner_instruction_data: Vec<Vec<u8>>,
}

impl Landed {
    /// Events of type `E` emitted with `emit_cpi!`, decoded from the self-invocations' data.
    pub fn events<E: anchor_lang::Event + anchor_lang::AnchorDeserialize>(&self) -> Vec<E> {
        let tag = anchor_lang::event::EVENT_IX_TAG_LE;
        self.inner_instruction_data
            .iter()
            .filter_map(|data| data.strip_prefix(tag)?.strip_prefix(E::DISCRIMINATOR))
            .map(|mut body| E::deserialize(&mut body).expect("event decodes"))
            .collect()
    }

    #[track_caller]
    pub fn event<E: anchor_lang::Event + anchor_lang::AnchorDeserialize>(&self) -> E {
        let mut events = self.events::<E>();
        assert_eq!(events.len(), 1, "expected exactly one event");
        events.remove(0)
    }
}

/// A transaction that failed: the runtime's error and the logs up to the failure.
#[derive(Debug)]
pub struct Failed {
    pub error: TransactionError,
    pub logs: Vec<String>,
}

impl Failed {
    /// The custom program error code of the failing instruction, if it failed with one.
    pub fn custom_code(&self) -> Option<u32> {
        match &self.error {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
            _ => None,
        }
    }
}

pub type SendResult = Result<Landed, Failed>;

/// Anything that names an Anchor error code: the program's own errors and Anchor's framework errors.
pub trait ErrorCodeOf {
    fn code(self) -> u32;
}

impl ErrorCodeOf for TimelockError {
    fn code(self) -> u32 {
        anchor_lang::error::ERROR_CODE_OFFSET + self as u32
    }
}

impl ErrorCodeOf for anchor_lang::error::ErrorCode {
    fn code(self) -> u32 {
        self.into()
    }
}

/// Asserts that a transaction failed with exactly `expected` (an Anchor error code), showing logs otherwise.
#[track_caller]
pub fn assert_error(result: SendResult, expected: impl ErrorCodeOf + std::fmt::Debug + Copy) {
    match result {
        Ok(landed) => panic!("expected {expected:?}, transaction landed: {:#?}", landed.logs),
        Err(failed) => assert_eq!(
            failed.custom_code(),
            Some(expected.code()),
            "expected {expected:?}, got {:?}\n{:#?}",
            failed.error,
            failed.logs
        ),
    }
}

/// Asserts that `init` refused an account that already exists: the system program's `AccountAlreadyInUse`
/// (custom error 0) with its log line.
#[track_caller]
pub fn assert_already_in_use(result: SendResult) {
    let failed = result.expect_err("re-initialisation must fail");
    assert_eq!(failed.custom_code(), Some(0), "{:#?}", failed.logs);
    assert!(failed.logs.iter().any(|l| l.contains("already in use")), "{:#?}", failed.logs);
}

/// Asserts that the runtime (not the program) refused the transaction with `expected`.
#[track_caller]
pub fn assert_runtime_error(result: SendResult, expected: InstructionError) {
    match result {
        Ok(landed) => panic!("expected {expected:?}, transaction landed: {:#?}", landed.logs),
        Err(Failed { error: TransactionError::InstructionError(_, got), logs }) => {
            assert_eq!(got, expected, "{logs:#?}")
        }
        Err(failed) => panic!("expected {expected:?}, got {:?}", failed.error),
    }
}

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
    next_worker_index: u32,
    actors_made: u64,
    /// When set, every successful transaction is recorded here (what an indexer would read from RPC).
    pub journal: Option<Vec<Recorded>>,
}

/// A landed transaction as an indexer sees it: its program-emitted inner instructions and, right after it, the
/// state of every account it referenced (`None`: not a live program account).
pub struct Recorded {
    pub signature: String,
    pub slot: u64,
    pub unix_timestamp: i64,
    /// (top-level instruction index, program id, data) of each inner instruction.
    pub inner: Vec<(u16, Pubkey, Vec<u8>)>,
    pub accounts: Vec<(Pubkey, Option<Vec<u8>>)>,
}

/// A supplier with a funded stake token account and a payment token account for its earnings.
pub struct SupplierActor {
    pub authority: Keypair,
    pub stake_tokens: Pubkey,
    pub payment_tokens: Pubkey,
}

impl SupplierActor {
    pub fn key(&self) -> Pubkey {
        self.authority.pubkey()
    }
    pub fn supplier(&self) -> Pubkey {
        pda::supplier(&self.key()).0
    }
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
            Ok(meta) => Ok(self.record(&keys, meta)),
            Err(failed) => Err(Failed { error: failed.err, logs: failed.meta.logs }),
        }
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
    }

    pub fn warp(&mut self, secs: i64) {
        let now = self.now();
        self.set_time(now + secs);
    }

    pub fn create_mint(&mut self, token_program: Pubkey, decimals: u8) -> Pubkey {
        let mint = Keypair::new();
        let admin = self.admin.insecure_clone();
        let rent = self.svm.minimum_balance_for_rent_exemption(tokens::MINT_LEN);
        let ixs = tokens::create_mint(&admin.pubkey(), &mint.pubkey(), &admin.pubkey(), &token_program, decimals, rent);
        self.send(&ixs, &[&admin, &mint]).expect("create mint");
        mint.pubkey()
    }

    pub fn token_program_of(&self, mint: &Pubkey) -> Pubkey {
        self.svm.get_account(mint).expect("mint exists").owner
    }

    /// A new token account of `mint` owned by `owner`.
    pub fn token_account(&mut self, mint: Pubkey, owner: &Pubkey) -> Pubkey {
        let account = Keypair::new();
        let admin = self.admin.insecure_clone();
        let token_program = self.token_program_of(&mint);
        let rent = self.svm.minimum_balance_for_rent_exemption(tokens::ACCOUNT_LEN);
        let ixs = tokens::create_token_account(&admin.pubkey(), &account.pubkey(), &mint, owner, &token_program, rent);
        self.send(&ixs, &[&admin, &account]).expect("create token account");
        account.pubkey()
    }

    pub fn mint_to(&mut self, mint: Pubkey, account: Pubkey, amount: u64) {
        let admin = self.admin.insecure_clone();
        let token_program = self.token_program_of(&mint);
        self.send(&[tokens::mint_to(&token_program, &mint, &account, &admin.pubkey(), amount)], &[&admin])
            .expect("mint_to");
    }

    pub fn token_balance(&self, account: &Pubkey) -> u64 {
        let data = self.svm.get_account(account).expect("token account exists").data;
        tokens::balance(&data).expect("token account")
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

    pub fn supplier_account(&self, supplier: &SupplierActor) -> timelock::state::Supplier {
        self.account(&supplier.supplier())
    }

    /// A registered supplier holding `tokens` stake tokens in its own account (nothing deposited yet).
    pub fn supplier(&mut self, tokens: u64) -> SupplierActor {
        let authority = self.actor();
        let stake_tokens = self.token_account(self.stake_mint, &authority.pubkey());
        self.mint_to(self.stake_mint, stake_tokens, tokens);
        let payment_tokens = self.token_account(self.payment_mint, &authority.pubkey());
        self.exec(ix::supplier_register(authority.pubkey(), self.payment_mint, TOKEN_PROGRAM_ID), &[&authority]);
        SupplierActor { authority, stake_tokens, payment_tokens }
    }

    pub fn stake_accounts(&self, supplier: &SupplierActor) -> ix::StakeAccounts {
        ix::StakeAccounts {
            authority: supplier.key(),
            stake_mint: self.stake_mint,
            supplier_tokens: supplier.stake_tokens,
            token_program: self.stake_token_program,
        }
    }

    pub fn deposit(&mut self, supplier: &SupplierActor, amount: u64) -> SendResult {
        let ix = ix::stake_deposit(self.stake_accounts(supplier), amount);
        self.send(&[ix], &[&supplier.authority])
    }

    /// A supplier that registered and deposited `stake`.
    pub fn staked_supplier(&mut self, stake: u64) -> SupplierActor {
        let supplier = self.supplier(stake);
        self.deposit(&supplier, stake).expect("stake_deposit");
        supplier
    }

    /// An 8 × H100 worker spec as io.net lists them.
    pub fn h100_spec(&self) -> WorkerSpec {
        WorkerSpec {
            gpu_model: catalog::gpu_model_code("H100-SXM").unwrap(),
            gpu_count: 8,
            vram_gib: 80,
            cpu_cores: 96,
            ram_gib: 1_024,
            region: catalog::region_code("US-EAST").unwrap(),
            connectivity_tier: 4,
            compliance: catalog::compliance_flags(true, false, true),
            green_energy: true,
            price_per_gpu_hour: 2_000_000,
            device_key: Pubkey::new_unique(),
            max_lease_hours: 720,
        }
    }

    pub fn next_worker_index(&mut self) -> u32 {
        self.next_worker_index += 1;
        self.next_worker_index
    }

    /// Registers a worker for `supplier`; returns its index.
    pub fn register_worker(&mut self, supplier: &SupplierActor, spec: WorkerSpec) -> Result<u32, Failed> {
        let index = self.next_worker_index();
        let ix = ix::worker_register(supplier.key(), index, spec);
        self.send(&[ix], &[&supplier.authority]).map(|_| index)
    }

    /// `worker_update` for the worker as it is registered now (its current device key).
    pub fn update_worker_ix(&self, supplier: &SupplierActor, index: u32, spec: WorkerSpec) -> Instruction {
        let current = self.worker_of(supplier, index).spec.device_key;
        ix::worker_update(supplier.key(), index, current, spec)
    }

    pub fn update_worker(&mut self, supplier: &SupplierActor, index: u32, spec: WorkerSpec) -> SendResult {
        let ix = self.update_worker_ix(supplier, index, spec);
        self.send(&[ix], &[&supplier.authority])
    }

    pub fn deregister_worker_ix(&self, supplier: &SupplierActor, index: u32) -> Instruction {
        let device_key = self.worker_of(supplier, index).spec.device_key;
        ix::worker_deregister(supplier.key(), index, device_key)
    }

    pub fn deregister_worker(&mut self, supplier: &SupplierActor, index: u32) -> SendResult {
        let ix = self.deregister_worker_ix(supplier, index);
        self.send(&[ix], &[&supplier.authority])
    }

    pub fn worker_of(&self, supplier: &SupplierActor, index: u32) -> timelock::state::Worker {
        self.account(&pda::worker(&supplier.supplier(), index).0)
    }
}

/// A renter with payment tokens, and a stake-mint account that receives slash compensation.
pub struct Renter {
    pub authority: Keypair,
    pub payment_tokens: Pubkey,
    pub stake_tokens: Pubkey,
}

impl Renter {
    pub fn key(&self) -> Pubkey {
        self.authority.pubkey()
    }
}

impl TestFixture {
    pub fn renter(&mut self, usdc: u64) -> Renter {
        let authority = self.actor();
        let payment_tokens = self.token_account(self.payment_mint, &authority.pubkey());
        self.mint_to(self.payment_mint, payment_tokens, usdc);
        let stake_tokens = self.token_account(self.stake_mint, &authority.pubkey());
        Renter { authority, payment_tokens, stake_tokens }
    }

    pub fn payment(&self, renter: &Renter, cluster_id: u64) -> ix::RenterPayment {
        ix::RenterPayment {
            renter: renter.key(),
            cluster_id,
            payment_mint: self.payment_mint,
            renter_tokens: renter.payment_tokens,
            token_program: TOKEN_PROGRAM_ID,
        }
    }

    pub fn cluster_address(&self, renter: &Renter, cluster_id: u64) -> Pubkey {
        pda::cluster(&renter.key(), cluster_id).0
    }

    pub fn cluster(&self, renter: &Renter, cluster_id: u64) -> timelock::state::Cluster {
        self.account(&self.cluster_address(renter, cluster_id))
    }

    pub fn lease_address(&self, renter: &Renter, cluster_id: u64, worker: &ix::WorkerRef) -> Pubkey {
        pda::lease(&self.cluster_address(renter, cluster_id), &worker.worker).0
    }

    pub fn lease(&self, renter: &Renter, cluster_id: u64, worker: &ix::WorkerRef) -> timelock::state::Lease {
        self.account(&self.lease_address(renter, cluster_id, worker))
    }

    pub fn create_cluster(&mut self, renter: &Renter, cluster_id: u64, hours: u32) -> SendResult {
        let ix = ix::cluster_create(self.payment(renter, cluster_id), hours, timelock::state::ClusterPurpose::Ray);
        self.send(&[ix], &[&renter.authority])
    }

    /// Books `workers` on the terms they are listed with now (what a renter reads before it books).
    pub fn add_workers(&mut self, renter: &Renter, cluster_id: u64, workers: &[ix::WorkerRef]) -> SendResult {
        let bookings: Vec<_> = workers.iter().map(|w| self.as_listed(w)).collect();
        self.book(renter, cluster_id, &bookings)
    }

    pub fn book(&mut self, renter: &Renter, cluster_id: u64, bookings: &[ix::Booking]) -> SendResult {
        let ix = ix::cluster_add_workers(self.payment(renter, cluster_id), bookings);
        self.send(&[ix::compute_unit_limit(1_400_000), ix], &[&renter.authority])
    }

    /// A booking of `worker` on the terms it is listed with now.
    pub fn as_listed(&self, worker: &ix::WorkerRef) -> ix::Booking {
        let listed: timelock::state::Worker = self.account(&worker.worker);
        ix::Booking { worker: *worker, terms: timelock::BookingTerms::as_listed(&listed.spec) }
    }

    pub fn extend(&mut self, renter: &Renter, cluster_id: u64, hours: u32) -> SendResult {
        let ix = ix::cluster_extend(self.payment(renter, cluster_id), hours);
        self.send(&[ix], &[&renter.authority])
    }

    pub fn worker_ref(&self, supplier: &SupplierActor, index: u32) -> ix::WorkerRef {
        self.worker_ref_for(&supplier.key(), index)
    }

    pub fn worker_ref_for(&self, authority: &Pubkey, index: u32) -> ix::WorkerRef {
        let supplier = pda::supplier(authority).0;
        ix::WorkerRef { worker: pda::worker(&supplier, index).0, supplier }
    }

    /// A staked supplier with `count` registered 8 × H100 workers.
    pub fn supplier_with_workers(&mut self, count: u32) -> (SupplierActor, Vec<ix::WorkerRef>) {
        // Bond (8,000 per worker) plus collateral headroom.
        let supplier = self.staked_supplier(u64::from(count) * 8_100 * ONE_STAKE);
        let workers = (0..count)
            .map(|_| {
                let spec = WorkerSpec { device_key: Pubkey::new_unique(), ..self.h100_spec() };
                let index = self.register_worker(&supplier, spec).expect("register worker");
                self.worker_ref(&supplier, index)
            })
            .collect();
        (supplier, workers)
    }

    /// One staked supplier with an H100 worker of `gpu_count` GPUs for each device key (what its agent signs with).
    pub fn workers_with_devices(&mut self, devices: &[Pubkey], gpu_count: u16) -> Vec<ix::WorkerRef> {
        let supplier = self.staked_supplier(devices.len() as u64 * 8_100 * ONE_STAKE);
        devices
            .iter()
            .map(|device| {
                let spec = WorkerSpec { gpu_count, device_key: *device, ..self.h100_spec() };
                let index = self.register_worker(&supplier, spec).expect("register worker");
                self.worker_ref(&supplier, index)
            })
            .collect()
    }

    /// `suppliers` staked suppliers with `per_supplier` single-H100 workers each (a 100-GPU cluster is 4 × 25).
    pub fn single_gpu_workers(&mut self, suppliers: usize, per_supplier: usize) -> Vec<ix::WorkerRef> {
        let mut workers = Vec::new();
        for _ in 0..suppliers {
            let supplier = self.staked_supplier(100_000 * ONE_STAKE);
            for _ in 0..per_supplier {
                let spec = WorkerSpec { gpu_count: 1, device_key: Pubkey::new_unique(), ..self.h100_spec() };
                let index = self.register_worker(&supplier, spec).expect("register worker");
                workers.push(self.worker_ref(&supplier, index));
            }
        }
        workers
    }

    /// Oracle `oracle` reports `(lease, proven_secs, faults)` up to `window_end`.
    pub fn attest(&mut self, oracle: usize, window_end: i64, reports: &[(Pubkey, u32, u16)]) -> SendResult {
        let signer = self.oracles[oracle].insecure_clone();
        let leases: Vec<_> = reports
            .iter()
            .map(|(lease, proven_secs, faults)| {
                let resolution = self.resolutions_of(lease);
                (*lease, timelock::LeaseReport { proven_secs: *proven_secs, faults: *faults, resolution })
            })
            .collect();
        let ix = ix::lease_attest(signer.pubkey(), window_end, &leases);
        self.send(&[ix::compute_unit_limit(1_400_000), ix], &[&signer])
    }

    /// The lease's dispute resolutions so far, as an oracle names them in its reports (0 for an account that is
    /// not a lease: the tests that pass one want the program's refusal, not the fixture's).
    pub fn resolutions_of(&self, lease: &Pubkey) -> u8 {
        let data = self.svm.get_account(lease).map(|a| a.data).unwrap_or_default();
        timelock::state::Lease::try_deserialize(&mut data.as_slice()).map_or(0, |l| l.resolutions)
    }

    /// The first `quorum` oracles all report the same values.
    pub fn attest_quorum(&mut self, quorum: usize, window_end: i64, reports: &[(Pubkey, u32, u16)]) {
        for oracle in 0..quorum {
            self.attest(oracle, window_end, reports).expect("attest");
        }
    }

    pub fn settle_accounts(&self, renter: &Renter, cluster_id: u64, worker: &ix::WorkerRef) -> ix::SettleAccounts {
        ix::SettleAccounts {
            renter: renter.key(),
            cluster_id,
            worker: worker.worker,
            supplier: worker.supplier,
            treasury_payment_tokens: self.treasury_payment_tokens,
            renter_payment_tokens: renter.payment_tokens,
            renter_stake_tokens: renter.stake_tokens,
            treasury_stake_tokens: self.treasury_stake_tokens,
            payment_mint: self.payment_mint,
            stake_mint: self.stake_mint,
            payment_token_program: TOKEN_PROGRAM_ID,
            stake_token_program: self.stake_token_program,
            incentives: None,
        }
    }

    /// `owner`'s associated token account for `mint`, created if missing and credited with `amount`.
    pub fn funded_ata(&mut self, owner: &Pubkey, mint: Pubkey, amount: u64) -> Pubkey {
        use anchor_spl::associated_token::{
            get_associated_token_address_with_program_id, spl_associated_token_account::instruction,
        };
        let program = self.token_program_of(&mint);
        let admin = self.admin.insecure_clone();
        let create = instruction::create_associated_token_account_idempotent(&admin.pubkey(), owner, &mint, &program);
        self.send(&[create], &[&admin]).expect("create ATA");
        let address = get_associated_token_address_with_program_id(owner, &mint, &program);
        if amount > 0 {
            self.mint_to(mint, address, amount);
        }
        address
    }

    /// The admin opens the incentive pool (epochs of `epoch_secs`, `emission` per epoch) and funds it with
    /// `funded` freshly minted stake tokens; returns the admin's stake token account it funded from.
    pub fn enable_incentives(&mut self, emission: u64, epoch_secs: i64, funded: u64) -> Pubkey {
        let admin = self.admin.insecure_clone();
        let (mint, program) = (self.stake_mint, self.stake_token_program);
        self.exec(ix::incentives_init(admin.pubkey(), mint, program, emission, epoch_secs), &[&admin]);
        let admin_tokens = self.token_account(mint, &admin.pubkey());
        self.mint_to(mint, admin_tokens, funded);
        self.exec(ix::incentives_fund(admin.pubkey(), mint, admin_tokens, program, funded), &[&admin]);
        admin_tokens
    }

    /// Settles with a fresh payer (settlement is permissionless), crediting incentives when they are enabled.
    pub fn settle(&mut self, renter: &Renter, cluster_id: u64, worker: &ix::WorkerRef) -> SendResult {
        let cranker = self.actor();
        let mut accounts = self.settle_accounts(renter, cluster_id, worker);
        if self.config().incentives_enabled {
            let pool: timelock::state::IncentivePool = self.account(&pda::incentive_pool().0);
            accounts.incentives =
                Some(ix::IncentiveCredit { epoch: pool.epoch_at(self.now()), payer: cranker.pubkey() });
        }
        self.send(&[ix::lease_settle(accounts)], &[&cranker])
    }
}

impl Default for TestFixture {
    fn default() -> Self {
        Self::new()
    }
}

pub fn token_2022() -> Pubkey {
    TOKEN_2022_PROGRAM_ID
}
