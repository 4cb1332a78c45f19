//! timelock: settlement of GPU rentals under Proof of Time-Lock.
//!
//! Suppliers bond stake and register GPU workers; renters book clusters of workers into escrow; oracles attest
//! the seconds each GPU was provably committed to its renter; proven time is paid, unproven time refunded, and
//! faults slashed. Layout follows Squads v4: under `instructions/` one file per instruction, or per accounts
//! struct shared by several instructions (with all their handlers, named after the instruction); one file per
//! account under `state/`; pure arithmetic in `math`; helpers that are not instructions under `utils/`.

#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

use anchor_lang::prelude::*;

pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod pda;
pub mod state;
pub mod utils;

pub use instructions::*;
pub use state::*;

/// Logs the compute units left, with a label, where a build has the `cu-profile` feature (`scripts/profile-cu.sh`
/// reads the differences); compiles to nothing otherwise.
#[macro_export]
macro_rules! cu_checkpoint {
    ($label:literal) => {
        #[cfg(all(feature = "cu-profile", target_os = "solana"))]
        {
            anchor_lang::solana_program::msg!($label);
            // SAFETY: a syscall without arguments that only writes to the program log.
            unsafe { solana_define_syscall::definitions::sol_log_compute_units_() };
        }
    };
}

// What a security researcher needs to reach the maintainers, embedded in the deployed binary (explorers show it).
// The project has no public home yet: the `example.invalid` addresses are placeholders that a public deployment
// must replace (docs/security.md, "Reporting a vulnerability").
#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "timelock",
    project_url: "https://timelock.example.invalid",
    contacts: "email:security@timelock.example.invalid",
    policy: "https://timelock.example.invalid/docs/security.md#reporting-a-vulnerability",
    preferred_languages: "en",
    source_code: "https://timelock.example.invalid/source"
}

declare_id!("3je1PV4rKrR11tHPVGgydkK6QPJiThw1H36GXrWbQUHF");

#[program]
pub mod timelock {
    use super::*;

    pub fn config_init(ctx: Context<ConfigInit>, params: ConfigParams) -> Result<()> {
        ConfigInit::handler(ctx, params)
    }

    pub fn config_update(ctx: Context<AdminConfig>, params: ConfigParams) -> Result<()> {
        AdminConfig::config_update(ctx, params)
    }

    pub fn admin_transfer(ctx: Context<AdminConfig>, new_admin: Pubkey) -> Result<()> {
        AdminConfig::admin_transfer(ctx, new_admin)
    }

    pub fn admin_accept(ctx: Context<AdminAccept>) -> Result<()> {
        AdminAccept::handler(ctx)
    }

    pub fn pause(ctx: Context<AdminConfig>) -> Result<()> {
        AdminConfig::pause(ctx)
    }

    pub fn unpause(ctx: Context<AdminConfig>) -> Result<()> {
        AdminConfig::unpause(ctx)
    }

    pub fn supplier_register(ctx: Context<SupplierRegister>) -> Result<()> {
        SupplierRegister::handler(ctx)
    }

    pub fn stake_deposit(ctx: Context<StakeTransfer>, amount: u64) -> Result<()> {
        StakeTransfer::stake_deposit(ctx, amount)
    }

    pub fn stake_unbond(ctx: Context<StakeUnbond>, amount: u64) -> Result<()> {
        StakeUnbond::handler(ctx, amount)
    }

    pub fn stake_withdraw(ctx: Context<StakeTransfer>) -> Result<()> {
        StakeTransfer::stake_withdraw(ctx)
    }

