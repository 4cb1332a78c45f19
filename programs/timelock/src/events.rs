//! One event per state change, emitted with `emit_cpi!` so that it survives log truncation. Each carries the
//! resulting state an indexer needs, so it never has to read accounts to follow the chain, and ends with the
//! same `timestamp` (the unix time of the instruction, from the `Clock` sysvar).

use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::program::invoke_signed;

use crate::state::{ClusterPurpose, ConfigParams, WorkerSpec};

/// The protocol was set up (`config_init`).
#[event]
pub struct ConfigInitialized {
    /// The first admin: the program's upgrade authority.
    pub admin: Pubkey,
    /// Mint of stake, collateral, slashes and incentives.
    pub stake_mint: Pubkey,
    /// Mint renters pay in and suppliers earn in.
    pub payment_mint: Pubkey,
    /// The stake vault (PDA token account `["stake_vault", config]`).
    pub stake_vault: Pubkey,
    /// The initial parameters.
    pub params: ConfigParams,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// The admin replaced the protocol parameters (`config_update`).
#[event]
pub struct ConfigUpdated {
    /// The admin who changed them.
    pub admin: Pubkey,
    /// The new parameters.
    pub params: ConfigParams,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// The admin proposed a successor, or cancelled a proposal (`admin_transfer`).
#[event]
pub struct AdminTransferProposed {
    /// The current admin.
    pub admin: Pubkey,
    /// The proposed admin; `Pubkey::default()` when the proposal was cancelled.
    pub pending_admin: Pubkey,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// The proposed admin accepted (`admin_accept`).
#[event]
pub struct AdminTransferred {
    /// The admin until now.
    pub previous_admin: Pubkey,
    /// The new admin.
    pub admin: Pubkey,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// The admin paused or unpaused the protocol (`pause`, `unpause`).
#[event]
pub struct PauseChanged {
    /// The admin who changed it.
    pub admin: Pubkey,
    /// Whether the protocol is now paused.
    pub paused: bool,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A new supplier registered (`supplier_register`).
#[event]
pub struct SupplierRegistered {
    /// The supplier record (PDA `["supplier", authority]`).
    pub supplier: Pubkey,
    /// The key that signs for it.
    pub authority: Pubkey,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// Emitted by every instruction that moves a supplier's stake; carries the totals after the change.
#[event]
pub struct StakeChanged {
    /// The supplier record.
    pub supplier: Pubkey,
    /// Which instruction moved the stake.
    pub kind: StakeChangeKind,
    /// Stake-mint base units deposited (as received), queued or withdrawn.
    pub amount: u64,
    /// The supplier's stake in the vault after the change.
    pub staked: u64,
    /// Its stake queued for withdrawal after the change.
    pub unbonding: u64,
    /// When the queued stake may be withdrawn; 0 when nothing is queued.
    pub unbond_ready_at: i64,
    /// Its stake bonded by workers.
    pub reserved: u64,
    /// Its stake locked as lease collateral.
    pub locked: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// What moved a supplier's stake.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StakeChangeKind {
    /// `stake_deposit`: tokens came into the stake vault.
    Deposit,
    /// `stake_unbond`: free stake was queued for withdrawal.
    Unbond,
    /// `stake_withdraw`: queued stake left the vault.
    Withdraw,
}

/// A supplier registered a worker (`worker_register`).
#[event]
pub struct WorkerRegistered {
    /// The worker (PDA `["worker", supplier, worker_index (u32 LE)]`).
    pub worker: Pubkey,
    /// Its supplier.
    pub supplier: Pubkey,
    /// The supplier's number for the worker.
    pub worker_index: u32,
    /// The declared spec.
    pub spec: WorkerSpec,
    /// Stake bonded for the worker.
    pub bonded_stake: u64,
    /// The supplier's stake bonded by all its workers, after this one.
    pub supplier_reserved: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A supplier bound GPUs to a worker (`worker_bind_gpus`).
#[event]
pub struct WorkerGpusBound {
    /// The worker.
    pub worker: Pubkey,
    /// Its supplier.
    pub supplier: Pubkey,
    /// UUID hashes (`Gpu::uuid_hash`) of the GPUs bound here, ascending.
    pub gpus: Vec<[u8; 32]>,
    /// GPUs bound to the worker so far; it is bookable once this reaches its spec's `gpu_count`.
    pub gpus_bound: u16,
    /// Digest of the GPUs bound so far (`Gpu::set_digest`).
    pub gpu_set: [u8; 32],
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A supplier replaced a worker's spec (`worker_update`).
#[event]
pub struct WorkerUpdated {
    /// The worker.
    pub worker: Pubkey,
    /// Its supplier.
    pub supplier: Pubkey,
    /// The new spec.
    pub spec: WorkerSpec,
    /// Stake bonded for the worker under the new spec.
    pub bonded_stake: u64,
    /// The supplier's stake bonded by all its workers, after the change.
    pub supplier_reserved: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A supplier opened or closed a worker to new bookings (`worker_set_available`).
#[event]
pub struct WorkerAvailabilityChanged {
    /// The worker.
    pub worker: Pubkey,
    /// Whether new bookings may pick it.
    pub available: bool,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A supplier removed a worker (`worker_deregister`).
#[event]
pub struct WorkerDeregistered {
    /// The worker, now closed.
    pub worker: Pubkey,
    /// Its supplier.
    pub supplier: Pubkey,
    /// The worker's bond, back in the supplier's free stake.
    pub released_stake: u64,
    /// The supplier's stake still bonded by its other workers.
    pub supplier_reserved: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A jailed worker may be booked again (`worker_unjail`).
#[event]
pub struct WorkerUnjailed {
    /// The worker.
    pub worker: Pubkey,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A renter opened a cluster (`cluster_create`).
#[event]
pub struct ClusterCreated {
    /// The cluster (PDA `["cluster", renter, cluster_id (u64 LE)]`).
    pub cluster: Pubkey,
    /// Who booked it.
    pub renter: Pubkey,
    /// The renter's number for it.
    pub cluster_id: u64,
    /// What the renter runs on it.
    pub purpose: ClusterPurpose,
    /// Start of the booking.
    pub start_ts: i64,
    /// Booked end.
    pub end_ts: i64,
    /// Booked whole hours.
    pub hours: u32,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// One lease of a `LeasesBooked` batch.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct LeaseBooked {
    /// The lease (PDA `["lease", cluster, worker]`).
    pub lease: Pubkey,
    /// The worker booked.
    pub worker: Pubkey,
    /// The worker's supplier.
    pub supplier: Pubkey,
    /// Price locked into the lease.
    pub price_per_gpu_hour: u64,
    /// GPUs of the worker.
    pub gpu_count: u16,
    /// Stake locked from the supplier as the lease's collateral.
    pub collateral: u64,
    /// The supplier's locked collateral in total, after this booking.
    pub supplier_locked: u64,
}

/// A renter booked workers into its cluster (`cluster_add_workers`).
#[event]
pub struct LeasesBooked {
    /// The cluster.
    pub cluster: Pubkey,
    /// When the leases started (the instruction's time).
    pub start_ts: i64,
    /// The cluster's booked end.
    pub end_ts: i64,
    /// Escrow paid by the renter for this batch.
    pub deposit: u64,
    /// The cluster's cost per hour after the batch.
    pub hourly_rate_total: u64,
    /// The leases booked, in the order of the instruction's triples.
    pub leases: Vec<LeaseBooked>,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A renter booked more hours for its cluster (`cluster_extend`).
#[event]
pub struct ClusterExtended {
    /// The cluster.
    pub cluster: Pubkey,
    /// Hours added.
    pub added_hours: u32,
    /// Booked hours in total, after the extension.
    pub hours: u32,
    /// The new booked end.
    pub end_ts: i64,
    /// Escrow the renter paid for the added hours.
    pub deposit: u64,
    /// The cluster's deposits in total, after this one.
    pub deposited: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A renter removed a worker from its cluster (`cluster_remove_worker`).
#[event]
pub struct LeaseRemoved {
    /// The cluster.
    pub cluster: Pubkey,
    /// The lease removed.
    pub lease: Pubkey,
    /// When the lease stopped accruing.
    pub removed_at: i64,
    /// The cluster's cost per hour after the removal.
    pub hourly_rate_total: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A renter ended its cluster early (`cluster_end`).
#[event]
pub struct ClusterEnded {
    /// The cluster.
    pub cluster: Pubkey,
    /// Its end now: the instruction's time, or the booked end if that came first.
    pub end_ts: i64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A renter closed its settled cluster (`cluster_close`); carries the cluster's lifetime totals.
#[event]
pub struct ClusterClosed {
    /// The cluster, now closed.
    pub cluster: Pubkey,
    /// Escrow the renter deposited, in total.
    pub deposited: u64,
    /// Supplier shares paid out of escrow, in total.
    pub paid_to_suppliers: u64,
    /// Protocol fees paid out of escrow, in total.
    pub fees: u64,
    /// Escrow refunded to the renter, in total.
    pub refunded: u64,
    /// Tokens found in escrow beyond its accounting (sent by someone to the escrow) returned to the renter.
    pub swept: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// The renter declared or changed what may run on its cluster's GPUs.
#[event]
pub struct WorkloadSet {
    /// The cluster.
    pub cluster: Pubkey,
    /// Hashes of the allowed images (`Workload::image_hash`), ascending.
    pub images: Vec<[u8; 32]>,
    /// Images no longer listed that stay allowed for the grace period.
    pub retiring: Vec<[u8; 32]>,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// One lease of a `LeasesAttested` batch.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct AttestedLease {
    /// The lease.
    pub lease: Pubkey,
    /// False when this oracle's report was stale or a replay and changed nothing.
    pub accepted: bool,
    /// The quorum's values after this report.
    pub proven_secs: u64,
    /// The quorum's faults after this report.
    pub faults: u64,
    /// The lease's final (payable) seconds after this report.
    pub final_secs: u64,
}

/// An oracle attested a batch of leases (`lease_attest`).
#[event]
pub struct LeasesAttested {
    /// The oracle.
    pub oracle: Pubkey,
    /// End of the attested window.
    pub window_end: i64,
    /// Merkle root of the evidence the oracle judged for these leases (see `OracleVote::evidence_root`).
    pub evidence_root: [u8; 32],
    /// The leases attested, in report order (closed ones left out).
    pub leases: Vec<AttestedLease>,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A lease was settled (`lease_settle`): what moved, and the state after.
#[event]
pub struct LeaseSettled {
    /// The lease.
    pub lease: Pubkey,
    /// Its cluster.
    pub cluster: Pubkey,
    /// Its worker.
    pub worker: Pubkey,
    /// Its supplier.
    pub supplier: Pubkey,
    /// The lease's final seconds, paid up to now.
    pub final_secs: u64,
    /// Moved by this settlement.
    pub paid_to_supplier: u64,
    /// Protocol fee charged on the seconds this settlement made final (part of the gross the renter paid). It
    /// stays in the cluster's escrow until the lease closes.
    pub fee: u64,
    /// Moved from escrow to the treasury by this settlement: at the lease's close, every fee it charged; 0 before.
    pub fees_to_treasury: u64,
    /// Escrow refunded to the renter by this settlement.
    pub refund: u64,
    /// Stake slashed from the supplier by this settlement.
    pub slashed: u64,
    /// The renter's part of `slashed`; the rest went to the treasury.
    pub slash_to_renter: u64,
    /// Cumulative after this settlement.
    pub gross_paid: u64,
    /// The lease's attested faults.
    pub faults: u64,
    /// The worker's `jailed_until` after this settlement (non-zero while jailed).
    pub jailed_until: i64,
    /// Whether the lease closed, releasing its worker and collateral.
    pub closed: bool,
    /// The supplier's unclaimed earnings after this settlement.
    pub supplier_earnings_unclaimed: u64,
    /// The supplier's stake after this settlement.
    pub supplier_staked: u64,
    /// The supplier's locked collateral after this settlement.
    pub supplier_locked: u64,
    /// Credit (payment base units the renter paid) added to the incentive pool's current epoch.
    pub incentive_credit: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A lease party contested a lease's attested totals (`lease_dispute`).
#[event]
pub struct DisputeOpened {
    /// The lease.
    pub lease: Pubkey,
    /// The renter or the supplier's authority.
    pub disputer: Pubkey,
    /// Bond posted into the cluster's escrow.
    pub bond: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A dispute was decided, by the admin (`lease_dispute_resolve`) or the oracles' verdicts (`lease_dispute_verdict`).
#[event]
pub struct DisputeResolved {
    /// The lease.
    pub lease: Pubkey,
    /// Who opened the dispute.
    pub disputer: Pubkey,
    /// Whether the decision went the disputer's way.
    pub upheld: bool,
    /// The decided proven seconds.
    pub proven_secs: u64,
    /// The decided faults.
    pub faults: u64,
    /// Bond paid back to the disputer.
    pub bond_returned: u64,
    /// Bond forfeited to the treasury.
    pub bond_forfeited: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// An oracle's re-judgment of a disputed lease, on the evidence under `evidence_root`; the quorum of these
/// decides the dispute (`DisputeResolved` follows in the same instruction once it is reached).
#[event]
pub struct DisputeVerdictGiven {
    /// The disputed lease.
    pub lease: Pubkey,
    /// The oracle.
    pub oracle: Pubkey,
    /// Seconds it finds proven, from the lease's start or last resolution to the disputed window's end.
    pub proven_secs: u64,
    /// Faults it finds over the same span.
    pub faults: u64,
    /// Merkle root of the evidence it judged on.
    pub evidence_root: [u8; 32],
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// Nobody resolved a dispute in time: the attested totals stand and the bond went to the other party.
#[event]
pub struct DisputeLapsed {
    /// The lease.
    pub lease: Pubkey,
    /// Who opened the dispute.
    pub disputer: Pubkey,
    /// The other party: the supplier (earnings vault) or the renter.
    pub bond_to: Pubkey,
    /// The bond paid to `bond_to`.
    pub bond: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A supplier claimed its earnings (`earnings_claim`).
#[event]
pub struct EarningsClaimed {
    /// The supplier.
    pub supplier: Pubkey,
    /// Payment-mint base units paid.
    pub amount: u64,
    /// The supplier's claimed earnings in total, after this claim.
    pub earnings_claimed: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// The incentive pool was opened (`incentives_init`) or funded (`incentives_fund`).
#[event]
pub struct IncentivesChanged {
    /// Most an epoch pays out, in stake-mint base units.
    pub emission_per_epoch: u64,
    /// Length of an emission epoch.
    pub emission_epoch_secs: i64,
    /// Stake-mint base units deposited into the pool, in total.
    pub funded: u64,
    /// Start of epoch 0.
    pub genesis_ts: i64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// A supplier claimed its incentives for an epoch (`incentives_claim`).
#[event]
pub struct IncentivesClaimed {
    /// The supplier.
    pub supplier: Pubkey,
    /// The epoch claimed.
    pub epoch: u64,
    /// The supplier's credit in the epoch.
    pub credit: u64,
    /// The epoch's credit in total.
    pub epoch_credit: u64,
    /// Stake-mint base units paid: the epoch's emission pro rata to `credit`.
    pub amount: u64,
    /// Unix time of the instruction.
    pub timestamp: i64,
}

/// Emits `event` exactly as `emit_cpi!` does (a self-invocation signed by the event authority whose data is
/// `EVENT_IX_TAG_LE ‖ discriminator ‖ borsh(event)`), but builds the data with two copies instead of the macro's
/// byte-by-byte iterator, which costs several CU per byte on SBF.
pub fn emit<'info, E: anchor_lang::Event>(event_authority: &AccountInfo<'info>, event: &E) -> Result<()> {
    // The instruction data written once, in place: tag, discriminator, fields (about the event's size in memory).
    let mut data = Vec::with_capacity(EVENT_IX_TAG_LE.len() + E::DISCRIMINATOR.len() + std::mem::size_of::<E>());
    data.extend_from_slice(EVENT_IX_TAG_LE);
    data.extend_from_slice(E::DISCRIMINATOR);
    event.serialize(&mut data)?;
    let ix = Instruction {
        program_id: crate::ID,
        accounts: vec![AccountMeta::new_readonly(*event_authority.key, true)],
        data,
    };
    let seeds: &[&[u8]] = &[b"__event_authority", &[crate::EVENT_AUTHORITY_AND_BUMP.1]];
    invoke_signed(&ix, std::slice::from_ref(event_authority), &[seeds]).map_err(Into::into)
}
