//! One builder per program instruction. Account lists come from the program's generated `timelock::accounts`
//! structs and data from `timelock::instruction`, so a layout change in the program is a compile error here.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::system_program;
use anchor_lang::{InstructionData, ToAccountMetas};
use timelock::state::{ClusterPurpose, ConfigParams, WorkerSpec};
use timelock::{accounts, instruction, ID};
use timelock::{BookingTerms, LeaseReport};

use crate::pda;

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

fn event_authority() -> Pubkey {
    pda::event_authority().0
}

pub fn config_init(
    admin: Pubkey,
    stake_mint: Pubkey,
    payment_mint: Pubkey,
    stake_token_program: Pubkey,
    params: ConfigParams,
) -> Instruction {
    build(
        accounts::ConfigInit {
            admin,
            config: pda::config().0,
            stake_mint,
            payment_mint,
            stake_vault: pda::stake_vault().0,
            program_data: pda::program_data(),
            stake_token_program,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::ConfigInit { params },
    )
}

fn admin_config(admin: Pubkey) -> accounts::AdminConfig {
    accounts::AdminConfig { admin, config: pda::config().0, event_authority: event_authority(), program: ID }
}

pub fn config_update(admin: Pubkey, params: ConfigParams) -> Instruction {
    build(admin_config(admin), instruction::ConfigUpdate { params })
}

pub fn admin_transfer(admin: Pubkey, new_admin: Pubkey) -> Instruction {
    build(admin_config(admin), instruction::AdminTransfer { new_admin })
}

pub fn admin_accept(pending_admin: Pubkey) -> Instruction {
    build(
        accounts::AdminAccept {
            pending_admin,
            config: pda::config().0,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::AdminAccept {},
    )
}

pub fn pause(admin: Pubkey) -> Instruction {
    build(admin_config(admin), instruction::Pause {})
}

pub fn unpause(admin: Pubkey) -> Instruction {
    build(admin_config(admin), instruction::Unpause {})
}

/// Registers `authority` as a supplier and opens its earnings vault for `payment_mint`.
pub fn supplier_register(authority: Pubkey, payment_mint: Pubkey, payment_token_program: Pubkey) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::SupplierRegister {
            authority,
            config: pda::config().0,
            supplier,
            payment_mint,
            earnings_vault: pda::earnings_vault(&supplier).0,
            payment_token_program,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::SupplierRegister {},
    )
}

/// Accounts for moving stake between `supplier_tokens` (owned by `authority`) and the vault.
#[derive(Clone, Copy, Debug)]
pub struct StakeAccounts {
    pub authority: Pubkey,
    pub stake_mint: Pubkey,
    pub supplier_tokens: Pubkey,
    pub token_program: Pubkey,
}

fn stake_transfer(a: StakeAccounts) -> accounts::StakeTransfer {
    accounts::StakeTransfer {
        authority: a.authority,
        config: pda::config().0,
        supplier: pda::supplier(&a.authority).0,
        stake_mint: a.stake_mint,
        supplier_tokens: a.supplier_tokens,
        stake_vault: pda::stake_vault().0,
        token_program: a.token_program,
        event_authority: event_authority(),
        program: ID,
    }
}

pub fn stake_deposit(accounts: StakeAccounts, amount: u64) -> Instruction {
    build(stake_transfer(accounts), instruction::StakeDeposit { amount })
}

pub fn stake_withdraw(accounts: StakeAccounts) -> Instruction {
    build(stake_transfer(accounts), instruction::StakeWithdraw {})
}

pub fn stake_unbond(authority: Pubkey, amount: u64) -> Instruction {
    build(
        accounts::StakeUnbond {
            authority,
            config: pda::config().0,
            supplier: pda::supplier(&authority).0,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::StakeUnbond { amount },
    )
}

pub fn worker_register(authority: Pubkey, worker_index: u32, spec: WorkerSpec) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::WorkerRegister {
            authority,
            config: pda::config().0,
            supplier,
            worker: pda::worker(&supplier, worker_index).0,
            device: pda::device(&spec.device_key).0,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::WorkerRegister { worker_index, spec },
    )
}

fn worker_manage(authority: Pubkey, worker_index: u32) -> accounts::WorkerManage {
    let supplier = pda::supplier(&authority).0;
    accounts::WorkerManage {
        authority,
        config: pda::config().0,
        supplier,
        worker: pda::worker(&supplier, worker_index).0,
        event_authority: event_authority(),
        program: ID,
    }
}

/// `current_device_key`: the key the worker is registered with now (its device record moves when `spec` names
/// another).
pub fn worker_update(
    authority: Pubkey,
    worker_index: u32,
    current_device_key: Pubkey,
    spec: WorkerSpec,
) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::WorkerUpdate {
            authority,
            config: pda::config().0,
            supplier,
            worker: pda::worker(&supplier, worker_index).0,
            device: pda::device(&current_device_key).0,
            new_device: pda::device(&spec.device_key).0,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::WorkerUpdate { spec },
    )
}

