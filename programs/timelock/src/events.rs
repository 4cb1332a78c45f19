//! One event per state change, emitted with `emit_cpi!` so that it survives log truncation. Each carries the
//! resulting state an indexer needs, so it never has to read accounts to follow the chain, and ends with the
//! same `timestamp` (the unix time of the instruction, from the `Clock` sysvar).

use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::program::invoke_signed;

use crate::state::{ClusterPurpose, ConfigParams, WorkerSpec};

#[event]
pub struct ConfigInitialized {
    pub admin: Pubkey,
    pub stake_mint: Pubkey,
    pub payment_mint: Pubkey,
    pub stake_vault: Pubkey,
    pub params: ConfigParams,
    pub timestamp: i64,
}

#[event]
pub struct ConfigUpdated {
    pub admin: Pubkey,
    pub params: ConfigParams,
    pub timestamp: i64,
}

#[event]
pub struct AdminTransferProposed {
    pub admin: Pubkey,
    pub pending_admin: Pubkey,
    pub timestamp: i64,
}

#[event]
pub struct AdminTransferred {
    pub previous_admin: Pubkey,
    pub admin: Pubkey,
    pub timestamp: i64,
}

#[event]
pub struct PauseChanged {
    pub admin: Pubkey,
    pub paused: bool,
    pub timestamp: i64,
}

#[event]
pub struct SupplierRegistered {
    pub supplier: Pubkey,
    pub authority: Pubkey,
    pub timestamp: i64,
}

