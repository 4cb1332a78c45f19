use anchor_lang::prelude::*;

use crate::errors::TimelockError;
use crate::math;

/// A GPU owner's stake, standing and earnings. PDA `["supplier", authority]`; its earnings vault is the PDA
/// token account `["earnings", supplier]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Supplier {
    /// The key that signs for the supplier, part of its seeds.
    pub authority: Pubkey,
    /// Its payment-mint earnings vault (PDA token account `["earnings", supplier]`).
    pub earnings_vault: Pubkey,
    /// Stake-mint base units held for this supplier in the stake vault (includes `unbonding`).
    pub staked: u64,
    /// Queued by `stake_unbond`; withdrawable from `unbond_ready_at`.
    pub unbonding: u64,
    /// When `unbonding` may be withdrawn; 0 when nothing is queued.
    pub unbond_ready_at: i64,
    /// Bonded by registered workers (base × multiplier × GPUs each).
    pub reserved: u64,
    /// Collateral locked by active leases.
    pub locked: u64,
    /// Stake slashed from this supplier, ever.
    pub slashed_total: u64,
    /// Faults slashed on all of this supplier's leases, ever: a record that deregistering a worker cannot wash.
    pub fault_count: u64,
    /// Payment-mint earnings settled into the supplier's earnings vault and not yet claimed.
    pub earnings_unclaimed: u64,
    /// Earnings paid out by `earnings_claim`, ever.
    pub earnings_claimed: u64,
    /// Leases of its workers not yet closed.
    pub active_leases: u32,
    /// Workers registered now.
    pub worker_count: u32,
    /// GPUs of the workers registered now.
    pub gpu_count: u32,
    /// When it registered.
    pub created_at: i64,
    /// Bump of the account's PDA.
    pub bump: u8,
    /// Zeroed room for fields added later without reallocating existing accounts. Last, so that the offsets of
    /// the fields above never move.
    pub _reserved: [u8; 64],
}

impl Supplier {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    pub fn free_stake(&self) -> Result<u64> {
        math::free_stake(self.staked, self.unbonding, self.reserved, self.locked)
            .ok_or_else(|| error!(TimelockError::Overflow))
    }
}