pub fn worker_set_available(authority: Pubkey, worker_index: u32, available: bool) -> Instruction {
    build(worker_manage(authority, worker_index), instruction::WorkerSetAvailable { available })
}

pub fn worker_deregister(authority: Pubkey, worker_index: u32, device_key: Pubkey) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::WorkerDeregister {
            authority,
            config: pda::config().0,
            supplier,
            worker: pda::worker(&supplier, worker_index).0,
            device: pda::device(&device_key).0,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::WorkerDeregister {},
    )
}

pub fn worker_unjail(authority: Pubkey, worker_index: u32) -> Instruction {
    build(worker_manage(authority, worker_index), instruction::WorkerUnjail {})
}

/// The payment side of a cluster: its mint, token program and the renter's token account.
#[derive(Clone, Copy, Debug)]
pub struct RenterPayment {
    pub renter: Pubkey,
    pub cluster_id: u64,
    pub payment_mint: Pubkey,
    pub renter_tokens: Pubkey,
    pub token_program: Pubkey,
}

impl RenterPayment {
    pub fn cluster(&self) -> Pubkey {
        pda::cluster(&self.renter, self.cluster_id).0
    }
}

pub fn cluster_create(payment: RenterPayment, hours: u32, purpose: ClusterPurpose) -> Instruction {
    let cluster = payment.cluster();
    build(
        accounts::ClusterCreate {
            renter: payment.renter,
            config: pda::config().0,
            cluster,
            payment_mint: payment.payment_mint,
            escrow: pda::escrow(&cluster).0,
            token_program: payment.token_program,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::ClusterCreate { cluster_id: payment.cluster_id, hours, purpose },
    )
}

fn cluster_fund(payment: RenterPayment) -> accounts::ClusterFund {
    let cluster = payment.cluster();
    accounts::ClusterFund {
        renter: payment.renter,
        config: pda::config().0,
        cluster,
        escrow: pda::escrow(&cluster).0,
        payment_mint: payment.payment_mint,
        renter_tokens: payment.renter_tokens,
        token_program: payment.token_program,
        system_program: system_program::ID,
        event_authority: event_authority(),
        program: ID,
    }
}

/// A worker to book, named by its account and its supplier's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerRef {
    pub worker: Pubkey,
    pub supplier: Pubkey,
}

/// A worker to book and what the renter agrees to pay for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Booking {
    pub worker: WorkerRef,
    pub terms: BookingTerms,
}

/// Books `bookings` into the cluster: one `(worker, supplier, lease)` triple of remaining accounts each, and the
/// terms the program holds each worker to.
pub fn cluster_add_workers(payment: RenterPayment, bookings: &[Booking]) -> Instruction {
    let cluster = payment.cluster();
    let terms = bookings.iter().map(|b| b.terms).collect();
    let mut ix = build(cluster_fund(payment), instruction::ClusterAddWorkers { terms });
    for WorkerRef { worker, supplier } in bookings.iter().map(|b| b.worker) {
        ix.accounts.push(AccountMeta::new(worker, false));
        ix.accounts.push(AccountMeta::new(supplier, false));
        ix.accounts.push(AccountMeta::new(pda::lease(&cluster, &worker).0, false));
    }
    ix
}