/// Emitted by every instruction that moves a supplier's stake; carries the totals after the change.
#[event]
pub struct StakeChanged {
    pub supplier: Pubkey,
    pub kind: StakeChangeKind,
    pub amount: u64,
    pub staked: u64,
    pub unbonding: u64,
    pub unbond_ready_at: i64,
    pub reserved: u64,
    pub locked: u64,
    pub timestamp: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StakeChangeKind {
    Deposit,
    Unbond,
    Withdraw,
}

#[event]
pub struct WorkerRegistered {
    pub worker: Pubkey,
    pub supplier: Pubkey,
    pub worker_index: u32,
    pub spec: WorkerSpec,
    /// Digest of the GPUs bound to the worker (`Gpu::set_digest`).
    pub gpu_set: [u8; 32],
    pub bonded_stake: u64,
    pub supplier_reserved: u64,
    pub timestamp: i64,
}

#[event]
pub struct WorkerUpdated {
    pub worker: Pubkey,
    pub supplier: Pubkey,
    pub spec: WorkerSpec,
    pub bonded_stake: u64,
    pub supplier_reserved: u64,
    pub timestamp: i64,
}

#[event]
pub struct WorkerAvailabilityChanged {
    pub worker: Pubkey,
    pub available: bool,
    pub timestamp: i64,
}

#[event]
pub struct WorkerDeregistered {
    pub worker: Pubkey,
    pub supplier: Pubkey,
    pub released_stake: u64,
    pub supplier_reserved: u64,
    pub timestamp: i64,
}

#[event]
pub struct WorkerUnjailed {
    pub worker: Pubkey,
    pub timestamp: i64,
}

#[event]
pub struct ClusterCreated {
    pub cluster: Pubkey,
    pub renter: Pubkey,
    pub cluster_id: u64,
    pub purpose: ClusterPurpose,
    pub start_ts: i64,
    pub end_ts: i64,
    pub hours: u32,
    pub timestamp: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct LeaseBooked {
    pub lease: Pubkey,
    pub worker: Pubkey,
    pub supplier: Pubkey,
    pub price_per_gpu_hour: u64,
    pub gpu_count: u16,
    pub collateral: u64,
    pub supplier_locked: u64,
}

#[event]
pub struct LeasesBooked {
    pub cluster: Pubkey,
    pub start_ts: i64,
    pub end_ts: i64,
    /// Escrow paid by the renter for this batch.
    pub deposit: u64,
    pub hourly_rate_total: u64,
    pub leases: Vec<LeaseBooked>,
    pub timestamp: i64,
}

#[event]
pub struct ClusterExtended {
    pub cluster: Pubkey,
    pub added_hours: u32,
    pub hours: u32,
    pub end_ts: i64,
    pub deposit: u64,
    pub deposited: u64,
    pub timestamp: i64,
}

#[event]
pub struct LeaseRemoved {
    pub cluster: Pubkey,
    pub lease: Pubkey,
    pub removed_at: i64,
    pub hourly_rate_total: u64,
    pub timestamp: i64,
}

#[event]
pub struct ClusterEnded {
    pub cluster: Pubkey,
    pub end_ts: i64,
    pub timestamp: i64,
}

#[event]
pub struct ClusterClosed {
    pub cluster: Pubkey,
    pub deposited: u64,
    pub paid_to_suppliers: u64,
    pub fees: u64,
    pub refunded: u64,
    /// Tokens found in escrow beyond its accounting (sent by someone to the escrow) returned to the renter.
    pub swept: u64,
    pub timestamp: i64,
}

/// The renter declared or changed what may run on its cluster's GPUs.
#[event]
pub struct WorkloadSet {
    pub cluster: Pubkey,
    pub images: Vec<[u8; 32]>,
    /// Images no longer listed that stay allowed for the grace period.
    pub retiring: Vec<[u8; 32]>,
    pub timestamp: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct AttestedLease {
    pub lease: Pubkey,
    /// False when this oracle's report was stale or a replay and changed nothing.
    pub accepted: bool,
    /// The quorum's values after this report.
    pub proven_secs: u64,
    pub faults: u64,
    pub final_secs: u64,
}

#[event]
pub struct LeasesAttested {
    pub oracle: Pubkey,
    pub window_end: i64,
    /// Merkle root of the evidence the oracle judged for these leases (see `OracleVote::evidence_root`).
    pub evidence_root: [u8; 32],
    pub leases: Vec<AttestedLease>,
    pub timestamp: i64,
}

#[event]
pub struct LeaseSettled {
    pub lease: Pubkey,
    pub cluster: Pubkey,
    pub worker: Pubkey,
    pub supplier: Pubkey,
    pub final_secs: u64,
    /// Moved by this settlement.
    pub paid_to_supplier: u64,
    pub fee: u64,
    pub refund: u64,
    pub slashed: u64,
    pub slash_to_renter: u64,
    /// Cumulative after this settlement.
    pub gross_paid: u64,
    pub faults: u64,
    pub jailed_until: i64,
    pub closed: bool,
    pub supplier_earnings_unclaimed: u64,
    pub supplier_staked: u64,
    pub supplier_locked: u64,
    /// Credit (payment base units the renter paid) added to the incentive pool's current epoch.
    pub incentive_credit: u64,
    pub timestamp: i64,
}

#[event]
pub struct DisputeOpened {
    pub lease: Pubkey,
    pub disputer: Pubkey,
    pub bond: u64,
    pub timestamp: i64,
}

#[event]
pub struct DisputeResolved {
    pub lease: Pubkey,
    pub disputer: Pubkey,
    pub upheld: bool,
    pub proven_secs: u64,
    pub faults: u64,
    pub bond_returned: u64,
    pub bond_forfeited: u64,
    pub timestamp: i64,
}

/// An oracle's re-judgment of a disputed lease, on the evidence under `evidence_root`; the quorum of these
/// decides the dispute (`DisputeResolved` follows in the same instruction once it is reached).
#[event]
pub struct DisputeVerdictGiven {
    pub lease: Pubkey,
    pub oracle: Pubkey,
    pub proven_secs: u64,
    pub faults: u64,
    pub evidence_root: [u8; 32],
    pub timestamp: i64,
}

/// Nobody resolved a dispute in time: the attested totals stand and the bond went to the other party.
#[event]
pub struct DisputeLapsed {
    pub lease: Pubkey,
    pub disputer: Pubkey,
    /// The other party: the supplier (earnings vault) or the renter.
    pub bond_to: Pubkey,
    pub bond: u64,
    pub timestamp: i64,
}

#[event]
pub struct EarningsClaimed {
    pub supplier: Pubkey,
    pub amount: u64,
    pub earnings_claimed: u64,
    pub timestamp: i64,
}

#[event]
pub struct IncentivesChanged {
    pub emission_per_epoch: u64,
    pub emission_epoch_secs: i64,
    pub funded: u64,
    pub genesis_ts: i64,
    pub timestamp: i64,
}

#[event]
pub struct IncentivesClaimed {
    pub supplier: Pubkey,
    pub epoch: u64,
    pub credit: u64,
    pub epoch_credit: u64,
    pub amount: u64,
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
