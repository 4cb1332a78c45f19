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

    /// Creates the config (PDA `["config"]`) with `params` and the stake vault, fixing the stake and payment mints (a
    /// mint whose issuer could take or freeze the program's tokens is refused). Only the program's upgrade authority
    /// may call it, once; it becomes the admin.
    pub fn config_init(ctx: Context<ConfigInit>, params: ConfigParams) -> Result<()> {
        ConfigInit::handler(ctx, params)
    }

    /// Replaces the protocol parameters as a whole, validated as `config_init` validates them. Admin only.
    pub fn config_update(ctx: Context<AdminConfig>, params: ConfigParams) -> Result<()> {
        AdminConfig::config_update(ctx, params)
    }

    /// Proposes `new_admin` as the next admin; nothing changes until that key signs `admin_accept`, so a typo cannot
    /// lock the protocol. Proposing `Pubkey::default()` cancels a pending transfer. Admin only.
    pub fn admin_transfer(ctx: Context<AdminConfig>, new_admin: Pubkey) -> Result<()> {
        AdminConfig::admin_transfer(ctx, new_admin)
    }

    /// Completes an admin hand-over: the key proposed by `admin_transfer` signs and becomes the admin.
    pub fn admin_accept(ctx: Context<AdminAccept>) -> Result<()> {
        AdminAccept::handler(ctx)
    }

    /// Stops new stakes, registrations and rentals; unbonding, withdrawals, settlement, disputes and claims keep
    /// working, so funds always return to their owners. Admin only.
    pub fn pause(ctx: Context<AdminConfig>) -> Result<()> {
        AdminConfig::pause(ctx)
    }

    /// Lifts a `pause`. Admin only.
    pub fn unpause(ctx: Context<AdminConfig>) -> Result<()> {
        AdminConfig::unpause(ctx)
    }

    /// Registers the signer as a supplier (PDA `["supplier", authority]`) with its payment-mint earnings vault
    /// (`["earnings", supplier]`). Refused while paused.
    pub fn supplier_register(ctx: Context<SupplierRegister>) -> Result<()> {
        SupplierRegister::handler(ctx)
    }

    /// Moves `amount` stake tokens from the supplier's account into the stake vault and credits what arrived (a
    /// Token-2022 transfer fee is not credited). Signed by the supplier's authority; refused while paused.
    pub fn stake_deposit(ctx: Context<StakeTransfer>, amount: u64) -> Result<()> {
        StakeTransfer::stake_deposit(ctx, amount)
    }

    /// Queues `amount` of the supplier's free stake (neither bonded by workers nor locked as collateral) for withdrawal
    /// after the unbonding period; queuing more restarts the clock for the whole queue. Signed by the supplier's
    /// authority.
    pub fn stake_unbond(ctx: Context<StakeUnbond>, amount: u64) -> Result<()> {
        StakeUnbond::handler(ctx, amount)
    }

    /// Returns the supplier's queued stake (what slashes left of it) from the stake vault once the unbonding period has
    /// passed. Signed by the supplier's authority; allowed while paused.
    pub fn stake_withdraw(ctx: Context<StakeTransfer>) -> Result<()> {
        StakeTransfer::stake_withdraw(ctx)
    }

    /// Registers worker `worker_index` with `spec`, bonding stake for it from the supplier's free stake, and binds its
    /// device key; a key that backs another worker is refused. The worker is bookable once `worker_bind_gpus` has bound
    /// all its GPUs. Signed by the supplier's authority; refused while paused.
    pub fn worker_register<'info>(
        ctx: Context<'info, WorkerRegister<'info>>,
        worker_index: u32,
        spec: WorkerSpec,
    ) -> Result<()> {
        WorkerRegister::handler(ctx, worker_index, spec)
    }

    /// Binds GPUs to a registered worker (`gpus`: their UUID hashes, strictly ascending and above those already bound,
    /// at most `MAX_GPUS_PER_BIND`); a GPU that backs another worker, or one beyond the spec's count, is refused.
    /// Signed by the supplier's authority. Remaining accounts: one GPU record PDA `["gpu", uuid_hash]` per GPU in the
    /// order of `gpus`, writable, created here.
    pub fn worker_bind_gpus<'info>(ctx: Context<'info, WorkerBindGpus<'info>>, gpus: Vec<[u8; 32]>) -> Result<()> {
        WorkerBindGpus::handler(ctx, gpus)
    }

    /// Replaces a worker's spec and recomputes its bond under the current config. While leased, the hardware and device
    /// key must stay as booked; a new price or region applies to future bookings only. A new device key moves the
    /// worker's device record. Signed by the supplier's authority.
    pub fn worker_update(ctx: Context<WorkerUpdate>, spec: WorkerSpec) -> Result<()> {
        WorkerUpdate::handler(ctx, spec)
    }

    /// Sets whether new bookings may pick the worker; an existing lease is not affected. Signed by the supplier's
    /// authority.
    pub fn worker_set_available(ctx: Context<WorkerManage>, available: bool) -> Result<()> {
        WorkerManage::worker_set_available(ctx, available)
    }

    /// Removes a worker that is not leased, not jailed and has no faults counting in its jail window, releasing its
    /// bond and closing its account, device record and GPU records (rent to the authority). Signed by the supplier's
    /// authority. Remaining accounts: the records `["gpu", uuid_hash]` of all its GPUs in ascending hash order,
    /// writable.
    pub fn worker_deregister<'info>(ctx: Context<'info, WorkerDeregister<'info>>) -> Result<()> {
        WorkerDeregister::handler(ctx)
    }

    /// Lets a jailed worker be booked again once its cool-down has passed; its fault window is kept, so one more fault
    /// in it jails it again. Signed by the supplier's authority.
    pub fn worker_unjail(ctx: Context<WorkerManage>) -> Result<()> {
        WorkerManage::worker_unjail(ctx)
    }

    /// Opens a cluster (PDA `["cluster", renter, cluster_id]`) booked for `hours` whole hours from now, with its escrow
    /// (`["escrow", cluster]`); workers join with `cluster_add_workers`. Signed by the renter; refused while paused.
    pub fn cluster_create(
        ctx: Context<ClusterCreate>,
        cluster_id: u64,
        hours: u32,
        purpose: ClusterPurpose,
    ) -> Result<()> {
        ClusterCreate::handler(ctx, cluster_id, hours, purpose)
    }

    /// Books workers into the renter's running cluster, each on the renter's `terms` for it (same order) and at its
    /// current price, locking collateral from its supplier's free stake; the renter pays all their escrow in one
    /// transfer. Signed by the renter; refused while paused. Remaining accounts: `(worker, supplier, lease)` triples,
    /// writable, each lease the PDA `["lease", cluster, worker]` created here.
    pub fn cluster_add_workers<'info>(ctx: Context<'info, ClusterFund<'info>>, terms: Vec<BookingTerms>) -> Result<()> {
        ClusterFund::cluster_add_workers(ctx, terms)
    }

    /// Books `hours` more for every running lease of the cluster and takes their escrow from the renter now; a lease
    /// never runs past the latest end its supplier accepted (what was escrowed beyond is refunded at its close). Signed
    /// by the renter; refused while paused.
    pub fn cluster_extend<'info>(ctx: Context<'info, ClusterFund<'info>>, hours: u32) -> Result<()> {
        ClusterFund::cluster_extend(ctx, hours)
    }

    /// Removes one lease's worker from the renter's running cluster from now on: its proven time until now is still
    /// paid, and the rest of its escrow is refunded when the lease settles. Signed by the renter.
    pub fn cluster_remove_worker(ctx: Context<ClusterRemoveWorker>) -> Result<()> {
        ClusterRemoveWorker::handler(ctx)
    }

    /// Declares or replaces the container images allowed on the cluster's GPUs (`images`: `Workload::image_hash`es,
    /// strictly ascending) in its workload account `["workload", cluster]`, created on first use. Signed by the renter,
    /// while the cluster is open.
    pub fn cluster_set_workload(ctx: Context<ClusterSetWorkload>, images: Vec<[u8; 32]>) -> Result<()> {
        ClusterSetWorkload::handler(ctx, images)
    }

    /// Ends the renter's cluster now: its leases stop accruing, and each refunds its unproven time once its last
    /// attestation has landed and passed the dispute window. Signed by the renter.
    pub fn cluster_end(ctx: Context<ClusterEnd>) -> Result<()> {
        ClusterEnd::handler(ctx)
    }

    /// Closes a cluster whose end has passed and whose leases have all settled, returning what is left in escrow and
    /// the rent to the renter. Signed by the renter. Remaining accounts: optionally the cluster's workload
    /// `["workload", cluster]`, writable, closed too (an address with no account is passed over).
    pub fn cluster_close<'info>(ctx: Context<'info, ClusterClose<'info>>) -> Result<()> {
        ClusterClose::handler(ctx)
    }

    /// Records one oracle's cumulative `reports` for the window ending at `window_end`, on the evidence under
    /// `evidence_root`: each lease's totals become what `oracle_threshold` current oracles agree on, and never
    /// decrease. Only a configured oracle may call it. Remaining accounts: the leases in report order, writable (a
    /// lease closed since is skipped).
    pub fn lease_attest<'info>(
        ctx: Context<'info, LeaseAttest<'info>>,
        window_end: i64,
        evidence_root: [u8; 32],
        reports: Vec<LeaseReport>,
    ) -> Result<()> {
        LeaseAttest::handler(ctx, window_end, evidence_root, reports)
    }

    /// Permissionless crank: pays a lease's newly final seconds (supplier share to its earnings vault, fee to the
    /// treasury), slashes its newly final faults from its collateral and lapses an expired dispute; once all is final
    /// it refunds the renter, releases collateral and worker, and closes the lease. Remaining accounts, with incentives
    /// enabled: `[incentive_pool, incentive_epoch, supplier_incentive, payer (signer), system_program]`.
    pub fn lease_settle<'info>(ctx: Context<'info, LeaseSettle<'info>>) -> Result<()> {
        LeaseSettle::handler(ctx)
    }

    /// Contests a lease's attested time and faults, posting the configured bond into the cluster's escrow; nothing more
    /// becomes final until the oracles' verdicts or the admin decide, or the dispute lapses after the timeout. Signed
    /// by the cluster's renter or the supplier's authority, within the lease's dispute window.
    pub fn lease_dispute(ctx: Context<LeaseDispute>) -> Result<()> {
        LeaseDispute::handler(ctx)
    }

    /// Decides an open dispute: the lease's proven seconds and faults up to `as_of`, final at once, never below what
    /// was final nor beyond what the lease ran. An `upheld` dispute gets its bond back; a rejected one forfeits it to
    /// the treasury. Admin only.
    pub fn lease_dispute_resolve(
        ctx: Context<LeaseDisputeResolve>,
        proven_secs: u64,
        faults: u64,
        as_of: i64,
        upheld: bool,
    ) -> Result<()> {
        LeaseDisputeResolve::handler(ctx, proven_secs, faults, as_of, upheld)
    }

    /// One oracle's re-judgment of the dispute opened at `dispute_opened_at` (`proven_secs` and `faults`, on the
    /// evidence under `evidence_root`); one per oracle and dispute. Once the missing verdicts can no longer change what
    /// `oracle_threshold` oracles agree on, that quorum decides the dispute as the admin would. Only a configured
    /// oracle may call it.
    pub fn lease_dispute_verdict(
        ctx: Context<LeaseDisputeVerdict>,
        dispute_opened_at: i64,
        proven_secs: u64,
        faults: u64,
        evidence_root: [u8; 32],
    ) -> Result<()> {
        LeaseDisputeVerdict::handler(ctx, dispute_opened_at, proven_secs, faults, evidence_root)
    }

    /// Pays the supplier everything its settled leases earned, from its earnings vault to `destination`. Signed by the
    /// supplier's authority; allowed while paused.
    pub fn earnings_claim(ctx: Context<EarningsClaim>) -> Result<()> {
        EarningsClaim::handler(ctx)
    }

    /// Opens the incentive pool (PDA `["incentive_pool"]`) and its stake-mint vault (`["incentive_vault"]`): settlement
    /// then credits what renters pay for final seconds to emission epochs of `emission_epoch_secs`, each paying up to
    /// `emission_per_epoch` pro rata. Admin only; needs a non-zero protocol fee.
    pub fn incentives_init(
        ctx: Context<IncentivesInit>,
        emission_per_epoch: u64,
        emission_epoch_secs: i64,
    ) -> Result<()> {
        IncentivesInit::handler(ctx, emission_per_epoch, emission_epoch_secs)
    }

    /// Moves `amount` stake tokens from the admin's account into the incentive vault and adds what arrived to the
    /// pool's funds. Admin only.
    pub fn incentives_fund(ctx: Context<IncentivesFund>, amount: u64) -> Result<()> {
        IncentivesFund::handler(ctx, amount)
    }

    /// Pays the supplier its pro-rata share of an ended epoch's emission and closes its credit record for that epoch
    /// (rent back to whoever paid it). Signed by the supplier's authority; allowed while paused.
    pub fn incentives_claim(ctx: Context<IncentivesClaim>) -> Result<()> {
        IncentivesClaim::handler(ctx)
    }
}