pub fn cluster_extend(payment: RenterPayment, hours: u32) -> Instruction {
    build(cluster_fund(payment), instruction::ClusterExtend { hours })
}

pub fn cluster_remove_worker(renter: Pubkey, cluster_id: u64, worker: Pubkey) -> Instruction {
    let cluster = pda::cluster(&renter, cluster_id).0;
    build(
        accounts::ClusterRemoveWorker {
            renter,
            cluster,
            lease: pda::lease(&cluster, &worker).0,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::ClusterRemoveWorker {},
    )
}

pub fn cluster_end(renter: Pubkey, cluster_id: u64) -> Instruction {
    build(
        accounts::ClusterEnd {
            renter,
            cluster: pda::cluster(&renter, cluster_id).0,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::ClusterEnd {},
    )
}

pub fn cluster_close(payment: RenterPayment) -> Instruction {
    let cluster = payment.cluster();
    build(
        accounts::ClusterClose {
            renter: payment.renter,
            cluster,
            escrow: pda::escrow(&cluster).0,
            payment_mint: payment.payment_mint,
            renter_tokens: payment.renter_tokens,
            token_program: payment.token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::ClusterClose {},
    )
}

/// One oracle's reports for `leases` (same order) up to `window_end`.
pub fn lease_attest(oracle: Pubkey, window_end: i64, leases: &[(Pubkey, LeaseReport)]) -> Instruction {
    let mut ix = build(
        accounts::LeaseAttest { oracle, config: pda::config().0, event_authority: event_authority(), program: ID },
        instruction::LeaseAttest { window_end, reports: leases.iter().map(|(_, r)| *r).collect() },
    );
    ix.accounts.extend(leases.iter().map(|(lease, _)| AccountMeta::new(*lease, false)));
    ix
}

/// Everything `lease_settle` pays from and to. The token accounts are the parties' own: the SDK does not guess
/// them because a renter or treasury may hold several.
#[derive(Clone, Copy, Debug)]
pub struct SettleAccounts {
    pub renter: Pubkey,
    pub cluster_id: u64,
    pub worker: Pubkey,
    pub supplier: Pubkey,
    pub treasury_payment_tokens: Pubkey,
    pub renter_payment_tokens: Pubkey,
    pub renter_stake_tokens: Pubkey,
    pub treasury_stake_tokens: Pubkey,
    pub payment_mint: Pubkey,
    pub stake_mint: Pubkey,
    pub payment_token_program: Pubkey,
    pub stake_token_program: Pubkey,
    /// With the incentive pool enabled: the pool's current epoch and who pays for new epoch records.
    pub incentives: Option<IncentiveCredit>,
}

#[derive(Clone, Copy, Debug)]
pub struct IncentiveCredit {
    pub epoch: u64,
    pub payer: Pubkey,
}

pub fn lease_settle(a: SettleAccounts) -> Instruction {
    let cluster = pda::cluster(&a.renter, a.cluster_id).0;
    let mut ix = build(
        accounts::LeaseSettle {
            config: pda::config().0,
            lease: pda::lease(&cluster, &a.worker).0,
            cluster,
            worker: a.worker,
            supplier: a.supplier,
            escrow: pda::escrow(&cluster).0,
            earnings_vault: pda::earnings_vault(&a.supplier).0,
            treasury_payment_tokens: a.treasury_payment_tokens,
            renter_payment_tokens: a.renter_payment_tokens,
            stake_vault: pda::stake_vault().0,
            renter_stake_tokens: a.renter_stake_tokens,
            treasury_stake_tokens: a.treasury_stake_tokens,
            payment_mint: a.payment_mint,
            stake_mint: a.stake_mint,
            renter: a.renter,
            payment_token_program: a.payment_token_program,
            stake_token_program: a.stake_token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::LeaseSettle {},
    );
    if let Some(credit) = a.incentives {
        ix.accounts.extend([
            AccountMeta::new(pda::incentive_pool().0, false),
            AccountMeta::new(pda::incentive_epoch(credit.epoch).0, false),
            AccountMeta::new(pda::supplier_incentive(&a.supplier, credit.epoch).0, false),
            AccountMeta::new(credit.payer, true),
            AccountMeta::new_readonly(system_program::ID, false),
        ]);
    }
    ix
}

/// A dispute by `disputer` (the renter or the supplier's authority) on the lease of `worker` in a cluster.
pub fn lease_dispute(
    disputer: Pubkey,
    disputer_tokens: Pubkey,
    payment: RenterPayment,
    worker: Pubkey,
    supplier: Pubkey,
) -> Instruction {
    let cluster = payment.cluster();
    build(
        accounts::LeaseDispute {
            disputer,
            config: pda::config().0,
            lease: pda::lease(&cluster, &worker).0,
            cluster,
            supplier,
            escrow: pda::escrow(&cluster).0,
            payment_mint: payment.payment_mint,
            disputer_tokens,
            token_program: payment.token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::LeaseDispute {},
    )
}

#[allow(clippy::too_many_arguments)]
pub fn lease_dispute_resolve(
    admin: Pubkey,
    payment: RenterPayment,
    worker: Pubkey,
    disputer_tokens: Pubkey,
    treasury_tokens: Pubkey,
    proven_secs: u64,
    faults: u64,
    as_of: i64,
    upheld: bool,
) -> Instruction {
    let cluster = payment.cluster();
    build(
        accounts::LeaseDisputeResolve {
            admin,
            config: pda::config().0,
            lease: pda::lease(&cluster, &worker).0,
            cluster,
            escrow: pda::escrow(&cluster).0,
            payment_mint: payment.payment_mint,
            disputer_tokens,
            treasury_tokens,
            token_program: payment.token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::LeaseDisputeResolve { proven_secs, faults, as_of, upheld },
    )
}

pub fn earnings_claim(
    authority: Pubkey,
    payment_mint: Pubkey,
    destination: Pubkey,
    token_program: Pubkey,
) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::EarningsClaim {
            authority,
            config: pda::config().0,
            supplier,
            earnings_vault: pda::earnings_vault(&supplier).0,
            payment_mint,
            destination,
            token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::EarningsClaim {},
    )
}

/// Compute-unit limit for the transaction (the runtime's default of 200,000 per instruction is too small for
/// large booking and attestation batches).
pub fn compute_unit_limit(units: u32) -> Instruction {
    solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(units)
}

/// Priority fee in micro-lamports per compute unit.
pub fn compute_unit_price(micro_lamports: u64) -> Instruction {
    solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(micro_lamports)
}

pub fn incentives_init(
    admin: Pubkey,
    stake_mint: Pubkey,
    token_program: Pubkey,
    emission_per_epoch: u64,
    emission_epoch_secs: i64,
) -> Instruction {
    build(
        accounts::IncentivesInit {
            admin,
            config: pda::config().0,
            pool: pda::incentive_pool().0,
            stake_mint,
            vault: pda::incentive_vault().0,
            token_program,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::IncentivesInit { emission_per_epoch, emission_epoch_secs },
    )
}

pub fn incentives_fund(
    admin: Pubkey,
    stake_mint: Pubkey,
    admin_tokens: Pubkey,
    token_program: Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::IncentivesFund {
            admin,
            config: pda::config().0,
            pool: pda::incentive_pool().0,
            stake_mint,
            vault: pda::incentive_vault().0,
            admin_tokens,
            token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::IncentivesFund { amount },
    )
}

/// The supplier's share of an ended epoch; `rent_payer` is who paid its record (the settling cranker).
pub fn incentives_claim(
    authority: Pubkey,
    epoch: u64,
    rent_payer: Pubkey,
    stake_mint: Pubkey,
    destination: Pubkey,
    token_program: Pubkey,
) -> Instruction {
    let supplier = pda::supplier(&authority).0;
    build(
        accounts::IncentivesClaim {
            authority,
            config: pda::config().0,
            supplier,
            pool: pda::incentive_pool().0,
            epoch: pda::incentive_epoch(epoch).0,
            supplier_incentive: pda::supplier_incentive(&supplier, epoch).0,
            rent_payer,
            stake_mint,
            vault: pda::incentive_vault().0,
            destination,
            token_program,
            event_authority: event_authority(),
            program: ID,
        },
        instruction::IncentivesClaim {},
    )
}