    pub fn worker_register<'info>(
        ctx: Context<'info, WorkerRegister<'info>>,
        worker_index: u32,
        spec: WorkerSpec,
        gpus: Vec<[u8; 32]>,
    ) -> Result<()> {
        WorkerRegister::handler(ctx, worker_index, spec, gpus)
    }

    pub fn worker_update(ctx: Context<WorkerUpdate>, spec: WorkerSpec) -> Result<()> {
        WorkerUpdate::handler(ctx, spec)
    }

    pub fn worker_set_available(ctx: Context<WorkerManage>, available: bool) -> Result<()> {
        WorkerManage::worker_set_available(ctx, available)
    }

    pub fn worker_deregister<'info>(ctx: Context<'info, WorkerDeregister<'info>>) -> Result<()> {
        WorkerDeregister::handler(ctx)
    }

    pub fn worker_unjail(ctx: Context<WorkerManage>) -> Result<()> {
        WorkerManage::worker_unjail(ctx)
    }

    pub fn cluster_create(
        ctx: Context<ClusterCreate>,
        cluster_id: u64,
        hours: u32,
        purpose: ClusterPurpose,
    ) -> Result<()> {
        ClusterCreate::handler(ctx, cluster_id, hours, purpose)
    }

    pub fn cluster_add_workers<'info>(ctx: Context<'info, ClusterFund<'info>>, terms: Vec<BookingTerms>) -> Result<()> {
        ClusterFund::cluster_add_workers(ctx, terms)
    }

    pub fn cluster_extend<'info>(ctx: Context<'info, ClusterFund<'info>>, hours: u32) -> Result<()> {
        ClusterFund::cluster_extend(ctx, hours)
    }

    pub fn cluster_remove_worker(ctx: Context<ClusterRemoveWorker>) -> Result<()> {
        ClusterRemoveWorker::handler(ctx)
    }

    pub fn cluster_set_workload(ctx: Context<ClusterSetWorkload>, images: Vec<[u8; 32]>) -> Result<()> {
        ClusterSetWorkload::handler(ctx, images)
    }

    pub fn cluster_end(ctx: Context<ClusterEnd>) -> Result<()> {
        ClusterEnd::handler(ctx)
    }

    pub fn cluster_close<'info>(ctx: Context<'info, ClusterClose<'info>>) -> Result<()> {
        ClusterClose::handler(ctx)
    }

    pub fn lease_attest<'info>(
        ctx: Context<'info, LeaseAttest<'info>>,
        window_end: i64,
        evidence_root: [u8; 32],
        reports: Vec<LeaseReport>,
    ) -> Result<()> {
        LeaseAttest::handler(ctx, window_end, evidence_root, reports)
    }

    pub fn lease_settle<'info>(ctx: Context<'info, LeaseSettle<'info>>) -> Result<()> {
        LeaseSettle::handler(ctx)
    }

    pub fn lease_dispute(ctx: Context<LeaseDispute>) -> Result<()> {
        LeaseDispute::handler(ctx)
    }

    pub fn lease_dispute_resolve(
        ctx: Context<LeaseDisputeResolve>,
        proven_secs: u64,
        faults: u64,
        as_of: i64,
        upheld: bool,
    ) -> Result<()> {
        LeaseDisputeResolve::handler(ctx, proven_secs, faults, as_of, upheld)
    }

    pub fn lease_dispute_verdict(
        ctx: Context<LeaseDisputeVerdict>,
        dispute_opened_at: i64,
        proven_secs: u64,
        faults: u64,
        evidence_root: [u8; 32],
    ) -> Result<()> {
        LeaseDisputeVerdict::handler(ctx, dispute_opened_at, proven_secs, faults, evidence_root)
    }

    pub fn earnings_claim(ctx: Context<EarningsClaim>) -> Result<()> {
        EarningsClaim::handler(ctx)
    }

    pub fn incentives_init(
        ctx: Context<IncentivesInit>,
        emission_per_epoch: u64,
        emission_epoch_secs: i64,
    ) -> Result<()> {
        IncentivesInit::handler(ctx, emission_per_epoch, emission_epoch_secs)
    }

    pub fn incentives_fund(ctx: Context<IncentivesFund>, amount: u64) -> Result<()> {
        IncentivesFund::handler(ctx, amount)
    }

    pub fn incentives_claim(ctx: Context<IncentivesClaim>) -> Result<()> {
        IncentivesClaim::handler(ctx)
    }
}
