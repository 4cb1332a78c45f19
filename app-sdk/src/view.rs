//! The one JSON shape of each program account. The CLI's `-o json` prints these, the indexer stores them (its
//! tables have exactly these columns) and its API returns them, so a reader sees the same field names and values
//! wherever it looks. Derived fields (`bookable`, `free`, `disputed`) come from the program's own predicates.
//! Reading one ignores fields it does not know (a column a newer indexer added while an older one still serves),
//! but a missing field or an unknown enum value is an error.

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};
use timelock::state::{Cluster, ClusterPurpose, ClusterStatus, Lease, Supplier, Worker};

use crate::catalog;

/// An absent address (the program's `Pubkey::default()`) is `null`, not `"1111…"`.
fn optional(key: &Pubkey) -> Option<String> {
    (*key != Pubkey::default()).then(|| key.to_string())
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerView {
    pub address: String,
    pub supplier: String,
    pub worker_index: u32,
    /// Catalog name, e.g. `H100-SXM` (`unknown` for a code the catalog lacks).
    pub gpu_model: String,
    pub gpu_count: u16,
    pub vram_gib: u16,
    pub cpu_cores: u16,
    pub ram_gib: u32,
    pub region: String,
    pub connectivity_tier: u8,
    /// Bits: 1 SOC 2, 2 HIPAA, 4 end-to-end encryption.
    pub compliance: u8,
    pub green_energy: bool,
    /// Payment-mint base units.
    pub price_per_gpu_hour: u64,
    pub device_key: String,
    pub max_lease_hours: u32,
    pub available: bool,
    pub active_lease: Option<String>,
    pub bonded_stake: u64,
    /// Non-zero while jailed: a jailed worker stays jailed after its cool-down until `worker_unjail`.
    pub jailed_until: i64,
    pub fault_count: u64,
    pub registered_at: i64,
    /// `Worker::is_bookable`: available, not leased, not jailed, all its GPUs bound.
    pub bookable: bool,
}

impl WorkerView {
    pub fn new(address: &Pubkey, w: &Worker) -> Self {
        let s = &w.spec;
        WorkerView {
            address: address.to_string(),
            supplier: w.supplier.to_string(),
            worker_index: w.worker_index,
            gpu_model: catalog::gpu_model_name(s.gpu_model).unwrap_or("unknown").to_string(),
            gpu_count: s.gpu_count,
            vram_gib: s.vram_gib,
            cpu_cores: s.cpu_cores,
            ram_gib: s.ram_gib,
            region: catalog::region_name(&s.region),
            connectivity_tier: s.connectivity_tier,
            compliance: s.compliance,
            green_energy: s.green_energy,
            price_per_gpu_hour: s.price_per_gpu_hour,
            device_key: s.device_key.to_string(),
            max_lease_hours: s.max_lease_hours,
            available: w.available,
            active_lease: optional(&w.active_lease),
            bonded_stake: w.bonded_stake,
            jailed_until: w.jailed_until,
            fault_count: w.fault_count,
            registered_at: w.registered_at,
            bookable: w.is_bookable(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupplierView {
    pub address: String,
    pub authority: String,
    /// Stake-mint base units, as every amount below.
    pub staked: u64,
    pub unbonding: u64,
    pub unbond_ready_at: i64,
    pub reserved: u64,
    pub locked: u64,
    /// `Supplier::free_stake`: what may still back new workers or be unbonded.
    pub free: u64,
    pub slashed_total: u64,
    pub fault_count: u64,
    /// Payment-mint base units.
    pub earnings_unclaimed: u64,
    pub earnings_claimed: u64,
    pub active_leases: u32,
    pub worker_count: u32,
    pub gpu_count: u32,
    pub created_at: i64,
}

impl SupplierView {
    pub fn new(address: &Pubkey, s: &Supplier) -> Self {
        SupplierView {
            address: address.to_string(),
            authority: s.authority.to_string(),
            staked: s.staked,
            unbonding: s.unbonding,
            unbond_ready_at: s.unbond_ready_at,
            reserved: s.reserved,
            locked: s.locked,
            free: s.free_stake().unwrap_or(0),
            slashed_total: s.slashed_total,
            fault_count: s.fault_count,
            earnings_unclaimed: s.earnings_unclaimed,
            earnings_claimed: s.earnings_claimed,
            active_leases: s.active_leases,
            worker_count: s.worker_count,
            gpu_count: s.gpu_count,
            created_at: s.created_at,
        }
    }
}

/// `ClusterPurpose` by name; the names are the stored and served values, so an unknown one is an error.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Ray,
    Kubernetes,
    Containers,
    BareMetal,
}

impl From<ClusterPurpose> for Purpose {
    fn from(p: ClusterPurpose) -> Self {
        match p {
            ClusterPurpose::Ray => Purpose::Ray,
            ClusterPurpose::Kubernetes => Purpose::Kubernetes,
            ClusterPurpose::Containers => Purpose::Containers,
            ClusterPurpose::BareMetal => Purpose::BareMetal,
        }
    }
}

impl From<Purpose> for ClusterPurpose {
    fn from(p: Purpose) -> Self {
        match p {
            Purpose::Ray => ClusterPurpose::Ray,
            Purpose::Kubernetes => ClusterPurpose::Kubernetes,
            Purpose::Containers => ClusterPurpose::Containers,
            Purpose::BareMetal => ClusterPurpose::BareMetal,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Ended,
}

impl From<ClusterStatus> for Status {
    fn from(s: ClusterStatus) -> Self {
        match s {
            ClusterStatus::Open => Status::Open,
            ClusterStatus::Ended => Status::Ended,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterView {
    pub address: String,
    pub renter: String,
    pub cluster_id: u64,
    pub payment_mint: String,
    pub purpose: Purpose,
    pub status: Status,
    pub start_ts: i64,
    pub end_ts: i64,
    pub hours: u32,
    pub lease_count: u32,
    pub leases_open: u32,
    /// Payment-mint base units, as every amount below.
    pub hourly_rate_total: u64,
    pub deposited: u64,
    pub paid_to_suppliers: u64,
    /// Protocol fees sent to the treasury: each lease's, at its close (open leases hold theirs in escrow).
    pub fees: u64,
    pub refunded: u64,
}

impl ClusterView {
    pub fn new(address: &Pubkey, c: &Cluster) -> Self {
        ClusterView {
            address: address.to_string(),
            renter: c.renter.to_string(),
            cluster_id: c.cluster_id,
            payment_mint: c.payment_mint.to_string(),
            purpose: c.purpose.into(),
            status: c.status.into(),
            start_ts: c.start_ts,
            end_ts: c.end_ts,
            hours: c.hours,
            lease_count: c.lease_count,
            leases_open: c.leases_open,
            hourly_rate_total: c.hourly_rate_total,
            deposited: c.deposited,
            paid_to_suppliers: c.paid_to_suppliers,
            fees: c.fees,
            refunded: c.refunded,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeaseView {
    pub address: String,
    pub cluster: String,
    pub worker: String,
    pub supplier: String,
    /// Payment-mint base units.
    pub price_per_gpu_hour: u64,
    pub hourly_rate: u64,
    pub gpu_count: u16,
    /// Stake-mint base units the supplier locked for this lease.
    pub collateral: u64,
    pub start_ts: i64,
    pub max_end_ts: i64,
    /// When the worker was removed from the cluster (0 while it is in it).
    pub removed_at: i64,
    pub proven_secs: u64,
    pub final_secs: u64,
    pub faults: u64,
    pub final_faults: u64,
    /// What the renter paid for final seconds: the supplier's share and the fee.
    pub gross_paid: u64,
    /// The protocol fee charged on `gross_paid`, held in escrow until the lease closes and then sent to the
    /// treasury.
    pub fees_paid: u64,
    pub slashed: u64,
    pub disputer: Option<String>,
    /// `Lease::is_disputed`.
    pub disputed: bool,
}

impl LeaseView {
    pub fn new(address: &Pubkey, l: &Lease) -> Self {
        LeaseView {
            address: address.to_string(),
            cluster: l.cluster.to_string(),
            worker: l.worker.to_string(),
            supplier: l.supplier.to_string(),
            price_per_gpu_hour: l.price_per_gpu_hour,
            hourly_rate: l.hourly_rate,
            gpu_count: l.gpu_count,
            collateral: l.collateral,
            start_ts: l.start_ts,
            max_end_ts: l.max_end_ts,
            removed_at: l.removed_at,
            proven_secs: l.proven_secs,
            final_secs: l.final_secs,
            faults: l.faults,
            final_faults: l.final_faults,
            gross_paid: l.gross_paid,
            fees_paid: l.fees_paid,
            slashed: l.slashed,
            disputer: optional(&l.disputer),
            disputed: l.is_disputed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_enum_value_is_an_error_not_a_default() {
        assert_eq!(serde_json::from_str::<Purpose>("\"bare_metal\"").unwrap(), Purpose::BareMetal);
        assert!(serde_json::from_str::<Purpose>("\"warp\"").is_err());
        assert!(serde_json::from_str::<Status>("\"paused\"").is_err());
    }
}
